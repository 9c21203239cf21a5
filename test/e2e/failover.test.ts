import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../support/cli.js';
import { twoRelays } from '../support/twoRelays.js';

const { sleep, fakes, phone, config, campaignDir, rowsOf, ums, expectEveryoneOnce } = twoRelays({
  key: 'NCSFAILOVERKEY42',
  secret: 'failover-secret-do-not-print',
  app: 'failoverAppKey01',
  nhnSecret: 'failover-nhn-secret',
  senderKey: 'failover-sender-key-000000000000000000040',
  phoneBase: 3000,
});

/** Run `send` while `when` is watched: `act` runs once it holds (the primary goes down mid-campaign). */
async function sendWhile(
  dir: string,
  when: () => boolean,
  act: () => Promise<void> | void,
): Promise<RunResult> {
  const run = ums(['send', 'r.csv', '-t', 't.md', '--yes', '--campaign', 'fo'], dir);
  let done = false;
  void run.then(() => (done = true));
  while (!done && !when()) await sleep(5);
  if (!done) await act();
  return run;
}

describe('failover: [solapi, nhn]', () => {
  const N = 120;
  const routes = ['sms: [solapi, nhn]'];
  const extra = ['failoverAfterMs: 400'];

  it('Solapi answers 503 from its 4th request on: the campaign finishes on NHN, every recipient taken exactly once, the report says what moved', async () => {
    const { solapi, nhn } = await fakes();
    const dir = campaignDir(config({ solapiUrl: solapi.url, nhnUrl: nhn.url, routes, extra }), rowsOf(N));
    const res = await sendWhile(
      dir,
      () => solapi.stats.sendRequests >= 3,
      () => {
        solapi.options.failSendsWith = 503;
      },
    );
    expect(res.code, res.stderr).toBe(0);
    expect(solapi.accepted().length).toBeGreaterThan(0);
    expect(nhn.accepted().length).toBeGreaterThan(0);
    expectEveryoneOnce(solapi, nhn, N);
    const report = await ums(['report', 'fo'], dir);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toMatch(
      /moved [\d,]+ from solapi to nhn \(solapi unavailable \d\d:\d\d–\d\d:\d\d KST\)/,
    );
    expect(report.stdout).toMatch(/provider {4}nhn: [\d,]+ messages, [\d,]+ parts, [\d,]+ KRW/);
    const json = JSON.parse((await ums(['report', 'fo', '--json'], dir)).stdout) as {
      providers: { provider: string; messages: number }[];
      moves: { from: string; to: string; count: number; why: string }[];
    };
    const by = Object.fromEntries(json.providers.map((p) => [p.provider, p.messages]));
    expect(by.solapi).toBe(solapi.accepted().length);
    expect(by.nhn).toBe(nhn.accepted().length);
    expect(json.moves.map((m) => [m.from, m.to, m.why])).toEqual([['solapi', 'nhn', 'unavailable']]);
  });

  it('a lane that fails over hands its rows on at once, while another channel’s lane still runs (not when the pass ends)', async () => {
    const { solapi, nhn } = await fakes();
    solapi.options.failSendsWith = 503; // Solapi is out from the first request
    const long =
      '주문하신 상품이 발송되었습니다. 배송 조회는 문자에 있는 링크에서 확인하실 수 있고 문의는 고객센터로 연락 주세요. 감사합니다.';
    const sms = 20;
    const lms = 60;
    const rows = Array.from(
      { length: sms + lms },
      (_, i) => `고객${i},${phone(i)},${i < sms ? '짧은 안내' : long}`,
    );
    const dir = campaignDir(
      config({
        solapiUrl: solapi.url,
        nhnUrl: nhn.url,
        routes: ['sms: [solapi, nhn]', 'lms: nhn'],
        extra,
        nhn: { tps: 10 }, // the LMS lane alone takes 6 s
      }),
      rows,
    );
    const res = await ums(['send', 'r.csv', '-t', 't.md', '--yes', '--campaign', 'fo'], dir);
    expect(res.code, res.stderr).toBe(0);
    expectEveryoneOnce(solapi, nhn, sms + lms);
    const order = nhn.accepted().map((r) => (r.title === null ? 'sms' : 'lms'));
    expect(order.filter((k) => k === 'sms')).toHaveLength(sms);
    // every SMS was at NHN before the LMS lane's last: the failover did not wait for the LMS lane
    expect(order.lastIndexOf('sms')).toBeLessThan(order.lastIndexOf('lms') - 10);
  });

  it('Solapi refuses connections mid-campaign: the rest goes to NHN; what may have reached Solapi stays with it until it can be asked; after resume every recipient exactly once', async () => {
    const { solapi, nhn } = await fakes();
    const dir = campaignDir(config({ solapiUrl: solapi.url, nhnUrl: nhn.url, routes, extra }), rowsOf(N));
    let res = await sendWhile(
      dir,
      () => solapi.stats.sendRequests >= 3,
      () => solapi.stopListening(),
    );
    expect(nhn.accepted().length).toBeGreaterThan(0);
    if (res.code !== 0) {
      // a request cut in flight: its rows are unknown on Solapi (never sent to NHN) until Solapi answers a look-up
      expect(res.code, res.stderr).toBe(1);
      expect(res.stderr).toMatch(/unknown/);
      await solapi.listenAgain();
      res = await ums(['resume', 'fo'], dir);
    }
    expect(res.code, res.stderr).toBe(0);
    expectEveryoneOnce(solapi, nhn, N);
  });

  it('Solapi accepts, then drops its answers: what it took is found by its look-up (never sent again), the rest goes to NHN, every recipient exactly once', async () => {
    const { solapi, nhn } = await fakes();
    solapi.options.dropAnswer = (n) => n >= 3;
    const dir = campaignDir(config({ solapiUrl: solapi.url, nhnUrl: nhn.url, routes, extra }), rowsOf(N));
    const res = await ums(['send', 'r.csv', '-t', 't.md', '--yes', '--campaign', 'fo'], dir);
    expect(res.code, res.stderr).toBe(0);
    expect(solapi.stats.dropped).toBeGreaterThan(0);
    expect(nhn.accepted().length).toBeGreaterThan(0);
    expectEveryoneOnce(solapi, nhn, N);
  });
});

