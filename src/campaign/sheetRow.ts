/**
 * The spreadsheet row of data row `row`: the header is sheet row 1. A quoted field over several lines
 * is still one spreadsheet row (Excel and LibreOffice show it as one cell), so physical lines do not
 * count; an empty line, which planning skips, would (ums assumes there is none: Excel writes none).
 * Human output names rows by it (DESIGN.md: `sheet_row`); JSON and the export's `row` keep the data row.
 */
export function sheetRow(row: number): number {
  return row + 1;
}
