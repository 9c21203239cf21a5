import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { htmlReportData, writeHtmlReport } from '../../src/app/htmlReport.js';
import { setLang } from '../../src/i18n/index.js';
import { Journal } from '../../src/journal/journal.js';
import { writeConfig } from '../support/campaign.js';
import { ROOT, runUms, workdir } from '../support/cli.js';

/**
 * `ums report C --html FILE` opened in headless Chromium (Debian's `chromium`): the page renders,
 * every chart draws, nothing is loaded from the network, no console error, no phone number in it.
 * Without /usr/bin/chromium the browser tests are skipped locally; in CI (CI set) they fail.
 */

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
const SCREENSHOT = path.join(ROOT, 'docs', 'report-screenshot.png');

let browser: Browser | undefined;

beforeAll(async () => {
  if (!haveChromium && !process.env.CI) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
});

interface Opened {
  requests: string[];
  errors: string[];
  charts: { id: string; chart: boolean; drawn: boolean }[];
  canvases: number;
  text: string;
  injected: unknown;
  page: import('playwright-core').Page;
}

/** Open `file` as file:// and look at every canvas once the page has loaded. */
async function open(file: string): Promise<Opened> {
  const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  const seen = await page.evaluate(() => {
    const w = window as unknown as {
      Chart: { getChart(c: HTMLCanvasElement): unknown };
      __injected?: unknown;
    };
    const canvases = [...document.querySelectorAll('canvas')];
    return {
      canvases: canvases.length,
      charts: canvases.map((c) => {
        const ctx = c.getContext('2d')!;
        const px = ctx.getImageData(0, 0, c.width, c.height).data;
        let drawn = false;
        for (let i = 3; i < px.length; i += 4)
          if (px[i]! > 0) {
            drawn = true;
            break;
          }
        return { id: c.id, chart: Boolean(w.Chart.getChart(c)), drawn };
      }),
      // biome-ignore lint/performance/useDomNodeTextContent: the rendered text, not the scripts' source
      text: document.body.innerText,
      injected: w.__injected ?? null,
    };
  });
  return { ...seen, requests, errors, page };
}

function writeCsv(dir: string, phones: string[]): void {
  fs.writeFileSync(
    path.join(dir, 'r.csv'),
    `${['name,phone', ...phones.map((p, i) => `고객${i},${p}`)].join('\n')}\n`,
  );
}