describe('split and cheapest', () => {
  it('split 70/30 on 10,000 rows: each row assigned at planning, 70 % ± 2 % on solapi; planning again keeps every row on its provider', async () => {
    const dir = campaignDir(
      config({
        solapiUrl: 'http://127.0.0.1:9',
        nhnUrl: 'http://127.0.0.1:9',
        routes: ['sms: { split: { solapi: 70, nhn: 30 } }'],
      }),
      rowsOf(10_000),
    );
    const res = await ums(['send', 'r.csv', '-t', 't.md', '--dry-run', '--campaign', 'a'], dir);
    expect(res.code, res.stderr).toBe(0);
    const again = await ums(['send', 'r.csv', '-t', 't.md', '--dry-run', '--campaign', 'b'], dir);
    expect(again.code, again.stderr).toBe(0);
    const db = new Database(path.join(dir, 'journal.db'), { readonly: true });
    const count = db
      .prepare<[], { provider: string; n: number }>(
        `SELECT provider, COUNT(*) AS n FROM messages WHERE campaign_id = 'a' GROUP BY provider ORDER BY provider`,
      )
      .all();
    const differ = db
      .prepare<[], { n: number }>(
        `SELECT COUNT(*) AS n FROM messages a JOIN messages b ON a.row = b.row AND b.campaign_id = 'b'
         WHERE a.campaign_id = 'a' AND a.provider <> b.provider`,
      )
      .get()!.n;
    db.close();
    const by = Object.fromEntries(count.map((c) => [c.provider, c.n]));
    expect(by.solapi! + by.nhn!).toBe(10_000);
    expect(Math.abs(by.solapi! / 10_000 - 0.7)).toBeLessThanOrEqual(0.02);
    expect(differ).toBe(0);
  });

  it('cheapest: [solapi, nhn] with NHN cheaper for SMS and dearer for LMS: SMS rows go to NHN, LMS rows to Solapi, each priced at its provider', async () => {
    const { solapi, nhn } = await fakes();
    const long = '긴 안내 '.repeat(20); // over 90 EUC-KR bytes: LMS
    const rows = Array.from({ length: 20 }, (_, i) => `고객${i},${phone(i)},${i % 2 ? long : '짧은 안내'}`);
    const dir = campaignDir(
      config({
        solapiUrl: solapi.url,
        nhnUrl: nhn.url,
        solapi: { tps: 1000 },
        routes: ['default: { cheapest: [solapi, nhn] }'],
        extra: ['prices:', '  sms: 13', '  lms: 35', '  nhn: { sms: 11, lms: 40 }'],
      }),
      rows,
    );
    const res = await ums(['send', 'r.csv', '-t', 't.md', '--yes', '--campaign', 'cheap'], dir);
    expect(res.code, res.stderr).toBe(0);
    expectEveryoneOnce(solapi, nhn, 20);
    const even = (to: string): boolean => Number(to.slice(-1)) % 2 === 0;
    expect(
      nhn
        .accepted()
        .map((r) => r.recipientNo)
        .every(even),
    ).toBe(true);
    expect(nhn.accepted()).toHaveLength(10);
    expect(solapi.accepted().every((m) => !even(m.to) && m.type === 'LMS')).toBe(true);
    const json = JSON.parse((await ums(['report', 'cheap', '--json'], dir)).stdout) as {
      providers: { provider: string; cost: number }[];
    };
    const cost = Object.fromEntries(json.providers.map((p) => [p.provider, p.cost]));
    expect(cost).toEqual({ nhn: 10 * 11, solapi: 10 * 35 });
  });
});

