import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Planner } from '../../src/campaign/plan.js';
import { pickRcsKind } from '../../src/campaign/rcs.js';
import { parseTemplate, type Template } from '../../src/campaign/template.js';
import { DEFAULT_PRICES, type PlannedMessage, type Prices } from '../../src/campaign/types.js';
import { loadConfig } from '../../src/config/config.js';
import { InputError } from '../../src/errors.js';
import { readImageInfo } from '../../src/input/imageInfo.js';
import { checkTemplateAssets } from '../../src/input/templateChecks.js';
import { Journal } from '../../src/journal/journal.js';
import { MIGRATIONS } from '../../src/journal/migrations.js';
import { createSimProvider } from '../../src/providers/sim/provider.js';
import type { OutboundMessage } from '../../src/providers/types.js';
import { tinyJpeg } from '../support/fakeSolapi.js';

const HEADER = ['name', 'phone', 'msg'];
const MB = 1024 * 1024;

/** An RCS template whose body is the row's `msg` column; `rcs` and `extra` are front matter lines. */
function rcsTemplate(rcs: string[] = [], extra: string[] = [], file = 'rcs.md'): Template {
  return parseTemplate(
    [
      '---',
      'channel: rcs',
      'fallback: none',
      ...extra,
      'rcs:',
      '  brandId: BR.test0001',
      ...rcs.map((l) => `  ${l}`),
      '---',
      '#{msg}',
      '',
    ].join('\n'),
    file,
  );
}

function plan(template: Template, msg: string, prices: Prices = DEFAULT_PRICES): PlannedMessage {
  return new Planner(template, HEADER, 1, prices).plan(['홍길동', '010-1234-5678', msg], 1);
}

/** Hangul: one character each, two EUC-KR bytes, so a byte count would show. */
const chars = (n: number): string => '가'.repeat(n);

function templateError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as Error).message;
  }
  throw new Error('expected an InputError');
}

describe('RCS kinds at planning: auto', () => {
  const t = rcsTemplate();

  it('100 characters without a subject are RCS SMS; 101 are RCS LMS (like SMS -> LMS), channel stays rcs', () => {
    expect(plan(t, chars(100))).toMatchObject({
      status: 'planned',
      channel: 'rcs',
      rcsKind: 'sms',
      bytes: 100,
      cost: DEFAULT_PRICES.rcs,
    });
    expect(plan(t, chars(101))).toMatchObject({
      status: 'planned',
      channel: 'rcs',
      rcsKind: 'lms',
      bytes: 101,
    });
  });

  it('1,300 characters are RCS LMS; 1,301 are rejected naming the count and the limit', () => {
    expect(plan(t, chars(1300))).toMatchObject({ status: 'planned', rcsKind: 'lms' });
    const m = plan(t, chars(1301));
    expect(m.status).toBe('rejected');
    expect(m.rcsKind).toBeNull();
    expect(m.reason).toBe('too_long: 1,301 characters, over the RCS LMS limit of 1,300');
  });

  it('a subject of 30 characters makes a short text RCS LMS; 31 characters are rejected', () => {
    const with30 = rcsTemplate([], [`subject: "${chars(30)}"`]);
    expect(plan(with30, '짧은 안내')).toMatchObject({
      status: 'planned',
      rcsKind: 'lms',
      subject: chars(30),
    });
    const m = plan(rcsTemplate([], [`subject: "${chars(31)}"`]), '짧은 안내');
    expect(m.status).toBe('rejected');
    expect(m.reason).toBe('too_long: subject is 31 characters, over the RCS limit of 30');
  });

  it('the pure choice says when only the subject made it an LMS', () => {
    expect(pickRcsKind({ requested: 'auto', bodyChars: 100, subjectChars: 5, hasImages: false })).toEqual({
      ok: true,
      kind: 'lms',
      upgradedBySubject: true,
    });
    expect(pickRcsKind({ requested: 'auto', bodyChars: 101, subjectChars: 5, hasImages: false })).toEqual({
      ok: true,
      kind: 'lms',
      upgradedBySubject: false,
    });
    expect(pickRcsKind({ requested: 'auto', bodyChars: 100, subjectChars: null, hasImages: false })).toEqual({
      ok: true,
      kind: 'sms',
      upgradedBySubject: false,
    });
  });

  it('images make RCS MMS: 1,300 characters pass, 1,301 are rejected', () => {
    expect(pickRcsKind({ requested: 'auto', bodyChars: 5, subjectChars: null, hasImages: true })).toEqual({
      ok: true,
      kind: 'mms',
      upgradedBySubject: false,
    });
    expect(
      pickRcsKind({ requested: 'auto', bodyChars: 1300, subjectChars: 30, hasImages: true }),
    ).toMatchObject({ ok: true, kind: 'mms' });
    expect(pickRcsKind({ requested: 'auto', bodyChars: 1301, subjectChars: null, hasImages: true })).toEqual({
      ok: false,
      code: 'too_long',
      reason: '1,301 characters, over the RCS MMS limit of 1,300',
    });
  });
});

