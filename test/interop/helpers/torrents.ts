// Making and reading .torrent files for interop tests: mktorrent (the reference) or
// `sta create`, and the info hash straight from the bytes (no dependency on src/torrent).
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { decodeWithSpans, isDict } from '../../../src/bencode/index.js';
import { staCommand } from './sta.js';
import type { Workspace } from './workspace.js';

/** SHA-1 of the info dictionary's original bytes, 40 lowercase hex chars. */
export async function infoHashOf(torrentPath: string): Promise<string> {
  const buf = await readFile(torrentPath);
  const { value, spans } = decodeWithSpans(buf);
  if (!isDict(value) || !isDict(value.info)) throw new Error(`${torrentPath}: not a torrent (no info dictionary)`);
  const span = spans.get(value.info);
  if (!span) throw new Error(`${torrentPath}: no span for info`);
  return createHash('sha1').update(buf.subarray(span.start, span.end)).digest('hex');
}

export interface MakeTorrentOptions {
  /** Announce URLs, one tier each (first is `announce`). */
  trackers?: string[];
  /** Bytes, a power of two (default: the tool's choice). */
  pieceLength?: number;
  /** 'mktorrent' (default: the reference, always available) or 'sta' (`sta create`). */
  tool?: 'mktorrent' | 'sta';
  timeoutMs?: number;
}

/** Writes a v1 .torrent of `path` (file or folder) to `out`; returns its info hash. */
export async function makeTorrent(ws: Workspace, path: string, out: string, o: MakeTorrentOptions = {}): Promise<string> {
  const timeoutMs = o.timeoutMs ?? 60_000;
  await rm(out, { force: true }); // mktorrent refuses to overwrite and has no -f
  if ((o.tool ?? 'mktorrent') === 'mktorrent') {
    const args = ['-t', '2', '-o', out];
    for (const url of o.trackers ?? []) args.push('-a', url);
    if (o.pieceLength) args.push('-l', String(Math.log2(o.pieceLength)));
    args.push(path);
    await ws.spawn('mktorrent', args, { name: 'mktorrent' }).succeeds(timeoutMs);
  } else {
    const args = ['create', path, '-o', out];
    for (const url of o.trackers ?? []) args.push('-t', url);
    if (o.pieceLength) args.push('--piece-length', String(o.pieceLength));
    const [cmd, ...pre] = staCommand();
    await ws.spawn(cmd, [...pre, ...args], { name: 'sta-create' }).succeeds(timeoutMs);
  }
  return infoHashOf(out);
}
