// transmission-daemon (3.00) on loopback, driven over its JSON RPC (what
// transmission-remote speaks): exact byte counts rather than the rounded percent that
// `transmission-remote -i` prints. Reminder (../shared/INTEROP.md): it never dials peers in
// 127.0.0.0/8, it accepts them; it does not create 0-byte files.
import { readFile, writeFile } from 'node:fs/promises';
import { freePort, waitFor } from './proc.js';
import type { Proc } from './proc.js';
import type { Workspace } from './workspace.js';

/** Torrent status numbers of the 3.00 RPC. */
export const TR_STATUS = { stopped: 0, checkWait: 1, check: 2, downloadWait: 3, download: 4, seedWait: 5, seed: 6 } as const;

export interface TransmissionTorrent {
  id: number;
  hashString: string;
  name: string;
  status: number;
  percentDone: number;
  leftUntilDone: number;
  sizeWhenDone: number;
  haveValid: number;
  error: number;
  errorString: string;
  peersConnected: number;
  rateDownload: number;
  rateUpload: number;
  downloadedEver: number;
  uploadedEver: number;
}

const FIELDS: (keyof TransmissionTorrent)[] = [
  'id',
  'hashString',
  'name',
  'status',
  'percentDone',
  'leftUntilDone',
  'sizeWhenDone',
  'haveValid',
  'error',
  'errorString',
  'peersConnected',
  'rateDownload',
  'rateUpload',
  'downloadedEver',
  'uploadedEver',
];

export interface TransmissionOptions {
  /** Default download dir (torrents can override per add). */
  downloadDir: string;
  peerPort?: number;
  rpcPort?: number;
  /** Extra settings.json keys (e.g. { encryption: 0 }). */
  settings?: Record<string, unknown>;
  /** Extra daemon flags, e.g. ['--log-debug']. */
  args?: string[];
  /** Command prefix for the daemon, e.g. for a bench. */
  prefix?: string[];
  name?: string;
  timeoutMs?: number;
}

export class Transmission {
  private sessionId = '';

  private constructor(
    readonly proc: Proc,
    readonly rpcPort: number,
    readonly peerPort: number,
    readonly confDir: string,
  ) {}

  /**
   * Starts `transmission-daemon -f -g CONFDIR -w DIR -p RPC -P PEER --no-portmap -T` with
   * a settings.json that turns off DHT, LPD, PEX, uTP, port forwarding, speed and ratio
   * limits and `.part` renaming; resolves once its RPC answers.
   */
  static async start(ws: Workspace, o: TransmissionOptions): Promise<Transmission> {
    const rpcPort = o.rpcPort ?? (await freePort());
    const peerPort = o.peerPort ?? (await freePort());
    const confDir = await ws.mkdir(`transmission-${rpcPort}`);
    const settings = {
      'dht-enabled': false,
      'lpd-enabled': false,
      'pex-enabled': false,
      'utp-enabled': false,
      'port-forwarding-enabled': false,
      'peer-port': peerPort,
      'peer-port-random-on-start': false,
      'rpc-enabled': true,
      'rpc-bind-address': '127.0.0.1',
      'rpc-port': rpcPort,
      'rpc-authentication-required': false,
      'rpc-whitelist-enabled': false,
      'rpc-host-whitelist-enabled': false,
      'speed-limit-down-enabled': false,
      'speed-limit-up-enabled': false,
      'alt-speed-enabled': false,
      'ratio-limit-enabled': false,
      'idle-seeding-limit-enabled': false,
      'blocklist-enabled': false,
      'download-dir': o.downloadDir,
      'incomplete-dir-enabled': false,
      'rename-partial-files': false,
      'start-added-torrents': true,
      'watch-dir-enabled': false,
      'download-queue-enabled': false,
      'seed-queue-enabled': false,
      'queue-stalled-enabled': false,
      'peer-limit-global': 200,
      'peer-limit-per-torrent': 60,
      'message-level': 2,
      ...(o.settings ?? {}),
    };
    await writeFile(`${confDir}/settings.json`, JSON.stringify(settings, null, 2));
    const args = ['-f', '-g', confDir, '-w', o.downloadDir, '-p', String(rpcPort), '-P', String(peerPort), '--no-portmap', '-T', ...(o.args ?? [])];
    const cmd = o.prefix?.length ? [...o.prefix, 'transmission-daemon', ...args] : ['transmission-daemon', ...args];
    const proc = ws.spawn(cmd[0]!, cmd.slice(1), { name: o.name ?? 'transmission' });
    const tr = new Transmission(proc, rpcPort, peerPort, confDir);
    await waitFor(
      async () => {
        if (!proc.running) throw new Error(`transmission-daemon exited\n${proc.tail()}`);
        await tr.rpc('session-get');
        return true;
      },
      o.timeoutMs ?? 15_000,
      'transmission-daemon RPC',
      100,
    );
    return tr;
  }

