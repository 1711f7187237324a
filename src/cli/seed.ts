// `sta seed <file.torrent | magnet> --dir DIR` (CONTRACT.md): verify the data under DIR
// (fast when resume data matches), print `seeding <infohash> on port N` once accepting
// peers, then seed until SIGINT/SIGTERM (stopped announce, resume saved, exit 0).
// A seeder dials the peers trackers give it: Transmission never dials loopback peers,
// so on one machine it can only leech from a seeder that dials it (INTEROP.md).
import type { Command } from 'commander';
import { resolveSource, NodeError, type Source } from '../node/index.js';
import { action } from './run.js';
import { addPeerFlags, jsonEvents, onSignals, parsePeers, parsePort, parseRate, startNode, trackerFlags } from './download.js';

interface SeedFlags {
  dir?: string;
  tracker: string[] | false;
  peer: string[];
  port: string;
  json?: boolean;
  maxUploadRate?: string;
}

export function register(program: Command): Command {
  const cmd = program
    .command('seed')
    .description('verify the data under --dir against a torrent, then seed it until killed')
    .argument('<torrent>', '.torrent file or magnet URI (a magnet needs --peer or a tracker to fetch metadata)')
    .requiredOption('--dir <dir>', 'folder holding the torrent\'s data');
  addPeerFlags(cmd).option('--json', 'line-delimited JSON events on stdout');
  return cmd.action(
    action(async (input: string, flags: SeedFlags, c: Command) => {
      const { trackers, noTracker } = trackerFlags(flags as unknown as Record<string, unknown>);
      const peers = parsePeers(flags.peer);
      parsePort(flags.port);
      const maxUploadRate = parseRate(flags.maxUploadRate);
      const src: Source = await resolveSource(input, trackers);
      const node = await startNode(flags.port, c.getOptionValueSource('port') === 'cli', maxUploadRate);
      onSignals(node, () => 0);
      const torrent = await node.add(src, { dir: flags.dir!, trackers, noTracker, peers });
      if (flags.json) jsonEvents(torrent, (o) => process.stdout.write(`${JSON.stringify(o)}\n`));
      const announce = (): void => {
        process.stdout.write(`seeding ${torrent.infoHashHex} on port ${node.port}\n`);
      };
      if (torrent.state === 'seeding') {
        announce();
        return;
      }
      if (torrent.state === 'metadata') {
        // A magnet: wait for metadata and the check, then it must be complete.
        await new Promise<void>((resolve, reject) => {
          torrent.once('ready', () => resolve());
          torrent.once('failed', reject);
        });
        if ((torrent.state as string) === 'seeding') {
          announce();
          return;
        }
      }
      const p = torrent.progress();
      await node.close();
      throw new NodeError(
        'NODE_VERIFY_FAILED',
        `data under ${flags.dir} does not match the torrent: ${p.piecesHave} of ${p.pieceCount} pieces verified`,
        1,
      );
    }),
  );
}
