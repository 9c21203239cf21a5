import { describe, expect, it } from 'vitest';
import { bindPattern, parseTemplate, renderPattern, type TextPattern } from '../../src/campaign/template.js';
import { InputError } from '../../src/errors.js';

/** Parse, expecting an InputError; returns its message. */
function fails(source: string, file = 'tpl.md'): string {
  let caught: unknown;
  try {
    parseTemplate(source, file);
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected parseTemplate to throw').toBeInstanceOf(InputError);
  const msg = (caught as Error).message;
  expect(msg.startsWith(`${file} `), msg).toBe(true);
  expect(msg, msg).toMatch(/ line \d+/);
  return msg;
}

const lineOf = (msg: string): number => Number(/ line (\d+)/.exec(msg)![1]);

const render = (p: TextPattern, vars: Record<string, string>): string => {
  const header = Object.keys(vars);
  return renderPattern(bindPattern(p, header), Object.values(vars));
};

describe('parseTemplate: valid templates', () => {
  it('reads the front matter and the body', () => {
    const t = parseTemplate(
      [
        '---',
        'channel: lms',
        'subject: "#{shop} 안내"',
        'ad: false',
        '---',
        '#{name}님,',
        '주문하신 #{item} 상품이 발송되었습니다.',
        '',
      ].join('\n'),
      'shipped.md',
    );
    expect(t.file).toBe('shipped.md');
    expect(t.channel).toBe('lms');
    expect(t.ad).toBe(false);
    expect(t.images).toEqual([]);
    expect(render(t.subject!, { shop: '한빛마트' })).toBe('한빛마트 안내');
    expect(render(t.body, { name: '홍길동', item: '담요' })).toBe(
      '홍길동님,\n주문하신 담요 상품이 발송되었습니다.',
    );
  });

  it('extracts #{var} names with the line they first appear on', () => {
    const t = parseTemplate(
      [
        '---',
        'channel: auto',
        'subject: "#{shop}"',
        '---',
        '',
        '#{name}님',
        '',
        '송장: #{invoice}',
        '#{name} / #{shop}',
      ].join('\n'),
      't.md',
    );
    expect(t.variables).toEqual([
      { name: 'shop', line: 3 },
      { name: 'name', line: 6 },
      { name: 'invoice', line: 8 },
    ]);
  });

  it('a file without front matter is all body, channel auto', () => {
    const t = parseTemplate('안녕하세요 #{name}님\n두 번째 줄', 'plain.md');
    expect(t.channel).toBe('auto');
    expect(t.subject).toBeNull();
    expect(t.variables).toEqual([{ name: 'name', line: 1 }]);
    expect(render(t.body, { name: '김' })).toBe('안녕하세요 김님\n두 번째 줄');
  });

  it('handles CRLF line endings: no \\r in the body, the same line numbers', () => {
    const lf = ['---', 'channel: auto', '---', '#{name}님', '', '주문 #{item}', ''].join('\n');
    const crlf = lf.replace(/\n/g, '\r\n');
    const a = parseTemplate(lf, 'a.md');
    const b = parseTemplate(crlf, 'b.md');
    expect(b.variables).toEqual(a.variables);
    expect(b.variables).toEqual([
      { name: 'name', line: 4 },
      { name: 'item', line: 6 },
    ]);
    const text = render(b.body, { name: 'x', item: 'y' });
    expect(text).toBe('x님\n\n주문 y');
    expect(text).not.toContain('\r');
  });

  it('ignores a UTF-8 BOM before the front matter', () => {
    const t = parseTemplate('\uFEFF---\nchannel: lms\n---\nbody', 'bom.md');
    expect(t.channel).toBe('lms');
  });

  it('an alimtalk block makes channel auto resolve to alimtalk', () => {
    const t = parseTemplate(
      ['---', 'alimtalk:', '  pfId: KA01PF1', '  templateId: KA01TP1', '---', '#{name}님'].join('\n'),
      'a.md',
    );
    expect(t.channel).toBe('alimtalk');
    expect(t.alimtalk).toMatchObject({ pfId: 'KA01PF1', templateId: 'KA01TP1', buttons: [] });
  });

  it('parses every template shipped in templates/', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const { fileURLToPath } = await import('node:url');
    const dir = fileURLToPath(new URL('../../templates/', import.meta.url));
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.md'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const t = parseTemplate(fs.readFileSync(path.join(dir, f), 'utf8'), f);
      expect(t.variables.length, f).toBeGreaterThan(0);
    }
  });
});