describe('AlimTalk across providers', () => {
  const alimtalk = [
    '---',
    'channel: alimtalk',
    'fallback: none',
    'alimtalk:',
    '  pfId: KA01PF200323182344986oTFz9CIabcx',
    '  templateId: ORDER_SHIPPED_01',
    '---',
    '#{name}님, 주문하신 상품이 발송되었습니다.',
    '',
  ].join('\n');

  it('a route that cannot carry AlimTalk (an SMPP bind in it) is refused before planning: exit 2, one line, nothing planned', async () => {
    const cfg = config({
      solapiUrl: 'http://127.0.0.1:9',
      nhnUrl: 'http://127.0.0.1:9',
      routes: ['alimtalk: [solapi, carrier]'],
    }).replace(
      'routes:',
      '  carrier: { type: smpp, host: 127.0.0.1, port: 9, systemId: x, password: y }\nroutes:',
    );
    const dir = campaignDir(cfg, rowsOf(3), alimtalk);
    const res = await ums(['send', 'r.csv', '-t', 't.md', '--dry-run'], dir);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(
      /^ums: ums\.config\.yaml: routes\.alimtalk: carrier \(smpp\) cannot carry AlimTalk: route alimtalk only to providers that can \(solapi, nhn\)\n$/,
    );
    const list = await ums(['campaigns', '--json'], dir);
    expect(JSON.parse(list.stdout || '[]')).toEqual([]);
  });

  it('AlimTalk over [solapi, nhn] without NHN’s senderKey is refused before planning (the pfId is Solapi’s)', async () => {
    const cfg = config({
      solapiUrl: 'http://127.0.0.1:9',
      nhnUrl: 'http://127.0.0.1:9',
      routes: ['alimtalk: [solapi, nhn]'],
    }).replace(/\n {4}senderKey: .*\n/, '\n');
    const dir = campaignDir(cfg, rowsOf(3), alimtalk);
    const res = await ums(['send', 'r.csv', '-t', 't.md', '--dry-run'], dir);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(
      /^ums: ums\.config\.yaml: providers\.nhn\.senderKey: not set: AlimTalk routed over several providers/,
    );
  });
});
