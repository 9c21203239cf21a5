import { describe, expect, it } from 'vitest';
import { countSmsSegments } from '../../src/text/gsm.js';

describe('countSmsSegments: GSM-7', () => {
  it('a single part holds up to 160 septets', () => {
    expect(countSmsSegments('')).toEqual({ encoding: 'gsm7', units: 0, parts: 1 });
    expect(countSmsSegments('a'.repeat(1))).toEqual({ encoding: 'gsm7', units: 1, parts: 1 });
    expect(countSmsSegments('a'.repeat(160))).toEqual({ encoding: 'gsm7', units: 160, parts: 1 });
  });

  it('161 septets need two 153-septet parts', () => {
    expect(countSmsSegments('a'.repeat(161))).toEqual({ encoding: 'gsm7', units: 161, parts: 2 });
    expect(countSmsSegments('a'.repeat(306))).toMatchObject({ parts: 2 }); // 2 x 153
    expect(countSmsSegments('a'.repeat(307))).toMatchObject({ parts: 3 });
    expect(countSmsSegments('a'.repeat(459))).toMatchObject({ parts: 3 }); // 3 x 153
    expect(countSmsSegments('a'.repeat(460))).toMatchObject({ parts: 4 });
  });

  it('accepts the GSM basic alphabet beyond ASCII (é, £, Δ, newline) at one septet', () => {
    const s = 'Café £5 Δ\nÄÖÜ äöü ñ ¿¡ §';
    expect(countSmsSegments(s)).toEqual({ encoding: 'gsm7', units: [...s].length, parts: 1 });
  });

  it('counts extension-table characters (€ [ ] { } ~ ^ | \\) as two septets', () => {
    expect(countSmsSegments('€')).toEqual({ encoding: 'gsm7', units: 2, parts: 1 });
    expect(countSmsSegments('[]{}~^|\\')).toMatchObject({ encoding: 'gsm7', units: 16 });
    // 159 + one escape pair = 161 septets: over a single part
    expect(countSmsSegments(`${'a'.repeat(159)}€`)).toMatchObject({ encoding: 'gsm7', units: 161, parts: 2 });
    expect(countSmsSegments(`${'a'.repeat(158)}€`)).toMatchObject({ units: 160, parts: 1 });
  });
});

describe('countSmsSegments: UCS-2', () => {
  it('any character outside GSM-7 switches the whole text to UCS-2', () => {
    expect(countSmsSegments(`${'a'.repeat(100)}가`)).toEqual({ encoding: 'ucs2', units: 101, parts: 2 });
    expect(countSmsSegments('Hello ✓')).toMatchObject({ encoding: 'ucs2' });
    expect(countSmsSegments('ç')).toMatchObject({ encoding: 'ucs2' }); // lower-case ç is not GSM-7 (only Ç is)
  });

  it('70 units fit one part, 71 need two, 67 per part after that', () => {
    expect(countSmsSegments('가'.repeat(70))).toEqual({ encoding: 'ucs2', units: 70, parts: 1 });
    expect(countSmsSegments('가'.repeat(71))).toEqual({ encoding: 'ucs2', units: 71, parts: 2 });
    expect(countSmsSegments('가'.repeat(134))).toMatchObject({ parts: 2 }); // 2 x 67
    expect(countSmsSegments('가'.repeat(135))).toMatchObject({ parts: 3 });
    expect(countSmsSegments('가'.repeat(201))).toMatchObject({ parts: 3 }); // 3 x 67
    expect(countSmsSegments('가'.repeat(202))).toMatchObject({ parts: 4 });
  });

  it('counts an emoji as two UTF-16 units', () => {
    expect(countSmsSegments('😀')).toEqual({ encoding: 'ucs2', units: 2, parts: 1 });
    expect(countSmsSegments('😀'.repeat(35))).toMatchObject({ units: 70, parts: 1 });
    expect(countSmsSegments(`${'😀'.repeat(35)}a`)).toMatchObject({ units: 71, parts: 2 });
  });
});
