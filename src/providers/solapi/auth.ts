import { createHmac, randomBytes } from 'node:crypto';

/**
 * Solapi's API-key authentication (docs: authentication/api-key): every request carries
 * `Authorization: HMAC-SHA256 apiKey=<key>, date=<ISO 8601>, salt=<12-64 chars>, signature=<hex>`,
 * where signature = HMAC-SHA256(key = apiSecret, data = date + salt). Solapi refuses a signature
 * seen in the last 15 minutes (DuplicatedSignature) and a date more than 15 minutes off its clock
 * (RequestTimeTooSkewed), so every request and every retry gets a fresh salt and date.
 */
export function solapiSignature(apiSecret: string, date: string, salt: string): string {
  return createHmac('sha256', apiSecret)
    .update(date + salt)
    .digest('hex');
}

/** 32 random hex characters (inside Solapi's 12-64). */
export function freshSalt(): string {
  return randomBytes(16).toString('hex');
}

/** ISO 8601 in UTC, whole seconds, as in Solapi's own examples (`2019-07-01T00:41:48Z`). */
export function isoSeconds(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function authorizationHeader(
  apiKey: string,
  apiSecret: string,
  at: Date = new Date(),
  salt: string = freshSalt(),
): string {
  const date = isoSeconds(at);
  return `HMAC-SHA256 apiKey=${apiKey}, date=${date}, salt=${salt}, signature=${solapiSignature(apiSecret, date, salt)}`;
}

export interface ParsedAuthorization {
  method: string;
  apiKey: string;
  date: string;
  salt: string;
  signature: string;
}

/** Read an Authorization header back (the fake server and tests use it). */
export function parseAuthorization(header: string | undefined): ParsedAuthorization | null {
  if (!header) return null;
  const m = /^(HMAC-SHA256)\s+(.*)$/.exec(header.trim());
  if (!m) return null;
  const fields = new Map<string, string>();
  for (const part of m[2]!.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return null;
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const apiKey = fields.get('apiKey');
  const date = fields.get('date');
  const salt = fields.get('salt');
  const signature = fields.get('signature');
  if (!apiKey || !date || !salt || !signature) return null;
  return { method: m[1]!, apiKey, date, salt, signature };
}
