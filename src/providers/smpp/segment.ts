import iconv from 'iconv-lite';
import { isEucKrChar } from '../../text/eucKr.js';

/**
 * Encoding and splitting of SMPP short messages, done by ums (pure). A part never ends inside a
 * character: a UCS-2 surrogate pair and a KS C 5601 double-byte character stay in one part.
 */

export type Coding = 'ucs2' | 'ksc5601';
export type LongMode = 'udh' | 'payload' | 'sar';

export const DATA_CODING: Record<Coding, number> = { ucs2: 0x08, ksc5601: 0x0e };

/** User data of one SMS over the air. */
export const SMS_OCTETS = 140;
/** Most parts a concatenated message may have (the UDH's total is one octet). */
export const MAX_PARTS = 255;

export interface SegmentOptions {
  coding: Coding;
  mode: LongMode;
  /** UDH reference size: 8-bit (IE 0x00) or 16-bit (IE 0x08) */
  udhRefBits: 8 | 16;
}

/** What one submit_sm carries, besides addresses. */
export interface PartPdu {
  short_message: Buffer;
  esm_class: number;
  tlvs: Record<string, number | Buffer>;
  /** parts of the lane's rate this PDU costs (message_payload: the parts the SMSC will make) */
  cost: number;
}

export interface SegmentedMessage {
  coding: Coding;
  dataCoding: number;
  /** how many parts the recipient's phone gets */
  parts: number;
  pdus: PartPdu[];
}

/**
 * The coding a text goes out in: KS C 5601 when asked and every character is strict KS X 1001
 * (the planner has checked SMS/LMS texts already); otherwise UCS-2, which carries anything.
 */
export function effectiveCoding(text: string, preferred: Coding): Coding {
  if (preferred === 'ucs2') return 'ucs2';
  for (let i = 0; i < text.length; i++) if (!isEucKrChar(text.charCodeAt(i))) return 'ucs2';
  return 'ksc5601';
}

function udhLength(bits: 8 | 16): number {
  return bits === 8 ? 6 : 7;
}

/** Octets of user data per part of a concatenated message (the SMSC adds the UDH itself for SAR). */
export function partCapacity(opts: SegmentOptions): number {
  return SMS_OCTETS - udhLength(opts.mode === 'udh' ? opts.udhRefBits : 8);
}

/**
 * Where `text` splits, as string indices (each piece: [cuts[i], cuts[i+1])), so that every piece
 * encodes to at most `capacity` octets. One piece when the whole text fits one SMS.
 */
export function splitText(text: string, coding: Coding, capacity: number): number[] {
  const total = coding === 'ucs2' ? text.length * 2 : kscLength(text);
  if (total <= SMS_OCTETS) return [0, text.length];
  const cuts = [0];
  let used = 0;
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    let units = 1;
    let octets: number;
    if (coding === 'ucs2') {
      const pair =
        c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      units = pair ? 2 : 1;
      octets = units * 2;
    } else {
      octets = c < 0x80 ? 1 : 2;
    }
    if (used + octets > capacity) {
      cuts.push(i);
      used = 0;
    }
    used += octets;
    i += units;
  }
  cuts.push(text.length);
  return cuts;
}

function kscLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) n += text.charCodeAt(i) < 0x80 ? 1 : 2;
  return n;
}

export function encodeText(text: string, coding: Coding): Buffer {
  if (coding === 'ucs2') return Buffer.from(text, 'utf16le').swap16();
  return iconv.encode(text, 'cp949');
}

/** Parts `text` costs on the wire (and against the lane's rate). */
export function countParts(text: string, opts: SegmentOptions): number {
  const coding = effectiveCoding(text, opts.coding);
  return splitText(text, coding, partCapacity(opts)).length - 1;
}

/** The concatenation header: `05 00 03 ref total seq` (8-bit) or `06 08 04 refHi refLo total seq` (16-bit). */
export function udhHeader(ref: number, total: number, seq: number, bits: 8 | 16): Buffer {
  if (bits === 8) return Buffer.from([0x05, 0x00, 0x03, ref & 0xff, total, seq]);
  return Buffer.from([0x06, 0x08, 0x04, (ref >> 8) & 0xff, ref & 0xff, total, seq]);
}

/**
 * The submit_sm PDUs of one message. `ref` identifies the concatenated message at the phone
 * (8 or 16 bits are used). Throws RangeError over MAX_PARTS.
 */
export function segment(text: string, opts: SegmentOptions, ref: number): SegmentedMessage {
  const coding = effectiveCoding(text, opts.coding);
  const dataCoding = DATA_CODING[coding];
  const cuts = splitText(text, coding, partCapacity(opts));
  const parts = cuts.length - 1;
  if (parts > MAX_PARTS)
    throw new RangeError(`${parts} parts, over the ${MAX_PARTS} a concatenated message may have`);
  if (parts === 1)
    return {
      coding,
      dataCoding,
      parts,
      pdus: [{ short_message: encodeText(text, coding), esm_class: 0, tlvs: {}, cost: 1 }],
    };
  if (opts.mode === 'payload') {
    return {
      coding,
      dataCoding,
      parts,
      pdus: [
        {
          short_message: Buffer.alloc(0),
          esm_class: 0,
          tlvs: { message_payload: encodeText(text, coding) },
          cost: parts,
        },
      ],
    };
  }
  const pdus: PartPdu[] = [];
  for (let i = 0; i < parts; i++) {
    const piece = encodeText(text.slice(cuts[i], cuts[i + 1]), coding);
    if (opts.mode === 'udh') {
      pdus.push({
        short_message: Buffer.concat([udhHeader(ref, parts, i + 1, opts.udhRefBits), piece]),
        esm_class: 0x40,
        tlvs: {},
        cost: 1,
      });
    } else {
      pdus.push({
        short_message: piece,
        esm_class: 0,
        tlvs: { sar_msg_ref_num: ref & 0xffff, sar_total_segments: parts, sar_segment_seqnum: i + 1 },
        cost: 1,
      });
    }
  }
  return { coding, dataCoding, parts, pdus };
}
