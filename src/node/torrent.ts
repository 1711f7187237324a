// One torrent in a running node: storage, tracker announces, peer connections, the
// download and upload engines, timers, and the typed event stream (events.ts). A magnet
// link starts without metadata and fetches it from peers first (BEP 9).
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { PeerConnection, makeGeometry, type ExtensionHandshakeInput, type Handshake, type TorrentGeometry, type CloseInfo } from '../peer/index.js';
import { PiecePicker, SmartBan } from '../peer/download/index.js';
import { RECHOKE_INTERVAL_MS } from '../peer/upload/index.js';
import { Storage, wantedFilesFromGlobs } from '../storage/index.js';
import { TrackerClient } from '../tracker/client/index.js';
import { parseInfoDict, type Metainfo } from '../torrent/index.js';
import { DEFAULT_LIMITS, MAX_ASSEMBLY_BYTES, NUMWANT, TICK_MS, type NodeLimits } from './config.js';
import type { TorrentContext } from './context.js';
import { Downloader } from './downloader.js';
import type { PeerStatus, ProgressInfo, TorrentEventMap, TorrentState } from './events.js';
import { MetadataExchange } from './metadata-fetch.js';
import { Peer, banKeyFor } from './peer.js';
import { PeerManager, addressKey, parseHostPort } from './peer-manager.js';
import { CLIENT_VERSION } from './peer-id.js';
import type { Source } from './resolve-source.js';
import { Uploader } from './uploader.js';
import { attachPeerHandlers } from './peer-events.js';
import { peerStatus, progressOf } from './torrent-status.js';

const BOTH_SEEDS = 'both sides are seeds';

export interface TorrentOptions {
  /** Download folder. */
  dir: string;
  /** Extra trackers (each its own tier after the torrent's). */
  trackers?: string[];
  /** No tracker announces at all (the torrent's included). */
  noTracker?: boolean;
  /** host:port peers to dial. */
  peers?: string[];
  /** --only globs: fetch just the matching files. */
  only?: string[];
  resumePath?: string;
  limits?: Partial<NodeLimits>;
}

/** What a torrent needs from the node that runs it. */
export interface TorrentHost {
  peerId: Buffer;
  port(): number;
  /** Room for one more connection across all torrents. */
  globalRoom(): boolean;
}

export class Torrent extends EventEmitter<TorrentEventMap> implements TorrentContext {
  readonly infoHash: Buffer;
  readonly infoHashHex: string;
  meta: Metainfo | null = null;
  storage: Storage | null = null;
  picker: PiecePicker | null = null;
  readonly smartBan = new SmartBan();
  readonly peers = new Map<number, Peer>();
  state: TorrentState;
  private readonly banned = new Map<string, string>();
  private readonly downloader: Downloader;
  private readonly uploader: Uploader;
  private readonly pm: PeerManager;
  private readonly metadata: MetadataExchange;
  private tracker: TrackerClient | null = null;
  private readonly limits: NodeLimits;
  private nextPeerId = 1;
  private timer: NodeJS.Timeout | null = null;
  private ticks = 0;
  private rechokeScheduled = false;
  private downloaded = 0;
  private uploaded = 0;
  private wantedBytes = 0;
  private readonly name: string;
  private readonly trackerUrls: string[][];
  private readonly t0 = performance.now();

