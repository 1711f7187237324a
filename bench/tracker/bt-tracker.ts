// bittorrent-tracker (the npm package most JavaScript users run) as a benchmark target:
// its HTTP and UDP servers on one port, WebSocket and stats off.
// Usage: node --import tsx bench/tracker/bt-tracker.ts PORT
import { importBenchPackage } from '../lib/deps.js';

interface BtServer {
  on(event: string, fn: (e: Error) => void): void;
  listen(port: number, hosts: { http: string; udp: string }, cb: () => void): void;
}
// Installed on demand into bench/.deps (its WebRTC addon cannot be built here).
const { default: Server } = await importBenchPackage<{ default: new (opts: object) => BtServer }>('bittorrent-tracker', 'latest', 'server');

const port = Number(process.argv[2]);
const server = new Server({ http: true, udp: true, ws: false, stats: false, interval: 1_800_000 });
server.on('error', (e: Error) => process.stderr.write(`bittorrent-tracker: ${e.message}\n`));
server.on('warning', () => {});
server.listen(port, { http: '127.0.0.1', udp: '127.0.0.1' }, () => process.stdout.write(`bittorrent-tracker listening on 127.0.0.1:${port}\n`));
process.on('SIGTERM', () => process.exit(0));