describe('RCS kinds at planning: what the template asks for', () => {
  it('rcs.type sms: 100 characters pass, 101 are rejected as over the RCS SMS limit (not upgraded)', () => {
    const t = rcsTemplate(['type: sms']);
    expect(plan(t, chars(100))).toMatchObject({ status: 'planned', rcsKind: 'sms' });
    const m = plan(t, chars(101));
    expect(m.status).toBe('rejected');
    expect(m.reason).toBe(
      'too_long: 101 characters, over the RCS SMS limit of 100 (the template asks for RCS SMS)',
    );
  });

  it('rcs.type lms keeps a short text an RCS LMS', () => {
    expect(plan(rcsTemplate(['type: lms']), '짧은 안내')).toMatchObject({
      status: 'planned',
      rcsKind: 'lms',
    });
  });

  it('a text template (the default with templateId): 90 characters pass, 91 are rejected', () => {
    const t = rcsTemplate(['templateId: UBR.tpl-text']);
    expect(t.rcs!.kind).toBe('text_template');
    expect(plan(t, chars(90))).toMatchObject({
      status: 'planned',
      rcsKind: 'text_template',
      vars: JSON.stringify({ '#{msg}': chars(90) }),
    });
    const m = plan(t, chars(91));
    expect(m.status).toBe('rejected');
    expect(m.reason).toBe('too_long: 91 characters, over the RCS text template limit of 90');
  });

  it('an image template: 500 characters pass, 501 are rejected', () => {
    const t = rcsTemplate(['templateId: UBR.tpl-image', 'templateType: image']);
    expect(plan(t, chars(500))).toMatchObject({ status: 'planned', rcsKind: 'image_template' });
    const m = plan(t, chars(501));
    expect(m.status).toBe('rejected');
    expect(m.reason).toBe('too_long: 501 characters, over the RCS image template limit of 500');
  });

  it('an ad on a text template is refused (information only); on an image template it is allowed', () => {
    const ad = ['ad: true', 'sender: 한빛마트'];
    const msg = templateError(() => rcsTemplate(['templateId: UBR.tpl-text'], ad, 'ad.md'));
    expect(msg).toMatch(/^ad\.md line \d+: an RCS text template carries information only/);
    expect(rcsTemplate(['templateId: UBR.tpl-image', 'templateType: image'], ad).ad).toBe(true);
  });

  it('refuses front matter no RCS message can be: templateType without a template, a template with a subject or images, an SMS with a subject', () => {
    expect(templateError(() => rcsTemplate(['templateType: image']))).toMatch(
      /rcs\.templateType needs rcs\.templateId/,
    );
    expect(templateError(() => rcsTemplate(['templateId: T1'], ['subject: 제목']))).toMatch(
      /RCS text template carries its approved title/,
    );
    expect(
      templateError(() => rcsTemplate(['templateId: T1', 'templateType: image'], ['images: [a.jpg]'])),
    ).toMatch(/RCS image template carries its approved content/);
    expect(templateError(() => rcsTemplate(['templateId: T1', 'type: lms']))).toMatch(
      /rcs\.type is for messages without a template/,
    );
    expect(templateError(() => rcsTemplate(['type: sms'], ['subject: 제목']))).toMatch(
      /an RCS SMS cannot carry a subject/,
    );
    expect(templateError(() => rcsTemplate(['type: mms']))).toMatch(/rcs\.type mms needs an image/);
  });

  it('prices each kind by its own key, falling back to the rcs price when that key is not set', () => {
    const image = rcsTemplate(['templateId: T2', 'templateType: image']);
    const prices: Prices = { ...DEFAULT_PRICES, rcs: 9, rcs_lms: 27, rcs_template: 7 };
    expect(plan(rcsTemplate(), chars(10), prices).cost).toBe(9);
    expect(plan(rcsTemplate(), chars(101), prices).cost).toBe(27);
    expect(plan(image, chars(10), prices).cost).toBe(7);
    // rcs_mms not set: the rcs price
    expect(plan(rcsTemplate([], ['images: [card.jpg]']), chars(10), prices)).toMatchObject({
      rcsKind: 'mms',
      cost: 9,
    });
    // the defaults: one rcs price for every kind
    expect(plan(rcsTemplate(), chars(101), DEFAULT_PRICES).cost).toBe(DEFAULT_PRICES.rcs);
  });

  it('the config takes the finer RCS prices and leaves them unset otherwise', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ums-rcs-cfg-'));
    fs.writeFileSync(path.join(dir, 'ums.config.yaml'), 'prices: { rcs: 9, rcs_lms: 27, rcs_mms: 80 }\n');
    const c = loadConfig(undefined, {}, dir);
    expect(c.prices).toMatchObject({ sms: 13, rcs: 9, rcs_lms: 27, rcs_mms: 80 });
    expect(c.prices.rcs_template).toBeUndefined();
    fs.writeFileSync(path.join(dir, 'ums.config.yaml'), 'prices: { rcs_sms: 9 }\n');
    expect(() => loadConfig(undefined, {}, dir)).toThrow(
      /prices\.rcs_sms: not a channel or a configured provider/,
    );
  });
});

