import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeTempFiles, writePrivateFile, writePrivateFileSync } from '../../src/input/privateFile.js';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'ums-private-'));

describe('the private-file writer', () => {
  it('a producer that fails leaves no temp file and the old file as it was', async () => {
    const dir = tmp();
    const file = path.join(dir, 'out.csv');
    fs.writeFileSync(file, 'old\n');
    await expect(
      writePrivateFile(file, '-o out.csv', async (sink) => {
        await sink.write('x'.repeat(1 << 20)); // past the flush size: the temp file holds data
        expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toHaveLength(1);
        throw new Error('the journal went away');
      }),
    ).rejects.toThrow(/the journal went away/);
    expect(fs.readdirSync(dir)).toEqual(['out.csv']);
    expect(fs.readFileSync(file, 'utf8')).toBe('old\n');
  });

  it('removeTempFiles() (what a SIGINT/SIGTERM handler calls) removes a temp file being written', async () => {
    const dir = tmp();
    await writePrivateFile(path.join(dir, 'out.json'), '-o out.json', async (sink) => {
      await sink.write('y'.repeat(1 << 20));
      expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toHaveLength(1);
      removeTempFiles();
      expect(fs.readdirSync(dir)).toEqual([]);
    }).catch(() => undefined); // the rename of a removed temp file fails: that is the point
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('provider state is replaced atomically with mode 0600', () => {
    const dir = tmp();
    const file = path.join(dir, 'state.json');
    fs.writeFileSync(file, '{}', { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    writePrivateFileSync(file, '{"since":"x"}\n');
    expect(fs.readFileSync(file, 'utf8')).toBe('{"since":"x"}\n');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual(['state.json']);
  });
});
