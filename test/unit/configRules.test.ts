import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkProviders } from '../../src/app/lanes.js';
import { loadConfig, providerFor, reachableProviders } from '../../src/config/config.js';
import { clearSecrets, redact } from '../../src/config/secrets.js';

function configIn(yaml: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ums-cfg-'));
  fs.writeFileSync(path.join(dir, 'ums.config.yaml'), yaml);
  return dir;
}

afterEach(() => clearSecrets());

describe('routes', () => {
  it('names the nearest valid key for a route typo, or lists them', () => {
    expect(() => loadConfig(undefined, {}, configIn('routes: { smss: sim }\n'))).toThrow(
      /^ums\.config\.yaml: routes\.smss: not a channel or default; did you mean sms\?$/,
    );
    expect(() => loadConfig(undefined, {}, configIn('routes: { whatever: sim }\n'))).toThrow(
      /routes\.whatever: not a channel or default; use sms, lms, mms, alimtalk, rcs or default$/,
    );
  });

  it('the simulator exists only when nothing is configured or a route names it', () => {
    expect(Object.keys(loadConfig(undefined, {}, configIn('from: "0212345678"\n')).providers)).toEqual([
      'sim',
    ]);
    expect(Object.keys(loadConfig(undefined, {}, configIn('providers: {}\n')).providers)).toEqual(['sim']);
    const one = loadConfig(
      undefined,
      {},
      configIn('providers:\n  carrier: { type: smpp, host: h, systemId: s, password: p }\n'),
    );
    expect(Object.keys(one.providers)).toEqual(['carrier']);
    expect(providerFor(one, 'lms')).toBe('carrier');
    expect(reachableProviders(one)).toEqual(['carrier']);
    const routed = loadConfig(
      undefined,
      {},
      configIn(
        'providers:\n  carrier: { type: smpp, host: h, systemId: s, password: p }\nroutes: { sms: sim }\n',
      ),
    );
    expect(Object.keys(routed.providers).sort()).toEqual(['carrier', 'sim']);
    expect(providerFor(routed, 'sms')).toBe('sim');
    expect(() => providerFor(routed, 'lms')).toThrow(/the campaign sends lms, which has no route/);
    expect(() => providerFor(routed, 'sms', 'constructor')).toThrow(
      /^--provider "constructor": not a configured provider/,
    );
  });

  it('checks every reachable provider, naming every unset variable at once and never a value', () => {
    const dir = configIn(
      'providers:\n  a:\n    type: solapi\n    apiKey: "${K_UNSET}"\n    apiSecret: "x${S_UNSET}${T_UNSET}"\n',
    );
    const c = loadConfig(undefined, {}, dir);
    expect(() => checkProviders(c)).toThrow(
      /^ums\.config\.yaml: environment variables not set: K_UNSET \(providers\.a\.apiKey\), S_UNSET \(providers\.a\.apiSecret\), T_UNSET \(providers\.a\.apiSecret\)$/,
    );
    const ok = loadConfig(
      undefined,
      { K: 'key-value-1', S: 'secret-value-2' },
      configIn('providers:\n  a: { type: solapi, apiKey: "${K}", apiSecret: "${S}", timeoutMs: "slow" }\n'),
    );
    let message = '';
    try {
      checkProviders(ok);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^ums\.config\.yaml: providers\.a\.timeoutMs: /);
    expect(message).not.toMatch(/key-value-1|secret-value-2/);
  });
});

describe('redact', () => {
  it('replaces every expanded ${VAR} value, the longest first, and leaves short ones', () => {
    loadConfig(
      undefined,
      { A: 'abcd-secret', B: 'abcd-secret-longer', C: 'xy' },
      configIn('from: "0212345678"\njournal: "./${A} ${B} ${C}.db"\n'),
    );
    expect(redact('a abcd-secret-longer b abcd-secret c xy')).toBe('a *** b *** c xy');
    expect(redact(null)).toBeNull();
  });

  it('leaves what every recipient reads (from, senders, senderName): message content, not secrets', () => {
    loadConfig(
      undefined,
      { F: '0231234567', S: '한빛마트상회', R: '0239876543' },
      configIn('from: "${F}"\nsenderName: "${S}"\nsenders: ["${R}", "${F}"]\n'),
    );
    expect(redact('(광고) 한빛마트상회 0231234567 0239876543')).toBe(
      '(광고) 한빛마트상회 0231234567 0239876543',
    );
  });
});

describe('reportError', () => {
  it('prints an errno code once (EISDIR, not "EISDIR: EISDIR: ...")', async () => {
    const { main } = await import('../../src/cli/main.js');
    const { Chalk } = await import('chalk');
    const dir = configIn('from: "0212345678"\n');
    fs.writeFileSync(path.join(dir, 'r.csv'), 'phone\n01012345678\n');
    fs.writeFileSync(path.join(dir, 't.md'), '안내드립니다.');
    const err: string[] = [];
    const cli = {
      out: () => undefined,
      err: (l: string) => err.push(l),
      env: {},
      cwd: dir,
      stdoutIsTTY: false,
      stdinIsTTY: false,
      color: new Chalk({ level: 0 }),
      now: () => new Date(),
      write: async () => undefined,
    };
    const code = await main(['node', 'ums', 'send', 'r.csv', '-t', 't.md', '--dry-run', '--db', dir], cli);
    expect(code).not.toBe(0);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^ums: /);
    expect(err[0]).not.toMatch(/(E[A-Z]+): \1/);
  });
});
