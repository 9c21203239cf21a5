import { createHash } from 'node:crypto';
import { sheetRow } from '../campaign/sheetRow.js';
import { InputError, type Msg } from '../errors.js';

/** DESIGN.md: letters of any script, digits, ".", "_", "-"; 1-64 (code points, after NFC). */
const CAMPAIGN_NAME = /^[\p{L}\p{N}][\p{L}\p{N}\p{M}._-]{0,63}$/u;
/** `<campaign>.test-N`: the name of a test send (planCampaign's testCampaignId), never a real campaign's. */
const TEST_NAME = /\.test-\d+$/u;

/**
 * A campaign name as typed (`--campaign 12월-주문접수-1차`), in NFC: a name typed on a terminal that
 * sends decomposed Hangul (macOS) is the same campaign. Control, format (invisible, bidi) and space
 * characters, "/" and every other symbol are refused: an InputError naming the first one.
 */
export function campaignName(raw: string): string {
  const id = raw.normalize('NFC');
  if (CAMPAIGN_NAME.test(id)) {
    // `<campaign>.test-N` names the test sends of <campaign> (`--test`): a real campaign by that
    // name would be taken for one of them (and one of them for it)
    if (TEST_NAME.test(id))
      throw new InputError(
        `--campaign "${id}": names ending in ".test-<number>" are reserved for test sends (--test); pass another --campaign`,
        { key: 'err.campaignTestName', params: { id } },
      );
    return id;
  }
  const chars = [...id];
  const bad = chars.find((ch, i) => !(i === 0 ? /^[\p{L}\p{N}]$/u : /^[\p{L}\p{N}\p{M}._-]$/u).test(ch));
  const why: Msg =
    chars.length === 0
      ? { key: 'campaignName.empty' }
      : chars.length > 64
        ? { key: 'campaignName.long', params: { n: chars.length } }
        : bad !== undefined
          ? {
              key: chars.indexOf(bad) === 0 ? 'campaignName.begins' : 'campaignName.contains',
              params: { ch: describeChar(bad) },
            }
          : { key: 'campaignName.notName' };
  throw InputError.of('err.campaignName', { id, why });
}

/** A campaign named on the command line (report, resume, cancel, export): the same NFC form as planning's. */
export function campaignArg(raw: string): string {
  return raw.normalize('NFC');
}

function describeChar(ch: string): string {
  const code = `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  return /^[\p{L}\p{N}\p{P}\p{S}]$/u.test(ch) ? `"${ch}" (${code})` : code;
}

/**
 * Every input that changes what a campaign sends (DESIGN.md): the same identity is the same campaign,
 * planned once and never sent twice. Kept on the campaign (settings.identity) so that a name used with
 * other inputs can say which of them differ.
 */
export interface CampaignIdentity {
  /** sha256 of the CSV's bytes */
  csv: string;
  /** sha256 of the template's bytes */
  template: string;
  phoneColumn: string | null;
  /** as asked (--encoding) */
  encoding: 'auto' | 'utf8' | 'cp949';
  /** the sender number the messages carry */
  from: string | null;
  /** the config's sender name (an ad must carry it) */
  senderName: string | null;
  /** sha256 of the template's images, in order (the template names them; their bytes are sent) */
  images: string[];
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

export function identityDigest(id: CampaignIdentity): string {
  return sha256(
    JSON.stringify([
      'ums-campaign-2',
      id.csv,
      id.template,
      id.phoneColumn,
      id.encoding,
      id.from,
      id.senderName,
      id.images,
    ]),
  );
}

/**
 * The digest ums wrote before the identity held the encoding and the sender (journal migration 5
 * and earlier): a campaign planned then is still found, so an upgrade never sends it again.
 */
export function legacyDigest(id: CampaignIdentity): string {
  return createHash('sha256')
    .update(id.csv)
    .update(id.template)
    .update(id.phoneColumn ?? '')
    .digest('hex');
}

/** What a campaign was planned with, as far as the journal knows it. */
export interface StoredCampaign {
  digest: string;
  settings: Record<string, unknown>;
}

/** The encoding a plan was read in: 'ascii' reads the same whatever was asked. */
function effectiveEncoding(settings: Record<string, unknown>): string | null {
  const detected = settings.detectedEncoding;
  return typeof detected === 'string' ? detected : null;
}

/**
 * The inputs in which a stored campaign differs from `wanted`, by the name a user knows them by; none:
 * it is the same campaign. An encoding asked differently but read the same (auto that found CP949 and
 * `--encoding cp949`; an ASCII file) is the same.
 */
export function identityDifferences(stored: StoredCampaign, wanted: CampaignIdentity): string[] {
  const s = stored.settings;
  const had = s.identity as CampaignIdentity | undefined;
  const out: string[] = [];
  const sameEncoding = (asked: string | undefined): boolean => {
    if (asked === wanted.encoding) return true;
    const read = effectiveEncoding(s);
    return read === 'ascii' || (wanted.encoding !== 'auto' && read === wanted.encoding);
  };
  if (!had) {
    // planned by an older ums: only its legacy digest and settings are known
    if (stored.digest !== legacyDigest(wanted)) out.push('the CSV, the template or --phone-column');
    if (!sameEncoding(typeof s.encoding === 'string' ? s.encoding : undefined)) out.push('--encoding');
    return out;
  }
  if (had.csv !== wanted.csv) out.push('the CSV');
  if (had.template !== wanted.template) out.push('the template');
  if (had.phoneColumn !== wanted.phoneColumn) out.push('--phone-column');
  if (!sameEncoding(had.encoding)) out.push('--encoding');
  if (had.from !== wanted.from) out.push('the sender number (from)');
  if (had.senderName !== wanted.senderName) out.push("the config's senderName");
  if (JSON.stringify(had.images ?? []) !== JSON.stringify(wanted.images)) out.push("the template's images");
  return out;
}

/** What a test campaign keeps in its settings. */
export interface TestSettings {
  /** the campaign it is a test of */
  of: string;
  /** the spreadsheet row of each of its messages (index: its row - 1) */
  sheetRows: number[];
}

/**
 * The spreadsheet row people are shown for a campaign's data row: a test send's rows are its own
 * (1, 2, … in the order sent), each standing for the sheet row it was rendered from.
 */
export function sheetRowOf(c: { settings: Record<string, unknown> }): (row: number) => number {
  const test = testOf(c);
  return test ? (row) => test.sheetRows[row - 1] ?? sheetRow(row) : sheetRow;
}

/** A test send's settings, or null for a campaign that is no test. */
export function testOf(c: { settings: Record<string, unknown> }): TestSettings | null {
  const t = c.settings.test as TestSettings | undefined;
  return t && typeof t.of === 'string' ? t : null;
}
