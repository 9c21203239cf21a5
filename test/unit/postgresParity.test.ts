import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PlannedMessage } from '../../src/campaign/types.js';
import { Journal } from '../../src/journal/journal.js';
import type { DeliveryReport } from '../../src/providers/types.js';
import { openTestJournal, plannedSms, secondConnection, testDialect } from '../support/journal.js';

/**
 * The same campaign driven the same way (same rows, claims, answers, reports, times) into SQLite
 * and into PostgreSQL: every read the reports, exports and the engine make answers alike. The
 * statements that differ per dialect (src/journal's pick()) are held to SQLite's answers here.
 */

const T0 = Date.parse('2026-12-02T01:00:00.000Z');
/** a fixed time, `s` seconds (and ms) after T0; every tenth one written with an offset, as a provider may */
const t = (s: number): string => new Date(T0 + s * 1000).toISOString();

function message(row: number, over: Partial<PlannedMessage> = {}): PlannedMessage {
  return plannedSms(row, {
    to: `0105000${String(row).padStart(4, '0')}`,
    body: `본문 ${row}`,
    deferrable: row % 7 === 0,
    ...over,
  });
}

function withFallback(row: number): PlannedMessage {
  return {
    ...message(row, { channel: 'alimtalk', cost: 8, vars: '{"#{name}":"김"}' }),
    fallback: { ...message(row), leg: 1, status: 'held' },
  };
}

const report = (over: Partial<DeliveryReport>): DeliveryReport => ({
  key: null,
  providerId: null,
  status: 'delivered',
  code: '0',
  text: 'ok',
  at: null,
  ...over,
});

function drive(j: Journal): void {
  const d = j.delivery();
  j.createCampaign({ id: 'p', digest: 'd', csvPath: 'r.csv', templatePath: 't.md', settings: {} });
  j.insertPlanned(
    'p',
    [
      ...Array.from({ length: 40 }, (_, i) =>
        message(i + 1, i % 5 === 0 ? { channel: 'lms', parts: 1, cost: 35, subject: '제목' } : {}),
      ),
      ...[50, 51, 52, 53].map(withFallback),
      message(60, { status: 'rejected', reason: 'bad_number: 02-12' }),
      message(61, { status: 'rejected', reason: 'bad_number: 1588' }),
      message(62, { status: 'skipped', reason: 'duplicate: row 1' }),
    ],
    { 'sms|': { provider: 'sim', price: 12 }, 'lms|': { provider: 'sim2', price: 30 } },
  );
  j.markPlanned('p', 47, {});
  j.arm('p');
  j.optouts().add(['01050000013', '01050000053'], 'manual');
  const claim = (channel: 'sms' | 'lms' | 'alimtalk', provider: string) => {
    const rows =
      channel === 'alimtalk'
        ? d.nextPlanned('p', channel, 0, 100)
        : j.routing().nextPlanned('p', channel, provider, 0, 100);
    return d.claim(rows, provider);
  };
  const sms = claim('sms', 'sim');
  const lms = claim('lms', 'sim2');
  const alim = claim('alimtalk', 'kakao');
  const all = [...sms, ...lms, ...alim];
  d.settle(
    all.map((m, i) =>
      m.row % 11 === 0
        ? {
            id: m.id,
            kind: 'failed' as const,
            reason: m.row % 2 ? '3104: not a KakaoTalk user' : '3104: blocked',
            at: t(i),
          }
        : m.row % 17 === 0
          ? { id: m.id, kind: 'unknown' as const, reason: 'timeout' }
          : { id: m.id, kind: 'sent' as const, providerId: `P${m.row}.${m.leg}`, at: t(i * 3 + (m.row % 4)) },
    ),
  );
  const reports = all
    .filter((m) => m.row % 11 !== 0 && m.row % 17 !== 0)
    .map((m, i) =>
      report({
        key: `p:${m.row}:${m.leg}`,
        providerId: `P${m.row}.${m.leg}`,
        status: m.row % 9 === 0 || m.row === 50 ? 'failed' : 'delivered',
        code: m.row % 9 === 0 ? 'E9' : '0',
        text: m.row % 9 === 0 ? 'expired' : 'ok',
        at: t(i * 3 + 1 + (m.row % 13) * 40),
      }),
    );
  const prov = (m: { row: number }) => (m.row % 5 === 1 ? 'sim2' : m.row >= 50 ? 'kakao' : 'sim');
  for (const name of ['sim', 'sim2', 'kakao'])
    d.applyReports(
      name,
      reports.filter((r) => prov({ row: Number(r.key!.split(':')[1]) }) === name),
    );
  // the fallbacks that went, sent and reported
  const fallbacks = d.claim(j.routing().nextPlanned('p', 'sms', 'sim', 49, 100), 'sim');
  d.settle(
    fallbacks.map((m, i) => ({ id: m.id, kind: 'sent' as const, providerId: `F${m.row}`, at: t(400 + i) })),
  );
  d.applyReports(
    'sim',
    fallbacks.map((m) => report({ providerId: `F${m.row}`, at: t(405) })),
  );
  // runs of keyed reports (PostgreSQL applies them in one statement), one with a key that names no
  // message of its provider id (undone, then one by one), duplicates, reports without a key
  d.applyReports('sim', [
    report({ key: 'p:17:0', at: t(500) }),
    report({ key: 'p:2:0', providerId: 'WRONG', at: t(501) }),
    report({ key: 'p:3:0', providerId: 'P3.0', status: 'failed', code: 'X', text: 'late', at: t(502) }),
    report({ key: 'p:3:0', providerId: 'P3.0', at: t(503) }),
    report({ providerId: 'P4.0', status: 'failed', code: 'Y', text: 'late', at: t(504) }),
    report({ key: 'p:999:0', providerId: 'P999', at: t(505) }),
  ]);
  d.applyReports('sim', [
    report({ key: 'p:34:0', status: 'failed', code: 'E7', text: 'gone', at: t(510) }),
    report({ key: 'p:17:0', status: 'failed', code: 'E8', text: 'late', at: t(511) }),
    report({ key: 'p:2:0', providerId: 'P2.0', at: t(512) }),
  ]);
  j.routing().move('p', 'sms', 'sim', 'sim2', () => 14, 'unavailable', 'down', t(5), t(6));
  j.retryFailed('p', '3104');
}

