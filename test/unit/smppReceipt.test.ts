import { describe, expect, it } from 'vitest';
import {
  canonicalId,
  classifyReceipt,
  interpretReceipt,
  parseReceiptText,
  receiptIdCandidates,
  receiptTime,
} from '../../src/providers/smpp/receipt.js';

const base = {
  receiptedMessageId: null,
  messageState: null,
  networkErrorCode: null,
  sourceAddr: '01012345678',
};

describe('SMPP delivery receipts', () => {
  it('reads the standard text', () => {
    const f = parseReceiptText(
      'id:1A2B00 sub:001 dlvrd:001 submit date:2401151230 done date:2401151231 stat:DELIVRD err:000 text:주문하신 id:999',
    );
    expect(f).toEqual({
      id: '1A2B00',
      sub: '001',
      dlvrd: '001',
      submitDate: '2401151230',
      doneDate: '2401151231',
      stat: 'DELIVRD',
      err: '000',
      text: '주문하신 id:999',
    });
  });

  it('reads odd spacing, case and underscores, and missing fields', () => {
    const f = parseReceiptText(
      'ID: 1714944   Sub:001 DLVRD:001  Submit_Date:2401151230 Done Date: 240115123059 STAT: undeliv Err:001  text:',
    );
    expect(f.id).toBe('1714944');
    expect(f.stat).toBe('undeliv');
    expect(f.err).toBe('001');
    expect(f.submitDate).toBe('2401151230');
    expect(f.doneDate).toBe('240115123059');
    expect(f.text).toBe('');
    expect(parseReceiptText('stat:DELIVRD')).toMatchObject({
      id: null,
      stat: 'DELIVRD',
      doneDate: null,
      text: null,
    });
  });

  it('writes ids one way: hex lower-case without leading zeros, decimals without leading zeros, others as given', () => {
    expect(canonicalId('001A2B00', 'hex')).toBe('1a2b00');
    expect(canonicalId('000', 'hex')).toBe('0');
    expect(canonicalId('00123', 'dec')).toBe('123');
    expect(canonicalId(' 6f1d-uuid ', 'hex')).toBe('6f1d-uuid');
  });

  it('tries receipted_message_id first, then the text id read as decimal where submit_sm_resp was hex', () => {
    expect(receiptIdCandidates('1A2B00', '1714944', 'hex')).toEqual(['1a2b00', '1714944']);
    // no TLV: a digits-only id is most likely the decimal spelling; its hex reading comes next
    expect(receiptIdCandidates(null, '1714944', 'hex')).toEqual(['1a2b00', '1714944']);
    expect(receiptIdCandidates(null, '00ABCDEF', 'hex')).toEqual(['abcdef']);
    // a dec SMSC whose receipts write hex
    expect(receiptIdCandidates(null, 'ff', 'dec')).toEqual(['255']);
    expect(receiptIdCandidates(null, '0255', 'dec')).toEqual(['255', '597']);
    // ids beyond 2^53 convert exactly
    expect(receiptIdCandidates(null, '18446744073709551615', 'hex')[0]).toBe('ffffffffffffffff');
    expect(receiptIdCandidates(null, null, 'hex')).toEqual([]);
  });

  it('classifies stat words and, without one, message_state', () => {
    expect(classifyReceipt('DELIVRD', null)).toEqual({ final: true, status: 'delivered', code: 'DELIVRD' });
    expect(classifyReceipt('delivrd', null)).toMatchObject({ status: 'delivered' });
    expect(classifyReceipt('ACCEPTD', null)).toMatchObject({ final: true, status: 'delivered' });
    for (const s of ['EXPIRED', 'DELETED', 'UNDELIV', 'UNKNOWN', 'REJECTD'])
      expect(classifyReceipt(s, null)).toEqual({ final: true, status: 'failed', code: s });
    expect(classifyReceipt('ENROUTE', null)).toEqual({ final: false, code: 'ENROUTE' });
    expect(classifyReceipt(null, 2)).toMatchObject({ status: 'delivered', code: 'DELIVRD' });
    expect(classifyReceipt(null, 5)).toMatchObject({ status: 'failed', code: 'UNDELIV' });
    expect(classifyReceipt(null, 1)).toMatchObject({ final: false });
    expect(classifyReceipt(null, null)).toBeNull();
  });

  it("converts the done date from the carrier's time zone", () => {
    expect(receiptTime('2401151230', '+09:00')).toBe('2024-01-15T03:30:00.000Z');
    expect(receiptTime('240115123045', '+00:00')).toBe('2024-01-15T12:30:45.000Z');
    expect(receiptTime('24011512', '+09:00')).toBeNull();
    expect(receiptTime('2413151230', '+09:00')).toBeNull();
  });

  it('turns a receipt without TLVs into a report whose id is the submit_sm_resp spelling', () => {
    const r = interpretReceipt(
      {
        ...base,
        text: 'id:1714944 sub:001 dlvrd:000 submit date:2401151230 done date:2401151231 stat:UNDELIV err:001 text:',
      },
      'hex',
      '+09:00',
    );
    expect(r.kind).toBe('final');
    if (r.kind !== 'final') return;
    expect(r.report).toMatchObject({
      key: null,
      providerId: '1a2b00',
      altProviderIds: ['1714944'],
      to: '01012345678',
      status: 'failed',
      code: 'UNDELIV',
    });
    expect(r.report.text).toBe('undeliverable (err 001)');
    expect(r.report.at).toBe('2024-01-15T03:31:00.000Z');
  });

  it('prefers the TLVs: receipted_message_id and message_state, with the network error code', () => {
    const r = interpretReceipt(
      {
        ...base,
        text: 'id:1714944 stat: err:',
        receiptedMessageId: '1A2B00',
        messageState: 8,
        networkErrorCode: Buffer.from([3, 0, 11]),
      },
      'hex',
      '+09:00',
    );
    expect(r.kind === 'final' && r.report).toMatchObject({
      providerId: '1a2b00',
      status: 'failed',
      code: 'REJECTD',
      text: 'rejected by the carrier (network error 3/11)',
    });
  });

  it('says intermediate for ENROUTE and unreadable when nothing tells the state', () => {
    expect(interpretReceipt({ ...base, text: 'id:1 stat:ENROUTE' }, 'hex', '+09:00')).toEqual({
      kind: 'intermediate',
      code: 'ENROUTE',
    });
    expect(interpretReceipt({ ...base, text: 'garbage' }, 'hex', '+09:00')).toEqual({ kind: 'unreadable' });
  });
});
