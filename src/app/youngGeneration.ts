import v8 from 'node:v8';

/**
 * Keeps this thread's young generation from growing past `semiSpaceMb` while a large CSV is planned.
 *
 * Why: V8 doubles the young generation (two semi-spaces) whenever enough has survived collections
 * since it last grew, up to 2 x 16 MB on a 64-bit Node 20, and each doubling stays resident. A
 * planned row lives until its packet goes to the journal writer, so planning a million rows grows it
 * to the maximum: measured, 32 MB of a 145 MB peak. With 2 x 8 MB, planning is as fast (the rows
 * die young either way) and the peak is ~17 MB lower.
 *
 * How: there is no per-isolate setting for the main thread after start (`--max-semi-space-size` is
 * read once, when the heap is set up), but V8 reads `--semi-space-growth-factor` each time it grows
 * the young generation. Once it has reached the size wanted, a factor of 1 keeps it there; release()
 * puts V8's default back. Left alone when the process was started with its own semi-space flags.
 * The flag is the process's: the journal writer thread's young generation stops growing too, at
 * 2-4 MB instead of its 8 MB limit (measured, a million rows: its collections take ~100 ms instead
 * of ~50 ms, in 3.5 s; a few MB less memory).
 */
export class YoungGenerationCap {
  private capped = false;
  private readonly active: boolean;

  constructor(private readonly semiSpaceMb: number) {
    const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
    this.active = !flags.some((f) =>
      /^--(semi-space-growth-factor|max-semi-space-size|min-semi-space-size)\b/.test(f.replace(/_/g, '-')),
    );
  }

  /** Call now and then (cheap: a few microseconds): stops the growth once the cap is reached. */
  check(): void {
    if (!this.active) return;
    if (this.capped) {
      // again: V8 puts a factor below 2 back to 2 whenever it sets up a heap (a Worker started since)
      v8.setFlagsFromString('--semi-space-growth-factor=1');
      return;
    }
    const newSpace = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    if (newSpace && newSpace.space_size >= 2 * this.semiSpaceMb * 1024 * 1024) {
      v8.setFlagsFromString('--semi-space-growth-factor=1');
      this.capped = true;
    }
  }

  release(): void {
    if (!this.capped) return;
    v8.setFlagsFromString(`--semi-space-growth-factor=${V8_DEFAULT_GROWTH_FACTOR}`);
    this.capped = false;
  }
}

const V8_DEFAULT_GROWTH_FACTOR = 2;
