// The memory store's catalogue: entries in memory for search; each .torrent and its entry
// persisted as two files under `<dataDir>/catalogue/` (written to a temporary name, then
// renamed, so a crash never leaves a half-written file), reloaded at start. Without a
// dataDir everything stays in memory, bounded.
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError } from './errors.js';
import { MAX_CATALOGUE_FILES, MAX_CATALOGUE_MEMORY_BYTES, MAX_CATALOGUE_TORRENTS } from './limits.js';
import type { Catalogue, CatalogueEntry } from './types.js';

const HEX40 = /^[0-9a-f]{40}$/;

interface Indexed {
  entry: CatalogueEntry;
  /** Lowercased name and paths, what search matches against. */
  haystack: string;
  /** Bytes, when kept in memory (no dataDir). */
  torrent?: Uint8Array;
}

function index(entry: CatalogueEntry, torrent?: Uint8Array): Indexed {
  const haystack = [entry.name, ...entry.files.map((f) => f.path)].join('\n').toLowerCase();
  return torrent ? { entry, haystack, torrent } : { entry, haystack };
}

/** Checks a stored entry's shape (files on disk are not trusted blindly either). */
function validEntry(v: unknown): v is CatalogueEntry {
  const e = v as CatalogueEntry;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.infoHashHex === 'string' &&
    HEX40.test(e.infoHashHex) &&
    typeof e.name === 'string' &&
    typeof e.length === 'number' &&
    typeof e.fileCount === 'number' &&
    typeof e.addedMs === 'number' &&
    Array.isArray(e.files) &&
    e.files.length <= MAX_CATALOGUE_FILES &&
    e.files.every((f) => typeof f?.path === 'string' && typeof f.length === 'number')
  );
}

export class FileCatalogue implements Catalogue {
  private readonly byHash = new Map<string, Indexed>();
  private memoryBytes = 0;

  constructor(private readonly dir: string | undefined) {}

  async load(): Promise<void> {
    if (!this.dir) return;
    await mkdir(this.dir, { recursive: true });
    const names = (await readdir(this.dir)).filter((n) => n.endsWith('.json')).slice(0, MAX_CATALOGUE_TORRENTS);
    for (const n of names) {
      try {
        const v: unknown = JSON.parse(await readFile(join(this.dir, n), 'utf8'));
        if (validEntry(v) && n === `${v.infoHashHex}.json`) this.byHash.set(v.infoHashHex, index(v));
      } catch {
        // A damaged entry file is skipped, not fatal: the rest of the catalogue still loads.
      }
    }
  }

  async put(entry: CatalogueEntry, torrent: Uint8Array): Promise<'added' | 'exists'> {
    if (!HEX40.test(entry.infoHashHex)) throw new StoreError('CATALOGUE_BAD_HASH', 'info hash must be 40 lowercase hex characters', 2);
    if (this.byHash.has(entry.infoHashHex)) return 'exists';
    if (this.byHash.size >= MAX_CATALOGUE_TORRENTS) throw new StoreError('CATALOGUE_FULL', 'the catalogue is full');
    const e: CatalogueEntry = { ...entry, files: entry.files.slice(0, MAX_CATALOGUE_FILES) };
    if (this.dir) {
      await atomicWrite(join(this.dir, `${e.infoHashHex}.torrent`), torrent);
      await atomicWrite(join(this.dir, `${e.infoHashHex}.json`), JSON.stringify(e));
      this.byHash.set(e.infoHashHex, index(e));
    } else {
      if (this.memoryBytes + torrent.length > MAX_CATALOGUE_MEMORY_BYTES) throw new StoreError('CATALOGUE_FULL', 'the catalogue is full');
      this.memoryBytes += torrent.length;
      this.byHash.set(e.infoHashHex, index(e, Uint8Array.from(torrent)));
    }
    return 'added';
  }

  async get(infoHashHex: string): Promise<Uint8Array | undefined> {
    const x = this.byHash.get(infoHashHex);
    if (!x) return undefined;
    if (x.torrent) return x.torrent;
    try {
      return await readFile(join(this.dir!, `${infoHashHex}.torrent`));
    } catch {
      return undefined;
    }
  }

  entry(infoHashHex: string): Promise<CatalogueEntry | undefined> {
    return Promise.resolve(this.byHash.get(infoHashHex)?.entry);
  }

  search(q: string, limit: number): Promise<CatalogueEntry[]> {
    const words = q.toLowerCase().split(/\s+/).filter(Boolean).slice(0, 16);
    const hits: CatalogueEntry[] = [];
    for (const x of this.byHash.values()) {
      if (words.every((w) => x.haystack.includes(w))) hits.push(x.entry);
    }
    hits.sort((a, b) => b.addedMs - a.addedMs || (a.infoHashHex < b.infoHashHex ? -1 : 1));
    return Promise.resolve(hits.slice(0, Math.max(0, limit)));
  }

  count(): Promise<number> {
    return Promise.resolve(this.byHash.size);
  }
}

async function atomicWrite(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await writeFile(tmp, data, { flush: true });
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}

/** A catalogue persisted under `<dataDir>/catalogue/`, or in memory without a dataDir. */
export async function createFileCatalogue(dataDir?: string): Promise<FileCatalogue> {
  const c = new FileCatalogue(dataDir ? join(dataDir, 'catalogue') : undefined);
  await c.load();
  return c;
}