describe('RCS images (checked before planning, per provider type)', () => {
  function templateWithImage(bytes: Buffer, name = 'card.jpg'): { t: Template; dir: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ums-rcs-img-'));
    fs.writeFileSync(path.join(dir, name), bytes);
    const file = path.join(dir, 'rcs.md');
    const t = rcsTemplate([], [`images: [${name}]`], file);
    return { t, dir };
  }
  /** a real JPEG followed by padding to exactly `size` bytes (its header is what is checked) */
  const jpegOf = (size: number): Buffer =>
    Buffer.concat([tinyJpeg(), Buffer.alloc(size - tinyJpeg().length)]);
  const config = loadConfig(undefined, {}, os.tmpdir());

  it('an image of exactly 1 MB passes; 1 MB + 1 byte is refused with the size and the limit', () => {
    const ok = templateWithImage(jpegOf(MB));
    expect(checkTemplateAssets(ok.t, config, '15881234').images).toEqual([path.join(ok.dir, 'card.jpg')]);
    const big = templateWithImage(jpegOf(MB + 1));
    const msg = templateError(() => checkTemplateAssets(big.t, config, '15881234'));
    expect(msg).toContain(
      'image "card.jpg" is 1,048,577 bytes; sim takes at most 1,048,576 bytes (1 MB) per RCS image',
    );
  });

  it('the 1 MB RCS limit is not the MMS one: a 300 KB image is an RCS image, but too big for an MMS', () => {
    const rcs = templateWithImage(jpegOf(300 * 1024));
    expect(checkTemplateAssets(rcs.t, config, '15881234').images).toHaveLength(1);
    const mms = parseTemplate(
      ['---', 'channel: mms', 'images: [card.jpg]', '---', '#{msg}', ''].join('\n'),
      path.join(rcs.dir, 'mms.md'),
    );
    expect(templateError(() => checkTemplateAssets(mms, config, '0212345678'))).toMatch(/at most 200 KB/);
  });

  it('takes PNG by its header, refuses what is neither JPEG nor PNG', () => {
    const png = Buffer.from([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 3, 0x20, 0,
      0, 2, 0x58, 8, 2, 0, 0, 0,
    ]);
    expect(readImageInfo(png)).toEqual({ format: 'png', width: 800, height: 600 });
    expect(readImageInfo(tinyJpeg())).toMatchObject({ format: 'jpeg' });
    expect(checkTemplateAssets(templateWithImage(png, 'card.png').t, config, '15881234').images).toHaveLength(
      1,
    );
    const gif = Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1');
    expect(
      templateError(() => checkTemplateAssets(templateWithImage(gif, 'card.png').t, config, '15881234')),
    ).toMatch(/neither JPEG nor PNG/);
  });
});

