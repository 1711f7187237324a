// `sta info <file.torrent | magnet-uri> [--json]`: what a torrent or magnet holds, as text
// or as the contract's JSON object (../../docs/torrent.md documents the magnet shape).
// Heavy modules load lazily so the command starts fast.
import type { Command } from 'commander';
import type { MagnetLink, Metainfo } from '../torrent/index.js';
import { action } from './run.js';

/** A .torrent bigger than this is not metainfo anyone makes (1M files is ~100 MB). */
const MAX_TORRENT_FILE_BYTES = 128 * 1024 * 1024;

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(2)} ${units[u]}`;
}

/** Reads and parses a .torrent file; every failure is one TorrentError naming the file. */
export async function loadTorrentFile(path: string): Promise<Metainfo> {
  const { readFile, stat } = await import('node:fs/promises');
  const { parseTorrent, TorrentError } = await import('../torrent/index.js');
  let data: Buffer;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new TorrentError('TORRENT_NOT_A_FILE', `${path} is not a file`);
    if (st.size > MAX_TORRENT_FILE_BYTES) throw new TorrentError('TORRENT_TOO_BIG', `${path} is too big for a torrent file (${st.size} bytes)`);
    data = await readFile(path);
  } catch (e) {
    if (e instanceof TorrentError) throw e;
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new TorrentError('TORRENT_UNREADABLE', `cannot read ${path}: ${why}`);
  }
  try {
    return parseTorrent(data);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const code = (e as { code?: string }).code ?? 'TORRENT_INVALID';
    throw new TorrentError(code, `${path} is not a valid torrent: ${msg}`, 2, { cause: e });
  }
}

export function infoJson(m: Metainfo): object {
  return {
    infoHash: m.infoHashHex,
    name: m.name,
    length: m.length,
    pieceLength: m.pieceLength,
    pieceCount: m.pieceCount,
    files: m.files.filter((f) => !f.pad).map((f) => ({ path: f.pathString, length: f.length })),
    announce: m.announce.flat(),
    private: m.private,
  };
}

/** A magnet knows its hash, maybe its name and trackers; the rest is null until metadata. */
export function magnetJson(m: MagnetLink): object {
  return {
    infoHash: m.infoHashHex,
    name: m.name ?? null,
    length: null,
    pieceLength: null,
    pieceCount: null,
    files: null,
    announce: m.trackers,
    private: null,
    peers: m.peers,
    webSeeds: m.webSeeds,
  };
}

function infoText(m: Metainfo, magnet: string): string {
  const lines = [
    `name:        ${m.name}`,
    `info hash:   ${m.infoHashHex}`,
    `magnet:      ${magnet}`,
    `pieces:      ${m.pieceCount} x ${formatBytes(m.pieceLength)} (${m.pieceLength} bytes)`,
    `total size:  ${formatBytes(m.length)} (${m.length} bytes)`,
    `private:     ${m.private ? 'yes' : 'no'}`,
  ];
  if (m.createdBy !== undefined) lines.push(`created by:  ${m.createdBy}`);
  if (m.creationDate !== undefined) lines.push(`created on:  ${new Date(m.creationDate * 1000).toISOString()}`);
  if (m.comment !== undefined) lines.push(`comment:     ${m.comment}`);
  lines.push(m.announce.length ? 'trackers:' : 'trackers:    (none)');
  m.announce.forEach((tier, i) => lines.push(`  tier ${i + 1}: ${tier.join(' ')}`));
  if (m.urlList.length) lines.push(`web seeds:   ${m.urlList.join(' ')}`);
  const files = m.files.filter((f) => !f.pad);
  lines.push(`files (${files.length}):`);
  for (const f of files) lines.push(`  ${m.multiFile ? `${m.name}/` : ''}${f.pathString} (${formatBytes(f.length)})`);
  return `${lines.join('\n')}\n`;
}

function magnetText(m: MagnetLink): string {
  const lines = [`name:        ${m.name ?? '(unknown until metadata is fetched)'}`, `info hash:   ${m.infoHashHex}`];
  lines.push(m.trackers.length ? 'trackers:' : 'trackers:    (none)');
  for (const t of m.trackers) lines.push(`  ${t}`);
  if (m.peers.length) lines.push(`peers:       ${m.peers.join(' ')}`);
  if (m.webSeeds.length) lines.push(`web seeds:   ${m.webSeeds.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): Command {
  return program
    .command('info')
    .description('show what a .torrent file or a magnet link holds')
    .argument('<source>', 'a .torrent file or a magnet URI')
    .option('--json', 'print one JSON object instead of text')
    .action(
      action(async (source: string, flags: { json?: boolean }) => {
        const { parseMagnet, makeMagnet } = await import('../torrent/index.js');
        if (/^magnet:/i.test(source)) {
          const m = parseMagnet(source);
          process.stdout.write(flags.json ? `${JSON.stringify(magnetJson(m))}\n` : magnetText(m));
          return;
        }
        const meta = await loadTorrentFile(source);
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(infoJson(meta))}\n`);
        } else {
          const magnet = makeMagnet({ infoHash: meta.infoHash, name: meta.name, trackers: meta.announce.flat(), webSeeds: meta.urlList });
          process.stdout.write(infoText(meta, magnet));
        }
      }),
    );
}
