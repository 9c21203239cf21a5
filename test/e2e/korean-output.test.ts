import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeConfig } from '../support/campaign.js';
import { runUms, workdir } from '../support/cli.js';

/** The environment of an English run: no Korean locale from the machine the tests run on. */
const EN = { LANG: 'C', LC_ALL: '' };
const KO_ENV = { LANG: 'ko_KR.UTF-8', LC_ALL: '' };

const ALIMTALK = [
  '---',
  'channel: alimtalk',
  'alimtalk:',
  '  pfId: KA01PF200101000000000000000000',
  '  templateId: KA01TP200101000000000000000001',
  '---',
  '#{name}님, 주문하신 상품이 발송되었습니다.',
].join('\n');

/** 4 rows: 2 reached by AlimTalk, 1 not a KakaoTalk user (the simulator's 3104: its SMS fallback reaches it), 1 bad number. */
function campaignDir(lang?: string): string {
  const dir = workdir();
  fs.writeFileSync(
    path.join(dir, 'r.csv'),
    'name,phone\n가,010-2100-0001\n나,010-2100-0002\n다,010-0310-4001\n라,010-1234\n',
  );
  fs.writeFileSync(path.join(dir, 'a.md'), ALIMTALK);
  const config = writeConfig(dir, { tps: 0, dlrDelayMs: 20 });
  if (lang) fs.appendFileSync(config, `lang: ${lang}\n`);
  return dir;
}

