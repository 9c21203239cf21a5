import { createHash } from 'node:crypto';
import path from 'node:path';
import { MB, readInputFile } from '../../input/readableFile.js';
import type { SideState } from '../types.js';

/** No image a provider takes is larger. */
const MAX_IMAGE_BYTES = 10 * MB;

type Cache = Record<string, Record<string, { fileId: string; name: string; uploadedAt: string }>>;

/**
 * MMS and RCS images are uploaded to Solapi's storage once per campaign and file: the fileIds are
 * kept as small JSON beside the journal (a file, or on PostgreSQL the journal's side state, which
 * every worker of the campaign reads), by campaign, type and the file's sha256, so a resumed
 * campaign, or another worker, reuses them and two batches in flight at once share one upload.
 */
export class ImageCache {
  private cache: Cache = {};
  private readonly inFlight = new Map<string, Promise<string>>();
  private readonly resolved = new Map<string, string>();

  constructor(private readonly stored: SideState) {
    this.cache = this.read();
  }

  private read(): Cache {
    const text = this.stored.get();
    if (text === null) return {};
    try {
      const parsed = JSON.parse(text) as unknown;
      return parsed && typeof parsed === 'object' ? (parsed as Cache) : {};
    } catch {
      return {};
    }
  }

  /** Take in the uploads other workers kept since (ours win: the same entry is the same file). */
  private refresh(): void {
    const stored = this.read();
    for (const [campaign, entries] of Object.entries(stored))
      if (entries && typeof entries === 'object')
        this.cache[campaign] = { ...entries, ...this.cache[campaign] };
  }

  /**
   * The fileId for `image` in `campaign`, uploading it (with `upload`) the first time. `fileType` is
   * the storage type it is uploaded as: the same file uploaded as MMS and as RCS is two files.
   */
  async fileId(
    campaign: string,
    image: string,
    fileType: string,
    upload: (content: Buffer, name: string) => Promise<string>,
  ): Promise<string> {
    // every message of an MMS campaign names the same file: read and hash it once per run
    const memo = `${campaign}\u0000${fileType}\u0000${image}`;
    const resolved = this.resolved.get(memo);
    if (resolved) return resolved;
    // checked again at sending (the file may have changed since planning): a regular file, capped
    const content = readInputFile(image, { what: 'image file', maxBytes: MAX_IMAGE_BYTES });
    const sha = createHash('sha256').update(content).digest('hex');
    // MMS entries keep the key they had before other types existed: caches written then still match
    const entry = fileType === 'MMS' ? sha : `${fileType}:${sha}`;
    if (!this.cache[campaign]?.[entry]) this.refresh(); // another worker may have uploaded it
    const known = this.cache[campaign]?.[entry];
    if (known) {
      this.resolved.set(memo, known.fileId);
      return known.fileId;
    }
    const slot = `${campaign}\u0000${entry}`;
    let p = this.inFlight.get(slot);
    if (!p) {
      p = (async () => {
        const name = path.basename(image);
        const fileId = await upload(content, name);
        (this.cache[campaign] ??= {})[entry] = { fileId, name, uploadedAt: new Date().toISOString() };
        this.save();
        this.resolved.set(memo, fileId);
        return fileId;
      })();
      this.inFlight.set(slot, p);
      p.catch(() => undefined).finally(() => this.inFlight.delete(slot));
    }
    return p;
  }

  private save(): void {
    this.refresh();
    this.stored.put(JSON.stringify(this.cache, null, 1));
  }
}
