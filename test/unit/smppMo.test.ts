import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { decodeShortMessage, isOptOutText, senderNumber, stripUdh } from '../../src/providers/smpp/mo.js';

const WORDS = ['수신거부', '거부', 'STOP'];

describe('SMPP MO messages', () => {
  it('recognises opt-out replies, folded for case, width, spaces and punctuation', () => {
    for (const t of [
      '수신거부',
      ' 수신 거부 ',
      '수신거부합니다',
      '거부',
      'stop',
      'STOP!',
      'Ｓｔｏｐ',
      '수신거부해주세요.',
    ])
      expect(isOptOutText(t, WORDS), t).toBe(true);
  });

  it('leaves other replies alone', () => {
    for (const t of [
      '',
      '네 감사합니다',
      '거부하지 마세요',
      'stop by our store',
      '배송 언제 오나요? 수신거부는 아닙니다',
    ])
      expect(isOptOutText(t, WORDS), t).toBe(false);
    expect(isOptOutText('UNSUBSCRIBE', ['unsubscribe'])).toBe(true);
  });

  it('decodes by data_coding: UCS-2, KS C 5601, and KS C 5601 in the SMSC default coding', () => {
    expect(decodeShortMessage(Buffer.from('수신거부 😀', 'utf16le').swap16(), 0x08)).toBe('수신거부 😀');
    expect(decodeShortMessage(iconv.encode('수신거부', 'cp949'), 0x0e)).toBe('수신거부');
    expect(decodeShortMessage(iconv.encode('거부', 'cp949'), 0x00)).toBe('거부');
    expect(decodeShortMessage(Buffer.from('STOP'), 0x00)).toBe('STOP');
  });

  it('drops a UDH when esm_class says there is one', () => {
    expect(stripUdh(Buffer.from([5, 0, 3, 1, 2, 1, 0x41]), 0x40)).toEqual(Buffer.from([0x41]));
    expect(stripUdh(Buffer.from([5, 0x41]), 0)).toEqual(Buffer.from([5, 0x41]));
  });

  it('writes senders as the journal writes numbers', () => {
    expect(senderNumber('821012345678', 1)).toBe('01012345678');
    expect(senderNumber('01012345678', 0)).toBe('01012345678');
    expect(senderNumber('+821012345678', 0)).toBe('01012345678');
    expect(senderNumber('080', 0)).toBe('080');
  });
});
