// `sta daemon` (npm start): the long-running node. Until the node exists it says what
// works so far and exits 0.
import type { Command } from 'commander';
import { action } from './run.js';

const WHAT_WORKS = `sta: the node (web UI and embedded tracker) is not built yet.
What works so far:
  ./bin/sta create <path> -t <tracker-url>   make a .torrent
  ./bin/sta info <file.torrent|magnet>       show a torrent
  ./bin/sta tracker --port 8000              run the tracker (HTTP + UDP, JSON API, status page)
  ./bin/sta seed <file.torrent> --dir DIR    seed data
  ./bin/sta download <file.torrent> --dir D  download data
Run ./bin/sta --help for all commands.
`;

export function register(program: Command): Command {
  return program
    .command('daemon')
    .description('the long-running node with web UI and JSON API (not built yet: prints what works so far)')
    .option('--rpc-host <addr>', 'web UI / API address', '127.0.0.1')
    .option('--rpc-port <n>', 'web UI / API port', '9091')
    .option('--data-dir <dir>', 'state directory', './sta-data')
    .option('--download-dir <dir>', 'download directory')
    .option('--port <n>', 'peer listen port', '6881')
    .option('--tracker-port <n>', 'embedded tracker port', '8000')
    .option('--no-tracker', 'no embedded tracker')
    .action(
      action(() => {
        process.stdout.write(WHAT_WORKS);
      }),
    );
}