  /** One RPC call (handles the X-Transmission-Session-Id handshake). */
  async rpc(method: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const url = `http://127.0.0.1:${this.rpcPort}/transmission/rpc`;
    for (let attempt = 0; attempt < 3; attempt++) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'X-Transmission-Session-Id': this.sessionId, 'Content-Type': 'application/json' },
        body: JSON.stringify({ method, arguments: args }),
        signal: AbortSignal.timeout(5000),
      });
      if (res.status === 409) {
        this.sessionId = res.headers.get('x-transmission-session-id') ?? '';
        continue;
      }
      const body = (await res.json()) as { result: string; arguments?: Record<string, unknown> };
      if (body.result !== 'success') throw new Error(`transmission RPC ${method}: ${body.result}`);
      return body.arguments ?? {};
    }
    throw new Error(`transmission RPC ${method}: no session id`);
  }

  /** Adds a .torrent (data under `downloadDir`, default the daemon's); returns its id. */
  async add(torrentPath: string, o: { downloadDir?: string; paused?: boolean } = {}): Promise<number> {
    const metainfo = (await readFile(torrentPath)).toString('base64');
    const args: Record<string, unknown> = { metainfo, paused: o.paused ?? false };
    if (o.downloadDir) args['download-dir'] = o.downloadDir;
    const r = await this.rpc('torrent-add', args);
    const added = (r['torrent-added'] ?? r['torrent-duplicate']) as { id: number } | undefined;
    if (!added) throw new Error(`transmission torrent-add: unexpected reply ${JSON.stringify(r)}`);
    return added.id;
  }

  async get(id: number): Promise<TransmissionTorrent> {
    const r = await this.rpc('torrent-get', { ids: [id], fields: FIELDS });
    const t = (r.torrents as TransmissionTorrent[] | undefined)?.[0];
    if (!t) throw new Error(`transmission: no torrent ${id}`);
    return t;
  }

  private async waitState(id: number, timeoutMs: number, what: string, ok: (t: TransmissionTorrent) => boolean): Promise<TransmissionTorrent> {
    let last: TransmissionTorrent | undefined;
    try {
      return await waitFor(
        async () => {
          if (!this.proc.running) throw new Error('transmission-daemon exited');
          last = await this.get(id);
          if (last.error === 3) throw new Error(`transmission local error: ${last.errorString}`);
          return ok(last) ? last : undefined;
        },
        timeoutMs,
        what,
        200,
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}; last state ${JSON.stringify(last)}`);
    }
  }

  /** Waits until the torrent is verified complete and seeding (after its own check). */
  waitSeeding(id: number, timeoutMs: number): Promise<TransmissionTorrent> {
    return this.waitState(id, timeoutMs, `transmission torrent ${id} seeding`, (t) => t.status === TR_STATUS.seed && t.leftUntilDone === 0 && t.haveValid === t.sizeWhenDone);
  }

  /** Waits until every wanted byte is downloaded and verified. */
  waitComplete(id: number, timeoutMs: number): Promise<TransmissionTorrent> {
    return this.waitState(id, timeoutMs, `transmission torrent ${id} complete`, (t) => t.sizeWhenDone > 0 && t.leftUntilDone === 0 && t.percentDone === 1 && t.haveValid === t.sizeWhenDone);
  }

  /** Asks for an announce now (Transmission rate-limits these to its min interval). */
  async reannounce(id: number): Promise<void> {
    await this.rpc('torrent-reannounce', { ids: [id] });
  }

  /** Stops the torrent (flushes its cache and closes its files). */
  async stopTorrent(id: number, timeoutMs = 10_000): Promise<void> {
    await this.rpc('torrent-stop', { ids: [id] });
    await this.waitState(id, timeoutMs, `transmission torrent ${id} stopped`, (t) => t.status === TR_STATUS.stopped);
  }

  /** Ends the daemon gracefully (it flushes and sends `stopped` announces). */
  kill(): Promise<unknown> {
    return this.proc.kill('SIGTERM', 10_000);
  }
}