describe('the journal keeps the planned RCS kind (migration 5)', () => {
  it('stores rcs_kind with each message and hands it to the engine; the fallback leg has none', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ums-rcs-j-'));
    const journal = Journal.open(path.join(dir, 'j.db'));
    const t = parseTemplate(
      ['---', 'channel: rcs', 'fallback: auto', 'rcs: { brandId: B1 }', '---', '#{msg}', ''].join('\n'),
      'r.md',
    );
    const p = new Planner(t, HEADER, 1, DEFAULT_PRICES);
    journal.createCampaign({ id: 'c1', digest: 'd', csvPath: 'r.csv', templatePath: 'r.md', settings: {} });
    journal.insertPlanned('c1', [
      p.plan(['a', '010-1234-0001', '짧은 안내'], 1),
      p.plan(['b', '010-1234-0002', chars(101)], 2),
    ]);
    journal.markPlanned('c1', 2, {});
    const rcs = journal.delivery().nextPlanned('c1', 'rcs', 0, 10);
    expect(rcs.map((m) => [m.row, m.rcsKind])).toEqual([
      [1, 'sms'],
      [2, 'lms'],
    ]);
    const db = new Database(path.join(dir, 'j.db'), { readonly: true });
    expect(
      db.prepare('SELECT row, leg, channel, status, rcs_kind FROM messages WHERE leg = 1 ORDER BY row').all(),
    ).toEqual([
      { row: 1, leg: 1, channel: 'sms', status: 'held', rcs_kind: null },
      { row: 2, leg: 1, channel: 'lms', status: 'held', rcs_kind: null },
    ]);
    db.close();
    journal.close();
  });

  it('gives RCS messages planned before migration 5 the kind the provider used to pick by itself', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ums-rcs-m5-')), 'j.db');
    const db = new Database(file);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    for (const m of MIGRATIONS.filter((x) => x.version <= 4)) {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(m.version, 'then');
    }
    const campaign = db.prepare(
      `INSERT INTO campaigns (id, digest, csv_path, template_path, state, settings, created_at) VALUES (?, 'd', 'r.csv', 't.md', 'sending', ?, 'then')`,
    );
    campaign.run('plain', JSON.stringify({ rcs: { brandId: 'B1', templateId: null } }));
    campaign.run('tpl', JSON.stringify({ rcs: { brandId: 'B1', templateId: 'UBR.t1' } }));
    const msg = db.prepare(
      `INSERT INTO messages (campaign_id, row, leg, to_addr, channel, status, bytes, subject, body) VALUES (?, ?, ?, '01012340000', ?, 'planned', ?, ?, 'x')`,
    );
    msg.run('plain', 1, 0, 'rcs', 100, null);
    msg.run('plain', 2, 0, 'rcs', 101, null);
    msg.run('plain', 3, 0, 'rcs', 5, '제목');
    msg.run('plain', 3, 1, 'lms', 5, '제목');
    msg.run('tpl', 1, 0, 'rcs', 5, null);
    db.close();

    const journal = Journal.open(file);
    journal.close();
    const after = new Database(file, { readonly: true });
    expect(
      after
        .prepare('SELECT campaign_id AS c, row, leg, rcs_kind AS k FROM messages ORDER BY c, row, leg')
        .all(),
    ).toEqual([
      { c: 'plain', row: 1, leg: 0, k: 'sms' },
      { c: 'plain', row: 2, leg: 0, k: 'lms' },
      { c: 'plain', row: 3, leg: 0, k: 'lms' },
      { c: 'plain', row: 3, leg: 1, k: null },
      { c: 'tpl', row: 1, leg: 0, k: 'text_template' },
    ]);
    after.close();
  });
});

describe('the simulator takes every RCS kind', () => {
  it('accepts RCS SMS, LMS, MMS and both templates, and fails 3104 on RCS as on AlimTalk', async () => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ums-rcs-sim-'));
    const sim = createSimProvider('sim', { type: 'sim', latencyMs: 0, dlrDelayMs: 0 }, { stateDir });
    const kinds = ['sms', 'lms', 'mms', 'text_template', 'image_template'] as const;
    const batch: OutboundMessage[] = kinds.map((kind, i) => ({
      key: `c1:${i + 1}:0`,
      to: i === 4 ? '01003104001' : `0101234000${i}`,
      from: '15881234',
      channel: 'rcs',
      subject: kind === 'lms' || kind === 'mms' ? '안내' : null,
      text: '안내',
      parts: 1,
      rcs: {
        brandId: 'B1',
        kind,
        templateId: kind.endsWith('template') ? 'T1' : null,
        variables: {},
        buttons: [],
        disableSms: true,
        commercial: false,
      },
      ...(kind === 'mms' ? { images: ['/nonexistent/card.jpg'] } : {}),
    }));
    const r = await sim.submit(batch);
    expect(r.kind).toBe('results');
    if (r.kind === 'results')
      expect(r.outcomes.map((o) => o.kind)).toEqual([
        'accepted',
        'accepted',
        'accepted',
        'accepted',
        'accepted',
      ]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const reports = (await sim.pollReports!()).reports;
    expect(reports.map((x) => [x.key, x.status, x.code]).sort()).toEqual([
      ['c1:1:0', 'delivered', '4000'],
      ['c1:2:0', 'delivered', '4000'],
      ['c1:3:0', 'delivered', '4000'],
      ['c1:4:0', 'delivered', '4000'],
      ['c1:5:0', 'failed', '3104'],
    ]);
    await sim.close();
  });
});
