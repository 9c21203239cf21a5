import { parseTemplate, type Template } from '../campaign/template.js';
import { InputError } from '../errors.js';
import { iconvLite } from '../text/cp949.js';
import { MAX_TEMPLATE_BYTES, readInputFile } from './readableFile.js';

export interface TemplateFile {
  template: Template;
  bytes: Buffer;
}

/** Read and parse a template file (UTF-8, or CP949 from a Korean Windows editor). */
export function readTemplateFile(file: string): TemplateFile {
  // templates over the cap are not message templates
  const bytes = readInputFile(file, {
    what: 'template',
    maxBytes: MAX_TEMPLATE_BYTES,
    tooLarge: (n) =>
      InputError.of('tplFile.tooLarge', {
        file,
        bytes: n.toLocaleString('en-US'),
        max: MAX_TEMPLATE_BYTES.toLocaleString('en-US'),
      }),
  });
  const bom16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
  if (
    bom16 ||
    (bytes.length >= 4 &&
      ((bytes[1] === 0 && bytes[3] === 0 && bytes[0] !== 0) ||
        (bytes[0] === 0 && bytes[2] === 0 && bytes[1] !== 0)))
  ) {
    throw InputError.of('tplFile.utf16', { file });
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw InputError.of('tplFile.nul', { file, byte: nul });
  let source: string;
  try {
    source = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    source = iconvLite().decode(bytes, 'cp949');
    if (source.includes('\uFFFD')) throw InputError.of('tplFile.encoding', { file });
  }
  return { template: parseTemplate(source, file), bytes };
}