  constructor(
    source: Source,
    private readonly opts: TorrentOptions,
    private readonly host: TorrentHost,
  ) {
    super();
    const m = source.kind === 'metainfo' ? source.meta : null;
    this.infoHash = m ? m.infoHash : source.kind === 'magnet' ? source.magnet.infoHash : Buffer.alloc(20);
    this.infoHashHex = this.infoHash.toString('hex');
    this.name = m?.name ?? (source.kind === 'magnet' ? (source.magnet.name ?? this.infoHashHex) : this.infoHashHex);
    this.meta = m;
    this.state = m ? 'checking' : 'metadata';
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    const base = m ? m.announce : source.kind === 'magnet' ? source.magnet.trackers.map((u) => [u]) : [];
    this.trackerUrls = opts.noTracker ? [] : [...base, ...(opts.trackers ?? []).map((u) => [u])];
    const peers = [...(opts.peers ?? []), ...(source.kind === 'magnet' ? source.magnet.peers : [])];
    this.initialPeers = peers.map(parseHostPort).filter((p): p is { ip: string; port: number } => p !== null);
    this.downloader = new Downloader(this);
    this.uploader = new Uploader(this, this.limits.uploadSlots, this.limits.maxUploadRateBps);
    this.metadata = new MetadataExchange(this.infoHash, () => this.meta?.infoBytes ?? null, (b) => void this.gotMetadata(b));
    this.pm = new PeerManager({
      infoHash: this.infoHash,
      peerId: host.peerId,
      geometry: () => this.geometry(),
      extensionHandshake: () => this.extensionHandshake(),
      maxDials: this.limits.maxDialsInFlight,
      hasRoom: () => this.hasRoom(),
      isConnected: (a) => [...this.peers.values()].some((p) => p.address === a),
      isBanned: (h, p) => this.isBanned(banKeyFor(h, p)),
      ownPort: () => host.port(),
      onConnected: (conn, address) => this.attach(conn, address),
      now: () => this.now(),
    });
  }

  private readonly initialPeers: { ip: string; port: number }[];

  get events(): this {
    return this;
  }

  now(): number {
    return performance.now();
  }

  /** Opens storage and checks the data (if metadata is known), then announces and dials. */
  async start(): Promise<void> {
    if (this.meta) await this.openStorage(this.meta);
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
    if (this.trackerUrls.length > 0) {
      this.tracker = new TrackerClient({
        tiers: this.trackerUrls,
        infoHash: this.infoHash,
        peerId: this.host.peerId,
        port: this.host.port(),
        numwant: NUMWANT,
        stats: () => ({ uploaded: this.uploaded, downloaded: this.downloaded, left: this.left() }),
      });
      this.tracker.on('peers', (peers) => this.pm.add(peers, 'tracker'));
      this.tracker.on('tracker-error', (e) => this.emit('tracker-error', { url: e.url, message: e.error.message }));
      this.tracker.start();
    }
    this.pm.add(this.initialPeers, 'peer');
  }

  private async openStorage(meta: Metainfo): Promise<void> {
    this.state = 'checking';
    const wantedFiles = this.opts.only?.length ? wantedFilesFromGlobs(meta, this.opts.only) : undefined;
    const storage = await Storage.open(meta, {
      dir: this.opts.dir,
      ...(wantedFiles ? { wantedFiles } : {}),
      ...(this.opts.resumePath ? { resumePath: this.opts.resumePath } : {}),
      directWrites: true,
      onResumeError: (e) => this.emit('error', e),
    });
    this.storage = storage;
    await storage.check();
    this.wantedBytes = 0;
    for (const i of storage.wantedPieces.indexes()) this.wantedBytes += storage.pieceLength(i);
    this.picker = new PiecePicker({
      pieceCount: meta.pieceCount,
      pieceLength: meta.pieceLength,
      totalLength: meta.length,
      have: storage.have,
      wanted: storage.wantedPieces,
      maxPartials: Math.max(4, Math.floor(MAX_ASSEMBLY_BYTES / meta.pieceLength)),
    });
    this.state = this.picker.isDone() ? 'seeding' : 'downloading';
    // Peers that connected while metadata was fetched or data checked: count their
    // pieces now, and tell them ours (they got have-none or a partial bitfield).
    const g = this.geometry()!;
    for (const p of this.peers.values()) {
      p.conn.setGeometry(g);
      p.conn.sendExtendedHandshake({ metadataSize: meta.infoBytes.length });
      for (const i of storage.have.indexes()) p.conn.sendHave(i);
      this.downloader.onBitfield(p);
    }
    this.emit('ready', { piecesHave: storage.have.cardinality(), pieceCount: meta.pieceCount });
    if (this.state === 'seeding') this.emit('complete');
  }

