import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import {
  countParts,
  effectiveCoding,
  type SegmentOptions,
  segment,
  udhHeader,
} from '../../src/providers/smpp/segment.js';

const KSC: SegmentOptions = { coding: 'ksc5601', mode: 'udh', udhRefBits: 8 };
const UCS2: SegmentOptions = { coding: 'ucs2', mode: 'udh', udhRefBits: 8 };

/** The user data of a UDH part (its header checked independently of segment.ts). */
function body(short: Buffer): { udh: Buffer; data: Buffer } {
  const len = short[0]! + 1;
  return { udh: short.subarray(0, len), data: short.subarray(len) };
}

/** Walk KS C 5601 bytes: true when no double-byte character is cut. */
function wholeKsc(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; ) {
    if (bytes[i]! < 0x80) i++;
    else if (i + 1 < bytes.length && bytes[i + 1]! >= 0xa1) i += 2;
    else return false;
  }
  return true;
}

function wholeUcs2(bytes: Buffer): boolean {
  if (bytes.length % 2) return false;
  const first = bytes.readUInt16BE(0);
  const last = bytes.readUInt16BE(bytes.length - 2);
  return !(first >= 0xdc00 && first <= 0xdfff) && !(last >= 0xd800 && last <= 0xdbff);
}

describe('SMPP encoding and splitting', () => {
  it('sends a short KS C 5601 text as one part, no UDH, data_coding 0x0E, bytes as EUC-KR', () => {
    const text = '주문하신 상품이 발송되었습니다.';
    const s = segment(text, KSC, 7);
    expect(s.dataCoding).toBe(0x0e);
    expect(s.pdus).toHaveLength(1);
    expect(s.pdus[0]!.esm_class).toBe(0);
    expect(s.pdus[0]!.short_message.equals(iconv.encode(text, 'euc-kr'))).toBe(true);
  });

  it('fits 140 octets in one part and splits at 141 (UCS-2: 70 characters, then 67 per part)', () => {
    expect(segment('가'.repeat(70), UCS2, 1).pdus).toHaveLength(1);
    const two = segment('가'.repeat(71), UCS2, 1);
    expect(two.pdus).toHaveLength(2);
    expect(two.pdus.map((p) => body(p.short_message).data.length)).toEqual([134, 8]);
    expect(segment('a'.repeat(140), KSC, 1).pdus).toHaveLength(1);
    expect(segment('a'.repeat(141), KSC, 1).pdus).toHaveLength(2);
  });

  it('writes 8-bit UDH headers 05 00 03 ref total seq, esm_class 0x40, every part within 140 octets', () => {
    const text = '한글 '.repeat(120); // 600 bytes in KS C 5601
    const s = segment(text, KSC, 0x1ab);
    expect(s.parts).toBe(5);
    s.pdus.forEach((p, i) => {
      expect(p.esm_class).toBe(0x40);
      expect(p.short_message.length).toBeLessThanOrEqual(140);
      expect([...body(p.short_message).udh]).toEqual([0x05, 0x00, 0x03, 0xab, 5, i + 1]);
    });
    const joined = Buffer.concat(s.pdus.map((p) => body(p.short_message).data));
    expect(iconv.decode(joined, 'euc-kr')).toBe(text);
  });

  it('writes 16-bit UDH headers 06 08 04 refHi refLo total seq when configured', () => {
    const s = segment('가'.repeat(100), { ...UCS2, udhRefBits: 16 }, 0x1234);
    expect(s.pdus.map((p) => [...body(p.short_message).udh])).toEqual([
      [0x06, 0x08, 0x04, 0x12, 0x34, 2, 1],
      [0x06, 0x08, 0x04, 0x12, 0x34, 2, 2],
    ]);
    expect(body(s.pdus[0]!.short_message).data.length).toBe(132); // 133 octets of room, 66 whole characters
    expect(udhHeader(0x1ff, 3, 2, 8)).toEqual(Buffer.from([5, 0, 3, 0xff, 3, 2]));
  });

  it('never splits a UCS-2 surrogate pair, wherever the pair falls', () => {
    for (let prefix = 60; prefix <= 70; prefix++) {
      const text = `${'a'.repeat(prefix)}😀🎉${'나'.repeat(70)}👍`;
      const s = segment(text, UCS2, 3);
      const datas = s.pdus.map((p) => body(p.short_message).data);
      for (const d of datas) expect(wholeUcs2(d), `prefix ${prefix}`).toBe(true);
      expect(Buffer.concat(datas).swap16().toString('utf16le')).toBe(text);
      expect(s.parts).toBe(countParts(text, UCS2));
    }
  });

  it('never splits a KS C 5601 double-byte character, with odd ASCII offsets', () => {
    for (let prefix = 0; prefix < 6; prefix++) {
      const text = 'x'.repeat(prefix) + '가나다라마바사아자차카타파하'.repeat(25);
      const s = segment(text, KSC, 9);
      const datas = s.pdus.map((p) => body(p.short_message).data);
      for (const d of datas) {
        expect(d.length).toBeLessThanOrEqual(134);
        expect(wholeKsc(d), `prefix ${prefix}`).toBe(true);
      }
      expect(iconv.decode(Buffer.concat(datas), 'euc-kr')).toBe(text);
    }
  });

  it('falls back to UCS-2 for text outside strict KS X 1001 (emoji, CP949-only Hangul)', () => {
    expect(effectiveCoding('안녕하세요', 'ksc5601')).toBe('ksc5601');
    expect(effectiveCoding('안녕 😀', 'ksc5601')).toBe('ucs2');
    expect(effectiveCoding('똠양꿍', 'ksc5601')).toBe('ucs2');
    expect(segment('똠양꿍', KSC, 1).dataCoding).toBe(0x08);
  });

  it('carries sar_* TLVs instead of a UDH in sar mode', () => {
    const s = segment('가'.repeat(150), { ...KSC, mode: 'sar' }, 0x2345);
    expect(s.pdus).toHaveLength(3);
    s.pdus.forEach((p, i) => {
      expect(p.esm_class).toBe(0);
      expect(p.tlvs).toEqual({ sar_msg_ref_num: 0x2345, sar_total_segments: 3, sar_segment_seqnum: i + 1 });
      expect(wholeKsc(p.short_message)).toBe(true);
    });
  });

  it('sends one message_payload in payload mode, costing the parts the SMSC will make', () => {
    const text = '가'.repeat(150);
    const s = segment(text, { ...KSC, mode: 'payload' }, 1);
    expect(s.pdus).toHaveLength(1);
    expect(s.pdus[0]!.short_message.length).toBe(0);
    expect(iconv.decode(s.pdus[0]!.tlvs.message_payload as Buffer, 'euc-kr')).toBe(text);
    expect(s.pdus[0]!.cost).toBe(3);
    expect(countParts(text, { ...KSC, mode: 'payload' })).toBe(3);
  });

  it('refuses more than 255 parts', () => {
    expect(() => segment('가'.repeat(67 * 256), UCS2, 1)).toThrow(RangeError);
  });
});