let sqlite: Journal;
let postgres: Journal;

describe.skipIf(testDialect !== 'postgres')('SQLite and PostgreSQL answer alike', () => {
  beforeAll(() => {
    sqlite = Journal.open(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ums-parity-')), 'j.db'));
    postgres = openTestJournal();
    drive(sqlite);
    drive(postgres);
  });

  const both = <T>(read: (j: Journal) => T): [T, T] => [read(sqlite), read(postgres)];
  const same = <T>(read: (j: Journal) => T): void => {
    const [a, b] = both(read);
    expect(b).toEqual(a);
  };

  it('the messages, their statuses, reasons, costs and times', () => {
    // the claim's skip of an opted-out number writes the time of the claim (now): not compared
    same((j) =>
      [...j.messages('p')].map((m) => (m.reason?.startsWith('opted_out') ? { ...m, doneAt: '' } : m)),
    );
    same((j) => j.statusCounts('p'));
    same((j) => j.topReasons('p', 10));
    same((j) => j.countSubjectUpgrades('p'));
    same((j) => j.firstMessages('p', 'failed', 5));
    same((j) => j.listCampaigns().map((c) => ({ ...c, createdAt: '', plannedAt: '', finishedAt: '' })));
  });

  it('recipients, reasons and lost rows', () => {
    const o = (j: Journal) => j.outcomes();
    same((j) => o(j).outcomes('p'));
    same((j) => o(j).reachedBy('p'));
    same((j) => o(j).lostRows('p', 100));
    same((j) => o(j).countLostRows('p'));
    same((j) => o(j).topReasons('p', 10));
    same((j) => o(j).countReasons('p'));
  });

  it("the HTML report's series", () => {
    const r = (j: Journal) => j.reportSeries();
    same((j) => r(j).sendSpan('p'));
    for (const buckets of [1000, 20, 3]) same((j) => r(j).sendRate('p', r(j).sendSpan('p'), buckets));
    same((j) => r(j).funnel('p'));
    same((j) => r(j).latency('p'));
  });

  it('the delivery and routing reads', () => {
    same((j) => j.delivery().laneStats('p'));
    same((j) =>
      j
        .delivery()
        .deliveredLatenciesMs('p')
        .map((ms) => Math.round(ms)),
    );
    same((j) => j.delivery().problemRows('p', 100));
    same((j) => j.delivery().fallbackLegs('p'));
    same((j) => j.delivery().unmatchedReports());
    same((j) => j.delivery().countDeferrable('p'));
    same((j) => j.delivery().deferrableByChannel('p'));
    same((j) => j.delivery().plannedChannels('p'));
    same((j) => j.routing().unassignedKinds('p'));
    same((j) =>
      j
        .delivery()
        .nextPlanned('p', 'sms', 0, 100)
        .map(({ id, ...m }) => m),
    );
    same((j) => j.routing().waitingLanes('p'));
    same((j) => j.routing().providerStats('p'));
    same((j) => j.routing().moves('p'));
    same((j) => j.routing().pending('p'));
    same((j) =>
      j
        .optouts()
        .list()
        .map((e) => ({ ...e, createdAt: '' })),
    );
  });

  it('the reports as stored: matched to the same messages, applied or not alike, in the same order', () => {
    same((j) => {
      const db = secondConnection(j);
      const rows = db
        .prepare(
          `SELECT r.provider, r.provider_id, r.message_key, m.row, m.leg, r.status, r.code, r.text, r.reported_at, r.applied, r.to_addr
           FROM reports r LEFT JOIN messages m ON m.id = r.message_id ORDER BY r.id`,
        )
        .all();
      const early = db
        .prepare('SELECT provider, ref_kind, ref FROM early_reports ORDER BY report_id, ref_kind, ref')
        .all();
      db.close();
      return { rows, early };
    });
  });

  it('drove something worth comparing', () => {
    const counts = Object.fromEntries(
      sqlite.statusCounts('p').map((c) => [`${c.status}/${c.channel}`, c.count]),
    );
    expect(Object.keys(counts).length).toBeGreaterThan(6);
    expect(sqlite.reportSeries().latency('p').length).toBeGreaterThan(2);
    expect(sqlite.routing().moves('p')).toHaveLength(1);
    // the runs of reports did what their comments say (the unknown rows 17 and 34 settled by them)
    const at = (row: number) => [...sqlite.messages('p')].find((m) => m.row === row && m.leg === 0)!;
    expect([at(17).status, at(34).status, at(34).reason]).toEqual(['delivered', 'failed', 'E7: gone']);
    expect(sqlite.delivery().unmatchedReports()).toBeGreaterThan(0);
  });
});