describe.skipIf(!haveChromium && !process.env.CI)('report --html in Chromium', () => {
  it('a real AlimTalk campaign with LMS fallback: every chart draws, offline, no number in the page', async () => {
    const dir = workdir();
    const phones = [
      ...Array.from({ length: 40 }, (_, i) => `010-2100-${String(i + 1).padStart(4, '0')}`),
      // the simulator's test numbers: 3104 not a KakaoTalk user (the LMS fallback is delivered),
      // 3032 not a subscriber (both legs fail)
      ...Array.from({ length: 6 }, (_, i) => `010-0310-4${String(i).padStart(3, '0')}`),
      ...Array.from({ length: 3 }, (_, i) => `010-0303-2${String(i).padStart(3, '0')}`),
    ];
    writeCsv(dir, phones);
    fs.writeFileSync(
      path.join(dir, 'a.md'),
      [
        '---',
        'channel: alimtalk',
        'alimtalk:',
        '  pfId: KA01PF200101000000000000000000',
        '  templateId: KA01TP200101000000000000000001',
        'fallback: lms',
        'subject: 주문 안내',
        '---',
        '#{name}님, 주문하신 상품이 발송되었습니다.',
      ].join('\n'),
    );
    writeConfig(dir, { tps: 20, dlrDelayMs: 20 });
    const send = await runUms(['send', 'r.csv', '-t', 'a.md', '--yes'], { cwd: dir });
    expect(send.stderr).not.toMatch(/^ums:/m);
    expect(send.code).toBe(3); // the three 3032 rows were not reached

    const r = await runUms(['report', '--html', 'report.html'], { cwd: dir });
    expect(r.stderr).not.toMatch(/^ums:/m);
    expect(r.code).toBe(3);
    const file = path.join(dir, 'report.html');
    expect(r.stdout).toContain(`HTML report: ${file}`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const html = fs.readFileSync(file, 'utf8');
    for (const p of phones) {
      expect(html).not.toContain(p);
      expect(html).not.toContain(p.replace(/-/g, ''));
    }
    // nothing to load: no script or stylesheet by URL (the library's own comments name its sites)
    expect(/<script[^>]*\ssrc=|<link[^>]*\shref=/i.test(html)).toBe(false);

    // --json keeps stdout one JSON document: the path goes to stderr
    const j = await runUms(['report', '--json', '--html', 'again.html'], { cwd: dir });
    expect(JSON.parse(j.stdout).campaign).toMatch(/^c-/);
    expect(j.stderr).toContain('HTML report:');

    const seen = await open(file);
    expect(seen.errors).toEqual([]);
    expect(seen.requests).toEqual([pathToFileURL(file).href]);
    expect(seen.charts.map((c) => c.id)).toEqual([
      'chart-rate',
      'chart-funnel',
      'chart-latency',
      'chart-reasons',
      'chart-cost',
    ]);
    for (const c of seen.charts) expect(c, c.id).toMatchObject({ chart: true, drawn: true });
    expect(seen.text).toContain('reached 46 of 49');
    expect(seen.text).toContain('Sends per second against the lane TPS');
    const legend = await seen.page.evaluate(() => {
      const w = window as unknown as {
        Chart: { getChart(c: Element): { data: { datasets: { label: string }[] } } | undefined };
      };
      const c = w.Chart.getChart(document.getElementById('chart-rate')!)!;
      return c.data.datasets.map((d) => d.label);
    });
    expect(legend).toEqual(['sim · AlimTalk', 'sim · LMS', 'sim TPS 20']);
    const shot = path.join(dir, 'report.png');
    await seen.page.screenshot({ path: shot, fullPage: true });
    expect(fs.statSync(shot).size).toBeGreaterThan(10_000);
    // UMS_UPDATE_SCREENSHOT=1 refreshes the README's screenshot from this run
    if (process.env.UMS_UPDATE_SCREENSHOT) fs.copyFileSync(shot, SCREENSHOT);
    await seen.page.close();
  });

  it('escapes what it inserts: a hostile campaign name and provider reason stay text, in Korean too', async () => {
    const id = 'c</title><b onmouseover=x>"&\'';
    const journal = Journal.open(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ums-journal-')), 'j.db'));
    journal.createCampaign({ id, digest: 'd', csvPath: 'r.csv', templatePath: 't.md', settings: {} });
    journal.insertPlanned(
      id,
      [0, 1, 2].map((i) => ({
        row: i + 1,
        to: `0109876543${i}`,
        channel: 'sms' as const,
        status: i === 0 ? ('planned' as const) : ('rejected' as const),
        reason:
          i === 0
            ? null
            : `9${i}: </script><script>window.__injected=1</script><img src=x onerror="window.__injected=2"> 010-9876-5432 \u2028\u2029 & "'`,
        parts: 1,
        bytes: 10,
        subject: null,
        body: '안내',
        cost: 13,
        leg: 0,
        vars: null,
        rcsKind: null,
        deferrable: false,
      })),
    );
    journal.markPlanned(id, 3, {});
    const campaign = journal.findCampaign(id)!;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ums-html-'));
    const file = path.join(dir, 'k.html');
    setLang('ko');
    try {
      await writeHtmlReport(
        journal,
        campaign,
        undefined,
        file,
        '--html k.html',
        new Date('2026-12-01T19:21:43Z'),
        'ko',
      );
    } finally {
      setLang('en');
      journal.close();
    }
    const html = fs.readFileSync(file, 'utf8');
    expect(html).not.toContain('010-9876-5432');
    expect(html).not.toMatch(/0109876543\d/);
    expect(html).not.toContain('\u2028');
    expect(html).not.toContain('<b onmouseover');
    expect(html).toContain('<html lang="ko">');
    expect(html).toContain('2026-12-02 04:21 KST'); // generated at, in the configured zone
    const seen = await open(file);
    expect(seen.errors).toEqual([]);
    expect(seen.injected).toBeNull();
    expect(seen.requests).toEqual([pathToFileURL(file).href]);
    expect(seen.text).toContain('채널·단계별 발송 현황');
    expect(seen.text).toContain('ums 리포트: c</title><b onmouseover=x>"&\'');
    for (const c of seen.charts) expect(c, c.id).toMatchObject({ chart: true, drawn: true });
    expect(seen.charts.map((c) => c.id)).toEqual(['chart-funnel', 'chart-reasons', 'chart-cost']);
    const labels = await seen.page.evaluate(() => {
      const w = window as unknown as {
        Chart: { getChart(c: Element): { data: { labels: string[] } } | undefined };
      };
      return w.Chart.getChart(document.getElementById('chart-reasons')!)!.data.labels;
    });
    expect(labels[0]).toContain('</script><script>window.__injected=1</script>');
    expect(labels[0]).toContain('010-****-5432');
    await seen.page.close();
  });
});

describe('report --html: what a leg is called', () => {
  it('leg 1 is the fallback; legs 2+ are retries (`ums resume --retry-failed`), not fallbacks', () => {
    const journal = Journal.open(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ums-journal-')), 'j.db'));
    try {
      journal.createCampaign({
        id: 'legs',
        digest: 'd',
        csvPath: 'r.csv',
        templatePath: 't.md',
        settings: {},
      });
      const legs: [number, 'sms' | 'lms'][] = [
        [0, 'sms'],
        [1, 'lms'],
        [2, 'sms'],
        [3, 'sms'],
      ];
      journal.insertPlanned(
        'legs',
        legs.map(([leg, channel]) => ({
          row: 1,
          to: '01098765432',
          channel,
          status: 'planned' as const,
          reason: null,
          parts: 1,
          bytes: 10,
          subject: null,
          body: '안내',
          cost: 13,
          leg,
          vars: null,
          rcsKind: null,
          deferrable: false,
        })),
      );
      journal.markPlanned('legs', 1, {});
      const data = htmlReportData(
        journal,
        journal.findCampaign('legs')!,
        undefined,
        new Date('2026-12-01T00:00:00Z'),
      );
      expect(data.funnel?.labels).toEqual([
        'SMS (first)',
        'LMS (fallback)',
        'SMS (retry 1)',
        'SMS (retry 2)',
      ]);
      expect(data.cost?.labels).toEqual(data.funnel?.labels);
    } finally {
      journal.close();
    }
  });
});