  private async gotMetadata(infoBytes: Buffer): Promise<void> {
    if (this.meta) return;
    let meta: Metainfo;
    try {
      meta = parseInfoDict(infoBytes, { announce: this.trackerUrls });
    } catch (e) {
      this.emit('failed', e as Error);
      return;
    }
    this.meta = meta;
    this.emit('metadata', { infoHash: this.infoHashHex, name: meta.name, pieceCount: meta.pieceCount, length: meta.length });
    try {
      await this.openStorage(meta);
    } catch (e) {
      this.emit('failed', e as Error);
    }
  }

  private geometry(): TorrentGeometry | undefined {
    const m = this.meta;
    return m ? makeGeometry(m.pieceCount, m.pieceLength, m.length) : undefined;
  }

  private extensionHandshake(): ExtensionHandshakeInput {
    return {
      m: { ut_metadata: 1 },
      v: CLIENT_VERSION,
      p: this.host.port(),
      ...(this.meta ? { metadataSize: this.meta.infoBytes.length } : {}),
    };
  }

  private hasRoom(): boolean {
    return this.peers.size < this.limits.maxPeersPerTorrent && this.host.globalRoom();
  }

  private left(): number {
    if (this.storage) return this.storage.bytesLeft();
    return this.meta ? this.meta.length : 1; // unknown size (magnet): still a leecher
  }

  // --- connections ---

  /** An incoming peer whose handshake named this torrent. */
  acceptIncoming(socket: Socket, handshake: Handshake, rest: Buffer): void {
    const ip = socket.remoteAddress ?? '';
    const port = socket.remotePort ?? 0;
    if (!this.hasRoom() || this.isBanned(banKeyFor(ip, port)) || this.state === 'stopped') {
      socket.destroy();
      return;
    }
    let conn: PeerConnection;
    try {
      const g = this.geometry();
      conn = PeerConnection.accept({
        socket,
        handshake,
        rest,
        infoHash: this.infoHash,
        peerId: this.host.peerId,
        extensionHandshake: this.extensionHandshake(),
        ...(g ? { geometry: g } : {}),
      });
    } catch {
      return; // wrong torrent or ourselves: accept() destroyed the socket
    }
    this.attach(conn, addressKey(ip, port));
  }

  private attach(conn: PeerConnection, address: string): void {
    const dup = [...this.peers.values()].some((p) => p.conn.remotePeerId.equals(conn.remotePeerId));
    const key = banKeyFor(conn.remoteAddress, conn.incoming ? conn.remotePort : Number(address.slice(address.lastIndexOf(':') + 1)));
    if (dup || this.state === 'stopped' || this.isBanned(key) || !this.hasRoom()) {
      conn.close(dup ? 'already connected to this peer' : 'not accepting peers');
      conn.start();
      return;
    }
    const peer = new Peer(this.nextPeerId++, conn, address, key, this.now());
    this.peers.set(peer.id, peer);
    this.downloader.rememberPeer(peer);
    attachPeerHandlers(peer, {
      downloader: this.downloader,
      uploader: this.uploader,
      metadata: this.metadata,
      now: () => this.now(),
      onBitfield: () => {
        if (this.state === 'seeding' && peer.isSeed) peer.conn.close(BOTH_SEEDS);
      },
      onClose: (info) => this.detach(peer, info),
      requestRechoke: () => this.requestRechoke(),
    });
    // Our availability first (BEP 3/6), then read: messages that came with the peer's
    // handshake would otherwise make us send INTERESTED and REQUESTs before it.
    conn.sendAvailability(this.storage?.have ?? null);
    this.uploader.offerAllowedFast(peer);
    conn.start();
    this.emit('peer-connected', { address, incoming: conn.incoming, ...(peer.client ? { client: peer.client } : {}) });
    this.requestRechoke();
  }

