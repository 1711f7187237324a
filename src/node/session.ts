// A running node: our peer id, one listen socket shared by every torrent (incoming peers
// are routed by info hash), the global connection limit, and the torrents themselves.
import { DEFAULT_LIMITS, type NodeLimits } from './config.js';
import { NodeError } from './errors.js';
import { Listener } from './listener.js';
import { generatePeerId } from './peer-id.js';
import type { Source } from './resolve-source.js';
import { Torrent, type TorrentOptions } from './torrent.js';

export interface NodeOptions {
  /** Listen port for peers; 0 picks a free one. */
  port: number;
  /** Listen address (default all). */
  host?: string;
  limits?: Partial<NodeLimits>;
}

export class StaNode {
  readonly peerId = generatePeerId();
  readonly torrents = new Map<string, Torrent>();
  readonly limits: NodeLimits;
  private listener: Listener | null = null;

  private constructor(limits: NodeLimits) {
    this.limits = limits;
  }

  /** Starts listening; the node accepts peers for torrents as they are added. */
  static async start(opts: NodeOptions): Promise<StaNode> {
    const node = new StaNode({ ...DEFAULT_LIMITS, ...opts.limits });
    node.listener = await Listener.listen(opts.port, opts.host, (hex) => {
      const t = node.torrents.get(hex);
      return t ? (socket, hs, rest) => t.acceptIncoming(socket, hs, rest) : undefined;
    });
    return node;
  }

  get port(): number {
    return this.listener?.port ?? 0;
  }

  peerCount(): number {
    let n = 0;
    for (const t of this.torrents.values()) n += t.peers.size;
    return n;
  }

  /** Adds a torrent and starts it (storage check, announces, dials). The promise settles
   *  once the check is done (or metadata fetching has begun, for a magnet link). */
  async add(source: Source, opts: TorrentOptions): Promise<Torrent> {
    const hex = source.kind === 'metainfo' ? source.meta.infoHashHex : source.magnet.infoHashHex;
    if (this.torrents.has(hex)) throw new NodeError('NODE_DUPLICATE', `torrent ${hex} is already running`, 2);
    const t = new Torrent(source, { ...opts, limits: { ...this.limits, ...opts.limits } }, {
      peerId: this.peerId,
      port: () => this.port,
      globalRoom: () => this.peerCount() < this.limits.maxPeersGlobal,
    });
    this.torrents.set(hex, t);
    try {
      await t.start();
    } catch (e) {
      this.torrents.delete(hex);
      await t.stop().catch(() => undefined);
      throw e;
    }
    return t;
  }

  async remove(hex: string): Promise<void> {
    const t = this.torrents.get(hex);
    if (!t) return;
    this.torrents.delete(hex);
    await t.stop();
  }

  /** Stops every torrent (stopped announces, resume saved) and the listener. */
  async close(): Promise<void> {
    await Promise.all([...this.torrents.values()].map((t) => t.stop()));
    this.torrents.clear();
    await this.listener?.close();
    this.listener = null;
  }
}
