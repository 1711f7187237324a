// `sta create <path>`: make a v1 .torrent of a file or folder (../../docs/torrent.md).
// Prints the info hash and magnet (or `{"infoHash","magnet","output"}` with --json); a
// progress bar with the hashing rate on a terminal. The hashing threads were started
// before the CLI loaded (./early-threads.ts); the torrent code loads when the command runs.
import type { Command } from 'commander';
import { takeEarlyThreads } from './early-threads.js';
import { action } from './run.js';

interface CreateFlags {
  output?: string;
  tracker: string[];
  pieceLength?: string;
  private?: boolean;
  comment?: string;
  name?: string;
  webSeed: string[];
  json?: boolean;
}

const collect = (v: string, all: string[]): string[] => [...all, v];

/** `262144`, `256K`, `256KiB`, `1M`, `1MiB` (binary units). */
function parsePieceLength(s: string): number {
  const m = /^(\d+)\s*(k|kib|m|mib)?$/i.exec(s.trim());
  if (!m) return NaN;
  const unit = (m[2] ?? '').toLowerCase();
  return Number(m[1]) * (unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 * 1024 : 1);
}

export function register(program: Command): Command {
  return program
    .command('create')
    .description('make a BitTorrent v1 .torrent file of a file or a folder')
    .argument('<path>', 'the file or folder to share')
    .option('-o, --output <file>', 'where to write the .torrent (default <name>.torrent in the cwd)')
    .option('-t, --tracker <url>', 'tracker URL, repeatable: the first is announce, all go in announce-list', collect, [])
    .option('--piece-length <bytes>', 'piece length, a power of two from 16 KiB to 16 MiB (default: chosen from size)')
    .option('--private', 'mark the torrent private (BEP 27)')
    .option('--comment <text>', 'a comment stored in the torrent')
    .option('--name <name>', 'the torrent name (default: the file or folder name)')
    .option('--web-seed <url>', 'web seed URL (BEP 19), repeatable', collect, [])
    .option('--json', 'print {"infoHash","magnet","output"} instead of text')
    .action(
      action(async (path: string, flags: CreateFlags) => {
        const threads = takeEarlyThreads();
        // info.js (formatBytes for the text output) loads now, not after the hashing.
        const [{ createTorrent, makeMagnet, TorrentError }, { writeFileSync }, { formatBytes }] = await Promise.all([
          import('../torrent/index.js'),
          import('node:fs'),
          import('./info.js'),
        ]);
        let pieceLength: number | undefined;
        if (flags.pieceLength !== undefined) {
          pieceLength = parsePieceLength(flags.pieceLength);
          if (!Number.isFinite(pieceLength)) throw new TorrentError('TORRENT_BAD_PIECE_LENGTH', `--piece-length: not a number of bytes: ${flags.pieceLength}`);
        }
        const tty = process.stderr.isTTY === true;
        const bar = tty ? await progressBar() : undefined;
        const result = await createTorrent({
          path,
          trackers: flags.tracker,
          pieceLength,
          private: flags.private === true,
          comment: flags.comment,
          name: flags.name,
          webSeeds: flags.webSeed,
          threads,
          onProgress: bar?.update,
          onWarning: (m) => process.stderr.write(`sta: warning: ${m}\n`),
        }).finally(() => bar?.stop());
        const { meta, torrent } = result;
        const output = flags.output ?? `${meta.name}.torrent`;
        writeFileSync(output, torrent); // a few KB: no need to start libuv's thread pool for it
        const magnet = makeMagnet({ infoHash: meta.infoHash, name: meta.name, trackers: flags.tracker, webSeeds: flags.webSeed });
        if (flags.json) {
          process.stdout.write(`${JSON.stringify({ infoHash: meta.infoHashHex, magnet, output })}\n`);
        } else {
          process.stdout.write(
            `created ${output}\n` +
              `name:        ${meta.name}\n` +
              `info hash:   ${meta.infoHashHex}\n` +
              `magnet:      ${magnet}\n` +
              `size:        ${formatBytes(meta.length)} in ${meta.files.length} file(s), ${meta.pieceCount} pieces of ${formatBytes(meta.pieceLength)}\n`,
          );
        }
        // The hashing threads are done; do not wait for their teardown.
        process.exit(0);
      }),
    );
}

/** A cli-progress bar on stderr with the hashing rate; `update(done, total)`. */
async function progressBar(): Promise<{ update: (done: number, total: number) => void; stop: () => void }> {
  const { default: cliProgress } = await import('cli-progress');
  const { formatBytes } = await import('./info.js');
  const bar = new cliProgress.SingleBar(
    { format: 'hashing [{bar}] {percentage}% | {done} / {size} | {rate}/s | eta {eta_formatted}', hideCursor: true, clearOnComplete: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  const started = performance.now();
  let running = false;
  return {
    update: (done, total) => {
      const s = (performance.now() - started) / 1000;
      const payload = { done: formatBytes(done), size: formatBytes(total), rate: formatBytes(s > 0 ? done / s : 0) };
      if (!running) {
        bar.start(total, done, payload);
        running = true;
      } else bar.update(done, payload);
    },
    stop: () => {
      if (running) bar.stop();
    },
  };
}
