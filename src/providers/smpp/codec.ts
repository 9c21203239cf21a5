import smpp from 'smpp';

/**
 * The `smpp` package as ums uses it: a codec and a socket. Its text filters (GSM/UCS-2 guessing on
 * short_message and message_payload) are switched off here, so bytes go out and come in exactly as
 * ums encodes and decodes them (KS C 5601, UCS-2 with our own UDH). This changes the package's
 * tables for the whole process; nothing else in ums uses the package.
 */
for (const command of ['submit_sm', 'deliver_sm', 'submit_multi', 'replace_sm']) {
  const param = smpp.commands[command]?.params?.short_message;
  if (param) delete param.filter;
}
const payload = smpp.tlvs.message_payload;
if (payload) delete payload.filter;

export type { PDU, Server, Session } from 'smpp';
export { smpp };

/** command_status values ums acts on. */
export const STATUS = {
  OK: 0x00,
  RINVMSGLEN: 0x01,
  RSYSERR: 0x08,
  RINVDSTADR: 0x0b,
  RBINDFAIL: 0x0d,
  RINVPASWD: 0x0e,
  RINVSYSID: 0x0f,
  RMSGQFUL: 0x14,
  RTHROTTLED: 0x58,
  RX_T_APPN: 0x64,
  RINVDCS: 0x104,
} as const;

const NAMES = new Map<number, string>(Object.entries(smpp.errors).map(([name, code]) => [code, name]));

/** `0x0000000B` */
export function statusHex(code: number): string {
  return `0x${(code >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
}

/** `ESME_RINVDSTADR`, or `status 0x...` for a code the package does not name (vendor codes). */
export function statusName(code: number): string {
  return NAMES.get(code) ?? `vendor status ${statusHex(code)}`;
}

/** The rate statuses: slow the lane and send the same message again. */
export function isThrottle(code: number): boolean {
  return code === STATUS.RTHROTTLED || code === STATUS.RMSGQFUL;
}

/** Temporary errors: the same message may be submitted again later. */
export function isTemporary(code: number): boolean {
  return code === STATUS.RSYSERR || code === STATUS.RX_T_APPN;
}

/** Bind answers that no retry will fix: the credentials are wrong. */
export function isCredentialError(code: number): boolean {
  return code === STATUS.RINVPASWD || code === STATUS.RINVSYSID;
}