describe('Korean output (LANG=ko*, --lang ko, lang: ko)', () => {
  it('LANG=ko_KR.UTF-8: the dry-run plan, the report and its reasons are Korean; exit codes are unchanged', async () => {
    const dir = campaignDir();
    const dry = await runUms(['send', 'r.csv', '-t', 'a.md', '--dry-run'], { cwd: dir, env: KO_ENV });
    expect(dry.code).toBe(3);
    expect(dry.stdout).toContain('시험 실행: 초안으로 계획함, 발송 안 함');
    expect(dry.stdout).toMatch(/^ {2}수신자 +r\.csv \(UTF-8\), 4행$/m);
    expect(dry.stdout).toMatch(/^ {2}발송 예정 +3 +알림톡 3 +예상 비용 \d+원$/m);
    expect(dry.stdout).toContain('주요 사유');
    expect(dry.stdout).toContain('잘못된 번호');
    expect(dry.stdout).toContain('전화번호 "010-1234"는 올바른 국내 번호가 아님');
    expect(dry.stdout).not.toMatch(/\b(planned|rejected|recipients|top reasons)\b/);

    const send = await runUms(['send', 'r.csv', '-t', 'a.md', '--yes'], { cwd: dir, env: KO_ENV });
    expect(send.code).toBe(3);
    const report = await runUms(['report', '--failed'], { cwd: dir, env: KO_ENV });
    expect(report.code).toBe(3);
    expect(report.stdout).toContain('4명 중 3명 도달 (알림톡 2, 대체발송 SMS 1)');
    expect(report.stdout).toContain('나가지 못한 행');
    // the journal keeps "3104: not a KakaoTalk user"; a person reads it in Korean
    expect(report.stdout).toMatch(/^ {4}3104 +1 +예: 4행: 카카오톡 사용자가 아님$/m);
    expect(report.stdout).toMatch(/^ {4}5행 +-/m);
    expect(report.stdout).not.toContain('not a KakaoTalk user');
    expect(report.stdout).not.toContain('010-2100-0001'); // numbers stay masked

    // the same journal in English reads as before
    const en = await runUms(['report', '--failed'], { cwd: dir, env: EN });
    expect(en.code).toBe(3);
    expect(en.stdout).toContain('reached 3 of 4 (AlimTalk 2, fallback SMS 1)');
    expect(en.stdout).toContain('rows that did not go out');
    expect(en.stdout).toContain('e.g. row 4: not a KakaoTalk user');
    expect(en.stdout).not.toMatch(/[가-힣]{2,}행|도달|수신자/);
  });

  it('--lang ko on any command, and --json is the same document in both languages', async () => {
    const dir = campaignDir();
    expect((await runUms(['send', 'r.csv', '-t', 'a.md', '--yes'], { cwd: dir, env: EN })).code).toBe(3);
    const ko = await runUms(['report', '--lang', 'ko'], { cwd: dir, env: EN });
    expect(ko.stdout).toContain('4명 중 3명 도달');
    const list = await runUms(['campaigns', '--lang', 'ko'], { cwd: dir, env: EN });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^캠페인 +생성 +CSV +템플릿 +상태/m);
    expect(list.stdout).toContain('완료');

    const jsonEn = await runUms(['report', '--json'], { cwd: dir, env: EN });
    const jsonKo = await runUms(['report', '--json', '--lang', 'ko'], { cwd: dir, env: EN });
    const jsonLang = await runUms(['report', '--json'], { cwd: dir, env: KO_ENV });
    expect(jsonKo.code).toBe(jsonEn.code);
    expect(jsonKo.stdout).toBe(jsonEn.stdout);
    expect(jsonLang.stdout).toBe(jsonEn.stdout);
    expect(jsonEn.stdout).toContain('"3104: not a KakaoTalk user"');
    const exportEn = await runUms(['export', JSON.parse(jsonEn.stdout).campaign, '--format', 'json'], {
      cwd: dir,
      env: EN,
    });
    const exportKo = await runUms(['export', JSON.parse(jsonEn.stdout).campaign, '--format', 'json'], {
      cwd: dir,
      env: KO_ENV,
    });
    expect(exportKo.stdout).toBe(exportEn.stdout);

    // --lang en wins over a Korean locale
    const forced = await runUms(['report', '--lang', 'en'], { cwd: dir, env: KO_ENV });
    expect(forced.stdout).toContain('reached 3 of 4');
  });

  it('lang: ko in the config: errors are Korean lines with the place translated, exit codes unchanged', async () => {
    const dir = campaignDir('ko');
    const missing = await runUms(['report', 'nope'], { cwd: dir, env: EN });
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe('ums: 저널에 "nope" 캠페인이 없습니다 (`ums campaigns` 참고)');

    fs.writeFileSync(path.join(dir, 'b.md'), '---\nchannel: sms\n---\n#{이름}님 안녕하세요\n');
    const variable = await runUms(['send', 'r.csv', '-t', 'b.md', '--dry-run'], { cwd: dir, env: EN });
    expect(variable.code).toBe(2);
    expect(variable.stderr.trim()).toBe(
      'ums: b.md 4번째 줄: 변수 #{이름}에 해당하는 열이 r.csv에 없습니다 (있는 열: name, phone)',
    );

    const nofile = await runUms(['send', 'none.csv', '-t', 'a.md', '--dry-run'], { cwd: dir, env: EN });
    expect(nofile.code).toBe(2);
    expect(nofile.stderr.trim()).toBe('ums: none.csv: 수신자 CSV 파일 없음');

    const tps = await runUms(['send', 'r.csv', '-t', 'a.md', '--tps', 'x'], { cwd: dir, env: EN });
    expect(tps.code).toBe(2);
    expect(tps.stderr.trim()).toBe('ums: --tps "x": 0보다 큰 숫자여야 합니다');

    // and the same errors in English, byte for byte as before
    const en = await runUms(['report', 'nope', '--lang', 'en'], { cwd: dir, env: EN });
    expect(en.code).toBe(2);
    expect(en.stderr.trim()).toBe('ums: no campaign "nope" in the journal (see `ums campaigns`)');
  });

  it('--help is Korean with LANG=ko*, --lang ko or lang: ko; English otherwise', async () => {
    const dir = workdir();
    const byEnv = await runUms(['--help'], { cwd: dir, env: KO_ENV });
    expect(byEnv.code).toBe(0);
    expect(byEnv.stdout).toContain('사용법: ums');
    expect(byEnv.stdout).toContain('수신자 CSV와 템플릿으로 캠페인을 계획하고 발송');
    const byFlag = await runUms(['send', '--help', '--lang', 'ko'], { cwd: dir, env: EN });
    expect(byFlag.stdout).toContain('계획만 세우고 보여 줌; 발송하지 않음');
    expect(byFlag.stdout).toContain('(기본값: "auto")');
    expect(byFlag.stdout).toContain('공통 옵션:');
    fs.writeFileSync(path.join(dir, 'ums.config.yaml'), 'lang: ko\n');
    const byConfig = await runUms(['report', '--help'], { cwd: dir, env: EN });
    expect(byConfig.stdout).toContain('발송 결과: 상태·채널별 합계');
    fs.rmSync(path.join(dir, 'ums.config.yaml'));
    const en = await runUms(['send', '--help'], { cwd: dir, env: EN });
    expect(en.stdout).toContain('Usage: ums send [options] <recipients.csv>');
    expect(en.stdout).toContain('plan and show the plan; send nothing');
    expect(en.stdout).not.toMatch(/[가-힣]/);
  });

  it('a --lang or lang: that is neither ko nor en: one line naming it, exit 2', async () => {
    const dir = workdir();
    const flag = await runUms(['campaigns', '--lang', 'fr'], { cwd: dir, env: EN });
    expect(flag.code).toBe(2);
    expect(flag.stderr.trim()).toBe('ums: --lang "fr": use ko or en');
    fs.writeFileSync(path.join(dir, 'ums.config.yaml'), 'lang: jp\n');
    const config = await runUms(['campaigns'], { cwd: dir, env: EN });
    expect(config.code).toBe(2);
    expect(config.stderr.trim()).toBe('ums: ums.config.yaml: lang "jp": use ko or en');
  });

  it('the rest in Korean: a CSV error, a template error, a route error, an unknown option, the progress line', async () => {
    const dir = campaignDir();
    fs.writeFileSync(path.join(dir, 'bad.csv'), 'name,phone\n가,010-2100-0001\n나,"010-2100-0002\n');
    fs.writeFileSync(path.join(dir, 'open.md'), '---\nchannel: sms\nHello');
    const csv = await runUms(['send', 'bad.csv', '-t', 'a.md', '--dry-run'], { cwd: dir, env: KO_ENV });
    expect(csv.code).toBe(2);
    expect(csv.stderr).toMatch(
      /^ums: bad\.csv \d+행, \d+번째 줄.*: 따옴표로 시작한 필드가 닫히지 않았습니다/m,
    );
    const csvEn = await runUms(['send', 'bad.csv', '-t', 'a.md', '--dry-run'], { cwd: dir, env: EN });
    expect(csvEn.code).toBe(2);
    expect(csvEn.stderr).toMatch(
      /^ums: bad\.csv row \d+, line \d+.*: a quoted field is never closed \(unbalanced "\)$/m,
    );

    const tpl = await runUms(['send', 'r.csv', '-t', 'open.md', '--dry-run'], { cwd: dir, env: KO_ENV });
    expect(tpl.code).toBe(2);
    expect(tpl.stderr).toContain(
      'ums: open.md 1번째 줄: ---로 연 머리말(front matter)이 두 번째 ---로 닫히지 않았습니다',
    );
    const tplEn = await runUms(['send', 'r.csv', '-t', 'open.md', '--dry-run'], { cwd: dir, env: EN });
    expect(tplEn.stderr).toContain(
      'ums: open.md line 1: front matter opened with --- is never closed with a second ---',
    );

    fs.writeFileSync(path.join(dir, 'route.yaml'), 'routes:\n  sms: [sim, sim]\n');
    const route = await runUms(['send', 'r.csv', '-t', 'a.md', '--dry-run', '--config', 'route.yaml'], {
      cwd: dir,
      env: KO_ENV,
    });
    expect(route.code).toBe(2);
    expect(route.stderr).toContain('ums: route.yaml: routes.sms: "sim"이(가) 두 번 들어 있습니다');
    const routeEn = await runUms(['send', 'r.csv', '-t', 'a.md', '--dry-run', '--config', 'route.yaml'], {
      cwd: dir,
      env: EN,
    });
    expect(routeEn.stderr).toContain('ums: route.yaml: routes.sms: "sim" is listed twice');

    const opt = await runUms(['send', 'r.csv', '-t', 'a.md', '--dry-rn'], { cwd: dir, env: KO_ENV });
    expect(opt.code).toBe(2);
    expect(opt.stderr).toContain("오류: 알 수 없는 옵션입니다: '--dry-rn'");
    expect(opt.stderr).toContain('--dry-run을(를) 쓰려던 것인가요?');
    const optEn = await runUms(['send', 'r.csv', '-t', 'a.md', '--dry-rn'], { cwd: dir, env: EN });
    expect(optEn.code).toBe(2);
    expect(optEn.stderr).toContain("error: unknown option '--dry-rn'");
    expect(optEn.stderr).toContain('(Did you mean --dry-run?)');

    const send = await runUms(['send', 'r.csv', '-t', 'a.md', '--yes', '--campaign', 'c1'], {
      cwd: dir,
      env: KO_ENV,
    });
    expect(send.code).toBe(3);
    expect(send.stderr).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d KST c1 발송 \d+\/3 · .*실패 \d+/m);
    expect(send.stderr).not.toMatch(/ sent \d+\/\d+/);
  });

  it('Korean too: UMS_NOW, an unknown campaign to export, a bad opt-out number, a bad --port (exit codes unchanged)', async () => {
    const dir = campaignDir();
    const now = await runUms(['send', 'r.csv', '-t', 'a.md', '--dry-run'], {
      cwd: dir,
      env: { ...KO_ENV, UMS_NOW: 'yesterday' },
    });
    expect(now.code).toBe(2);
    expect(now.stderr).toContain('ums: UMS_NOW "yesterday": ISO 8601 시각이 아닙니다');
    const nowEn = await runUms(['send', 'r.csv', '-t', 'a.md', '--dry-run'], {
      cwd: dir,
      env: { ...EN, UMS_NOW: 'yesterday' },
    });
    expect(nowEn.code).toBe(2);
    expect(nowEn.stderr).toContain(
      'ums: UMS_NOW "yesterday": not an ISO 8601 time (e.g. 2026-12-02T09:00:00+09:00)',
    );

    const exp = await runUms(['export', 'nope'], { cwd: dir, env: KO_ENV });
    expect(exp.code).toBe(2);
    expect(exp.stderr).toContain('ums: 저널에 "nope" 캠페인이 없습니다 (`ums campaigns` 참고)');
    expect(exp.stderr).not.toContain('no campaign');
    const expEn = await runUms(['export', 'nope'], { cwd: dir, env: EN });
    expect(expEn.code).toBe(2);
    expect(expEn.stderr).toContain('ums: no campaign "nope" in the journal (see `ums campaigns`)');

    const opt = await runUms(['optout', 'add', '010-1234'], { cwd: dir, env: KO_ENV });
    expect(opt.code).toBe(2);
    expect(opt.stderr).toMatch(/^ums: .*[가-힣]/m);
    expect(opt.stderr).not.toMatch(/not a valid|phone number/);
    const optEn = await runUms(['optout', 'add', '010-1234'], { cwd: dir, env: EN });
    expect(optEn.code).toBe(2);
    expect(optEn.stderr).not.toMatch(/[가-힣]/);

    const port = await runUms(['listen', '--port', '0x'], { cwd: dir, env: KO_ENV });
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('ums: --port "0x": 0-65535 사이의 포트 번호를 쓰세요');
    const portEn = await runUms(['listen', '--port', '0x'], { cwd: dir, env: EN });
    expect(portEn.code).toBe(2);
    expect(portEn.stderr).toContain('ums: --port "0x": use a port number 0-65535');
  });
});