describe('parseTemplate: errors name the file and a line', () => {
  it('missing body', () => {
    const msg = fails('---\nchannel: auto\n---\n\n\n', 'empty-body.md');
    expect(msg).toMatch(/no message body/);
  });

  it('front matter never closed', () => {
    const msg = fails('---\nchannel: auto\nbody text', 'open.md');
    expect(lineOf(msg)).toBe(1);
  });

  it('unknown channel, on the channel line', () => {
    const msg = fails('---\nad: false\nchannel: kakao\n---\nhi');
    expect(msg).toContain('unknown channel "kakao"');
    expect(lineOf(msg)).toBe(3);
  });

  it('unknown front matter key, on its line', () => {
    const msg = fails('---\nchannel: auto\nsubjcet: "오타"\n---\nhi');
    expect(msg).toContain('subjcet');
    expect(lineOf(msg)).toBe(3);
  });

  it('malformed YAML names the line of the problem in the file', () => {
    // file line 1 is ---, line 2 channel, line 3 the broken flow sequence
    const msg = fails('---\nchannel: auto\nimages: [a.jpg\nad: false\n---\nhi');
    expect(msg).toMatch(/malformed front matter/);
    expect(lineOf(msg)).toBeGreaterThanOrEqual(3);
    expect(lineOf(msg)).toBeLessThanOrEqual(5);
  });

  it('malformed YAML deep in the front matter is not reported on line 1 or 2', () => {
    const msg = fails(
      [
        '---',
        'channel: lms',
        'ad: false',
        'fallback: none',
        'subject: "a"',
        'subject: "b"',
        '---',
        'hi',
      ].join('\n'),
    );
    expect(msg).toMatch(/malformed front matter/);
    expect(lineOf(msg)).toBe(6); // the duplicate key
  });

  it('a wrongly typed value names its key and line', () => {
    const msg = fails('---\nchannel: auto\nad: maybe\n---\nhi');
    expect(msg).toContain('ad');
    expect(lineOf(msg)).toBe(3);
  });

  it("a variable name with '.' is rejected on its line", () => {
    const msg = fails('---\nchannel: auto\n---\n안녕하세요\n#{user.name}님');
    expect(msg).toContain('user.name');
    expect(lineOf(msg)).toBe(5);
  });

  it('an empty variable #{} is rejected', () => {
    const msg = fails('hello #{}');
    expect(lineOf(msg)).toBe(1);
  });

  it('an unclosed #{ at the end is rejected on its line', () => {
    const msg = fails('---\nchannel: auto\n---\n#{name}님\n주문 #{item 상품');
    expect(msg).toMatch(/never closed/);
    expect(lineOf(msg)).toBe(5);
  });

  it('an unclosed #{ before a later, valid variable is still rejected', () => {
    const msg = fails('---\nchannel: auto\n---\n#{name님\n주문 #{item} 상품');
    expect(lineOf(msg)).toBe(4);
  });

  it('channel sms with a subject', () => {
    const msg = fails('---\nchannel: sms\nsubject: 안내\n---\nhi');
    expect(msg).toMatch(/subject/);
    expect(lineOf(msg)).toBe(3);
  });

  it('channel mms without images', () => {
    const msg = fails('---\nchannel: mms\n---\nhi');
    expect(msg).toMatch(/image/);
    expect(lineOf(msg)).toBe(2);
  });

  it('channel sms/lms with images', () => {
    const msg = fails('---\nchannel: lms\nimages: [a.jpg]\n---\nhi');
    expect(msg).toMatch(/mms/);
    expect(lineOf(msg)).toBe(3);
  });

  it('channel alimtalk without its pfId/templateId', () => {
    const msg = fails('---\nchannel: alimtalk\n---\nhi');
    expect(msg).toMatch(/alimtalk/);
  });

  it('an alias bomb in the front matter fails fast instead of expanding', () => {
    const bomb = [
      '---',
      'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
      'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
      'h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]',
      'i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]',
      '---',
      'hi',
    ].join('\n');
    const started = performance.now();
    fails(bomb, 'bomb.md');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('a YAML tag like !!js/function is refused, not run', () => {
    const msg = fails(
      '---\nchannel: auto\nsubject: !!js/function "function () { return 1 }"\n---\nhi',
      'tag.md',
    );
    expect(lineOf(msg)).toBe(3);
  });

  it('front matter that is not a mapping', () => {
    fails('---\n- a\n- b\n---\nhi');
  });
});

describe('text a template may not carry (issue 12)', () => {
  const fails = (source: string): string => {
    try {
      parseTemplate(source, 't.md');
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('expected the template to be refused');
  };

  it('a control character in the body, subject or fallbackText is refused, naming the line', () => {
    expect(fails('---\nchannel: auto\n---\n안녕하세요\n#{name}님\u0007\n')).toMatch(
      /^t\.md line 5: U\+0007 \(BEL\) in the body/,
    );
    expect(fails('---\nchannel: auto\n---\n안녕\t하세요\n')).toMatch(
      /^t\.md line 4: U\+0009 \(TAB\) in the body/,
    );
    expect(fails('---\nchannel: lms\nsubject: "안내\\u001b[2J"\n---\n안녕하세요\n')).toMatch(
      /^t\.md line 3: U\+001B \(ESC\) in the subject/,
    );
    expect(fails('---\nchannel: auto\n---\n안녕\u0085하세요\n')).toMatch(/U\+0085 in the body/);
  });

  it('a body beginning (광고) or a look-alike without ad: true is refused', () => {
    for (const start of ['(광고)', '  [광고]', '(광 고)', '（광고）', '【광고】']) {
      expect(fails(`---\nchannel: auto\n---\n${start} 겨울 세일\n`)).toMatch(
        /^t\.md line 4: the body begins with ".*", an ad, but the template is not ad: true/,
      );
    }
    expect(() => parseTemplate('---\nchannel: auto\n---\n광고 문의는 02-123-4567\n', 't.md')).not.toThrow();
  });
});