  private detach(peer: Peer, info: CloseInfo): void {
    if (peer.closed) return;
    peer.closed = true;
    this.peers.delete(peer.id);
    this.downloader.onClose(peer);
    this.metadata.onClose(peer);
    peer.uploads.clear();
    if (info.violation) this.ban(peer.banKey, info.reason);
    if (!peer.conn.incoming) this.pm.ended(peer.address, info.reason === BOTH_SEEDS);
    this.emit('peer-closed', { address: peer.address, reason: info.reason });
    this.requestRechoke();
    this.downloader.fillAll();
  }

  isBanned(key: string): boolean {
    return this.banned.has(key) || this.smartBan.isBanned(key);
  }

  ban(key: string, reason: string): void {
    if (!this.banned.has(key)) {
      this.banned.set(key, reason);
      this.emit('banned', { address: key, reason });
    }
    for (const p of this.peers.values()) if (p.banKey === key) p.conn.close(`banned: ${reason}`);
  }

  bannedPeers(): { address: string; reason: string }[] {
    return [...this.banned].map(([address, reason]) => ({ address, reason }));
  }

  addDownloaded(bytes: number): void {
    this.downloaded += bytes;
  }

  addUploaded(bytes: number): void {
    this.uploaded += bytes;
  }

  pieceDone(index: number, from: string[]): void {
    for (const p of this.peers.values()) if (!p.has.has(index)) p.conn.sendHave(index);
    this.emit('piece', { index, from });
    if (this.state === 'downloading' && this.picker!.isDone()) {
      this.state = 'seeding';
      this.tracker?.completed();
      void this.storage?.saveResume().catch(() => undefined);
      this.emit('progress', this.progress());
      this.emit('complete');
      for (const p of this.peers.values()) {
        p.conn.sendNotInterested();
        if (p.isSeed) p.conn.close(BOTH_SEEDS);
      }
      this.requestRechoke();
    }
  }

  requestRechoke(): void {
    if (this.rechokeScheduled || this.state === 'stopped') return;
    this.rechokeScheduled = true;
    setImmediate(() => {
      this.rechokeScheduled = false;
      this.uploader.rechoke(this.state === 'seeding');
    });
  }

  private tick(): void {
    if (this.state === 'stopped') return;
    this.ticks++;
    const now = this.now();
    this.downloader.tick(now);
    if (!this.meta) for (const p of this.peers.values()) this.metadata.ask(p, now);
    if ((this.ticks * TICK_MS) % RECHOKE_INTERVAL_MS === 0) this.uploader.rechoke(this.state === 'seeding');
    for (const p of this.peers.values()) this.uploader.pump(p);
    this.pm.dialMore();
    // Out of peers: ask the tracker again (it enforces its min interval). A seeder needs this
    // too: it learns of leechers only from announces, and must dial those that never dial.
    if (this.peers.size === 0 && this.ticks % 30 === 0) this.tracker?.announceNow();
    this.emit('progress', this.progress());
  }

  progress(): ProgressInfo {
    return progressOf(this, this.wantedBytes, this.downloaded, this.uploaded, this.name);
  }

  /** The connected peers, for the API and UI. */
  peerList(): PeerStatus[] {
    return [...this.peers.values()].map(peerStatus);
  }

  /** Seconds since the torrent started (for summaries). */
  elapsedS(): number {
    return (performance.now() - this.t0) / 1000;
  }

  /** Stops announcing (a `stopped` announce), closes every peer, saves resume data. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.pm.stop();
    this.downloader.stop();
    this.uploader.stop();
    for (const p of [...this.peers.values()]) p.conn.close('torrent stopped');
    const tasks: Promise<unknown>[] = [];
    if (this.tracker) tasks.push(this.tracker.stop().catch(() => undefined));
    if (this.storage) tasks.push(this.storage.close().catch((e: Error) => this.emit('error', e)));
    await Promise.all(tasks);
  }
}
