// Which peers a torrent talks to: the addresses it learned (trackers, --peer, incoming),
// dialling them within the per-torrent and global connection limits with backoff, and
// keeping banned addresses out.
import { PeerConnection, type ExtensionHandshakeInput, type TorrentGeometry } from '../peer/index.js';
import { DIAL_TIMEOUT_MS, MAX_KNOWN_PEERS, REDIAL_BACKOFF_MS } from './config.js';

export interface Candidate {
  host: string;
  port: number;
  failures: number;
  nextTryMs: number;
  source: string;
}

export interface DialSettings {
  infoHash: Buffer;
  peerId: Buffer;
  geometry: () => TorrentGeometry | undefined;
  extensionHandshake: () => ExtensionHandshakeInput;
  maxDials: number;
  /** Room for one more connection (per torrent and global limits). */
  hasRoom: () => boolean;
  isConnected: (address: string) => boolean;
  isBanned: (host: string, port: number) => boolean;
  /** Our own listen port, to skip dialling ourselves through a tracker's reply. */
  ownPort: () => number;
  onConnected: (conn: PeerConnection, address: string) => void;
  now: () => number;
}

/** Two seeds have nothing to exchange; look again only this rarely (the other side may
 *  have become a partial seed, or we may have lost data). */
const IDLE_REDIAL_MS = 10 * 60_000;
/** First retry of a --peer address that refused us. */
const PINNED_REDIAL_MS = 2000;

const LOCAL_HOSTS = new Set(['127.0.0.1', '0.0.0.0', 'localhost', '::1', '::']);

export class PeerManager {
  private readonly known = new Map<string, Candidate>();
  private dialing = 0;
  private readonly dialingTo = new Set<string>();
  private stopped = false;

  constructor(private readonly s: DialSettings) {}

  get knownCount(): number {
    return this.known.size;
  }

  get dialsInFlight(): number {
    return this.dialing;
  }

  /** Adds addresses to try. `pinned` (from --peer) are never dropped and always retried. */
  add(peers: { ip: string; port: number }[], source: string): void {
    for (const p of peers) {
      if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535 || !p.ip) continue;
      if (LOCAL_HOSTS.has(p.ip) && p.port === this.s.ownPort()) continue;
      const key = addressKey(p.ip, p.port);
      const c = this.known.get(key);
      if (c) {
        // Heard of again: worth a retry soon even after failures.
        c.nextTryMs = Math.min(c.nextTryMs, this.s.now());
        continue;
      }
      if (this.known.size >= MAX_KNOWN_PEERS) continue;
      this.known.set(key, { host: p.ip, port: p.port, failures: 0, nextTryMs: 0, source });
    }
    this.dialMore();
  }

  /** Starts dials while there is room. */
  dialMore(): void {
    if (this.stopped) return;
    const now = this.s.now();
    for (const [key, c] of this.known) {
      if (this.dialing >= this.s.maxDials || !this.s.hasRoom()) return;
      if (c.nextTryMs > now || this.dialingTo.has(key) || this.s.isConnected(key) || this.s.isBanned(c.host, c.port)) continue;
      this.dial(key, c);
    }
  }

  private dial(key: string, c: Candidate): void {
    this.dialing++;
    this.dialingTo.add(key);
    const geometry = this.s.geometry();
    PeerConnection.connect({
      host: c.host,
      port: c.port,
      infoHash: this.s.infoHash,
      peerId: this.s.peerId,
      connectTimeoutMs: DIAL_TIMEOUT_MS,
      handshakeTimeoutMs: DIAL_TIMEOUT_MS,
      extensionHandshake: this.s.extensionHandshake(),
      ...(geometry ? { geometry } : {}),
    }).then(
      (conn) => {
        this.dialing--;
        this.dialingTo.delete(key);
        if (this.stopped) {
          conn.close('torrent stopped');
          return;
        }
        c.failures = 0;
        this.s.onConnected(conn, key);
      },
      (e: Error & { code?: string }) => {
        this.dialing--;
        this.dialingTo.delete(key);
        if (e.code === 'PEER_SELF_CONNECTION' || e.code === 'PEER_INFO_HASH_MISMATCH') {
          this.known.delete(key);
        } else {
          this.failed(key);
        }
        if (!this.stopped) this.dialMore();
      },
    );
  }

  /** A connection to this address failed or ended: try again later, less eagerly each time. */
  failed(key: string): void {
    const c = this.known.get(key);
    if (!c) return;
    c.failures++;
    // Peers the user named (--peer) are retried sooner and never given up on: a script may
    // start the download a moment before the seeder listens.
    const backoff = c.source === 'peer' ? Math.min(PINNED_REDIAL_MS * 2 ** (c.failures - 1), 60_000) : REDIAL_BACKOFF_MS * 2 ** Math.min(c.failures - 1, 8);
    c.nextTryMs = this.s.now() + backoff;
  }

  /** The address closed after a working session: retry after the base backoff, or much
   *  later when there was nothing to exchange (both seeds). */
  ended(key: string, idle = false): void {
    const c = this.known.get(key);
    if (c) c.nextTryMs = this.s.now() + (idle ? IDLE_REDIAL_MS : REDIAL_BACKOFF_MS);
  }

  stop(): void {
    this.stopped = true;
  }
}

export function addressKey(host: string, port: number): string {
  const h = host.replace(/^::ffff:/i, '');
  return h.includes(':') ? `[${h}]:${port}` : `${h}:${port}`;
}

/** "host:port" or "[v6]:port" from --peer. */
export function parseHostPort(s: string): { ip: string; port: number } | null {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  if (!m) return null;
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { ip: m[1] === 'localhost' ? '127.0.0.1' : m[1]!, port };
}
