// One peer connection over TCP: the handshake exchange, the message stream (parsed by
// peer/wire), the choke/interest state, the peer's pieces, request bookkeeping, rates, and
// batched zero-copy writes. It decides nothing about what to download or upload (that is
// peer/download and peer/upload, driven by node/); it keeps the connection honest: every
// protocol violation closes this connection with a reason, never throws out of the loop.
import { EventEmitter } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Bitfield, StaError } from '../util/index.js';
import {
  FrameParser,
  MAX_BLOCK_LENGTH,
  PIECE_READY,
  MAX_BITFIELD_BYTES,
  MAX_EXTENSION_NAMES,
  MessageId,
  WireError,
  decodeExtensionHandshake,
  encodeExtensionHandshake,
  encodeHandshake,
  parseBitfield,
  type ExtensionHandshake,
  type ExtensionHandshakeInput,
  type Handshake,
  type TorrentGeometry,
  type WireMessage,
} from './wire/index.js';
import { OutstandingRequests, requestKey } from './download/index.js';
import { PeerConnectionError } from './errors.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, ipToBytes, readHandshake } from './handshake-io.js';
import { DEFAULT_RATE_WINDOW_S, RateMeter } from './rate-meter.js';
import { Outbox } from './outbox.js';

/** BEP 3 suggests a keep-alive every two minutes; most clients drop a peer silent for 2-3
 *  minutes, so we speak at least every 60 s. */
export const DEFAULT_KEEP_ALIVE_MS = 60_000;
/** A peer that sends nothing (not even keep-alives) for 3 minutes is gone. */
export const DEFAULT_IDLE_TIMEOUT_MS = 180_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Size of the read buffer every dialled socket reads into (net's `onread`), shared: each
 *  read is parsed (and what must outlive it copied) before the next one can happen. One
 *  buffer instead of a fresh 64 KiB allocation per read saved ~10% of a leecher's CPU.
 *  1 MiB rather than 256 KiB: reads filled the smaller one (~250 KiB each on loopback),
 *  and each read costs a callback and a message cut at its end that is copied twice
 *  (~12% of the bytes at 256 KiB); 1 MiB saved ~0.15 s user CPU per GiB, sta or aria2c
 *  seeding. */
const READ_BUFFER_BYTES = 1024 * 1024;
const EMPTY_BLOCK = Buffer.alloc(0);
/** Read coalescing on those sockets: after a read that brought piece data but less than
 *  this (the kernel had no more), the next read waits READ_COALESCE_MS, so a peer sending
 *  in small bursts (aria2c seeding: ~150 KB per read, 7,000 reads per GiB) is read in
 *  fewer, larger reads (~650 KB, 1,600 per GiB): each read costs a wake-up, a callback and
 *  a message cut at its end, whatever it carries. The kernel's receive buffer holds what
 *  comes meanwhile (2 ms of 1 GB/s is 2 MB); the data of a read is handled at once. */
const READ_COALESCE_BELOW_BYTES = 256 * 1024;
const READ_COALESCE_MS = 2;
let sharedReadBuffer: Buffer | undefined;
/** Where a dialled socket's reads go: the connection once it exists, before that (the
 *  handshake) copies emitted as ordinary 'data' events. */
const readSinks = new WeakMap<Socket, { conn: PeerConnection | null }>();
/** Requests from one peer not yet answered (piece or reject) beyond this are rejected (BEP 6)
 *  or dropped: it is the `reqq` we advertise, and bounds what one peer can queue on us
 *  (1000 x 16 KiB = 16 MiB of reads). */
export const DEFAULT_MAX_INCOMING_REQUESTS = 1000;
/** Haves received before the torrent's size is known (magnet links) are kept until it is;
 *  a peer sending more than this before we have metadata is flooding. */
export const MAX_PENDING_HAVES = 65_536;
/** Piece data a peer may send that answers no outstanding request of ours. Some is normal
 *  (a block already on the wire when we cancelled it, or when the peer choked us without
 *  BEP 6), and each such request adds one block to the allowance; past that, a peer pushing
 *  data we never asked for is flooding: the picker would discard it, so no hash check would
 *  ever catch it. 4 MiB (256 blocks) of slack. */
export const UNREQUESTED_DATA_ALLOWANCE = 4 * 1024 * 1024;
/** Chokes and cancels credit the allowance with what was in flight; it never grows past
 *  the slack plus a full outgoing pipeline (1000 x 16 KiB), so choke/unchoke cycles cannot
 *  switch the flood check off. */
const MAX_UNREQUESTED_ALLOWANCE = UNREQUESTED_DATA_ALLOWANCE + 1000 * 16 * 1024;
/** allowed-fast indexes remembered from one peer (BEP 6 sets are ~10). */
export const MAX_PEER_ALLOWED_FAST = 256;

export interface PeerConnectionOptions {
  infoHash: Buffer;
  /** Our peer id. */
  peerId: Buffer;
  /** What we offer in the handshake; both default to true. */
  extensions?: { fast?: boolean; extended?: boolean };
  /** The torrent's shape; absent for a magnet link until its metadata arrives (setGeometry). */
  geometry?: TorrentGeometry;
  /** Our BEP 10 handshake (sent by sendAvailability, or sendExtendedHandshake). `reqq`
   *  defaults to maxIncomingRequests and `yourip` to the peer's address. */
  extensionHandshake?: ExtensionHandshakeInput;
  keepAliveMs?: number;
  idleTimeoutMs?: number;
  maxIncomingRequests?: number;
  rateWindowS?: number;
  handshakeTimeoutMs?: number;
  /** Monotonic milliseconds (tests drive it); default performance.now. */
  now?: () => number;
}

export interface ConnectOptions extends PeerConnectionOptions {
  host: string;
  port: number;
  connectTimeoutMs?: number;
}

export interface AcceptOptions extends PeerConnectionOptions {
  /** The socket readHandshake read from (left paused). */
  socket: Socket;
  handshake: Handshake;
  rest: Buffer;
}

export interface CloseInfo {
  reason: string;
  /** WireError for protocol violations, PeerConnectionError or a socket error otherwise. */
  error?: Error;
  /** The stable code of `error`, when it has one. */
  code?: string;
  /** True when the peer broke the protocol (the engine may ban it). */
  violation: boolean;
}

/** See PeerConnection.setPieceHandler. The block's bytes are `head` then `tail`: `tail` is
 *  empty unless the block arrived split between two reads (then it is not gathered into
 *  one buffer). Both are views valid only during the call. `requested`: the block answers
 *  a sendRequest still outstanding (the request is forgotten). */
export type PieceHandler = (index: number, begin: number, head: Buffer, tail: Buffer, requested: boolean) => void;

export interface PeerConnectionEvents {
  choke: [];
  unchoke: [];
  interested: [];
  'not-interested': [];
  /** A piece the peer gained: a have message, or a piece a later bitfield / have-all adds
   *  (aria2 sends those mid-connection). The bit is already set in peerBitfield. */
  have: [index: number];
  /** After the first bitfield, have-all or have-none (or setGeometry): the peer's pieces so far. */
  bitfield: [bitfield: Bitfield];
  /** A request to serve (already checked against the torrent and the queue bound). Answer
   *  with sendPiece or sendReject. */
  request: [index: number, begin: number, length: number];
  /** `block` is a view into the socket's read buffer, valid only during this event (on a
   *  dialled connection the buffer is reused by the next read): copy it before returning.
   *  `requested`: it answers a sendRequest still outstanding. */
  piece: [index: number, begin: number, block: Buffer, requested: boolean];
  cancel: [index: number, begin: number, length: number];
  /** BEP 6: the peer will not send this block (only for requests we had outstanding). */
  reject: [index: number, begin: number, length: number];
  suggest: [index: number];
  'allowed-fast': [index: number];
  port: [port: number];
  'extended-handshake': [info: ExtensionHandshake];
  /** A BEP 10 message other than the handshake; `name` is ours for that id, if we gave one. */
  extended: [id: number, payload: Buffer, name: string | undefined];
  /** The socket's write buffer emptied after a send returned false. */
  drain: [];
  close: [info: CloseInfo];
}

export class PeerConnection extends EventEmitter<PeerConnectionEvents> {
  readonly socket: Socket;
  readonly incoming: boolean;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly remotePeerId: Buffer;
  readonly remoteHandshake: Handshake;
  /** BEP 6 negotiated (both sides set the bit). */
  readonly fast: boolean;
  /** BEP 10 negotiated. */
  readonly extended: boolean;

  amChoking = true;
  amInterested = false;
  peerChoking = true;
  peerInterested = false;

  /** The peer's pieces; null until the torrent's size is known. */
  peerBitfield: Bitfield | null = null;
  /** The peer's BEP 10 handshake (merged over later ones), once received. */
  peerExtensions: ExtensionHandshake | null = null;
  /** Pieces the peer lets us request while choked (BEP 6). */
  readonly peerAllowedFast = new Set<number>();

  /** Payload (block) bytes received and sent. */
  get bytesDownloaded(): number {
    return this.down.total + this.blockBytesPending;
  }
  get bytesUploaded(): number {
    return this.up.total;
  }
  /** All bytes on the wire, messages and handshake included. */
  bytesRead = 0;
  get bytesWritten(): number {
    return this.out.bytesWritten;
  }

  private readonly opts: PeerConnectionOptions;
  private readonly now: () => number;
  private readonly parser: FrameParser;
  private geometry: TorrentGeometry | undefined;
  private readonly down: RateMeter;
  /** Block bytes of the messages being dispatched, not yet in `down`: added once per read
   *  (they share its time) rather than per 16 KiB block. */
  private blockBytesPending = 0;
  private readonly up: RateMeter;
  private readonly maxIncomingRequests: number;
  /** Our requests not answered yet (see useRequestTable). */
  private requestsOut: OutstandingRequests;
  private readonly requestsIn = new Map<number | string, true>();
  /** Bytes of piece data the peer may still send unrequested (see UNREQUESTED_DATA_ALLOWANCE). */
  private unrequestedAllowance = UNREQUESTED_DATA_ALLOWANCE;
  /** Requests we dropped or rejected because the queue was full (a peer ignoring reqq). */
  requestsRefused = 0;
  private availabilitySeen = false;
  private pendingAvailability: { kind: 'bits'; bytes: Buffer } | { kind: 'all' } | { kind: 'none' } | null = null;
  private pendingHaves: number[] = [];
  private extensionHandshakeSent = false;
  private localExtensionNames = new Map<number, string>();

  private started = false;
  private closedInfo: CloseInfo | null = null;
  private readPaused = false;
  /** A coalescing pause (READ_COALESCE_MS) is running. */
  private coalesceTimer: NodeJS.Timeout | null = null;
  private dispatching = false;
  private timer: NodeJS.Timeout | null = null;
  private lastReceivedMs: number;
  private lastSentMs: number;

  private readonly out: Outbox;
  private rest: Buffer | null;
  private pieceHandler: PieceHandler | null = null;

  /** Use PeerConnection.connect or PeerConnection.accept. */
  private constructor(socket: Socket, handshake: Handshake, rest: Buffer, opts: PeerConnectionOptions, incoming: boolean) {
    super();
    this.socket = socket;
    this.incoming = incoming;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.remoteHandshake = handshake;
    this.remotePeerId = handshake.peerId;
    this.opts = opts;
    this.now = opts.now ?? (() => performance.now());
    this.fast = (opts.extensions?.fast ?? true) && handshake.extensions.fast;
    this.extended = (opts.extensions?.extended ?? true) && handshake.extensions.extended;
    this.maxIncomingRequests = opts.maxIncomingRequests ?? DEFAULT_MAX_INCOMING_REQUESTS;
    this.down = new RateMeter(opts.rateWindowS ?? DEFAULT_RATE_WINDOW_S);
    this.up = new RateMeter(opts.rateWindowS ?? DEFAULT_RATE_WINDOW_S);
    this.geometry = opts.geometry;
    this.parser = new FrameParser({ geometry: opts.geometry });
    if (opts.geometry) this.peerBitfield = new Bitfield(opts.geometry.pieceCount);
    this.rest = rest.length ? rest : null;
    this.bytesRead = 68 + rest.length;
    this.out = new Outbox(socket);
    this.out.bytesWritten = 68;
    this.lastReceivedMs = this.lastSentMs = this.now();
    this.requestsOut = new OutstandingRequests(this.lastSentMs);
    const m = opts.extensionHandshake?.m;
    if (m) for (const [name, id] of m instanceof Map ? m : Object.entries(m)) if (id > 0) this.localExtensionNames.set(id, name);

    socket.setNoDelay(true);
    const sink = readSinks.get(socket);
    if (sink) sink.conn = this;
    else socket.on('data', this.onData);
    socket.on('drain', this.onDrain);
    socket.on('error', (e: NodeJS.ErrnoException) => this.closeWith(`socket error: ${e.message}`, e, false));
    socket.on('end', () => this.closeWith('peer closed the connection', undefined, false));
    socket.on('close', () => this.closeWith('connection closed', undefined, false));
  }

  /** Dials a peer, exchanges handshakes, and checks it serves our torrent and is not us.
   *  Rejects with PeerConnectionError or WireError. Call start() after attaching listeners. */
  static connect(opts: ConnectOptions): Promise<PeerConnection> {
    return new Promise((resolve, reject) => {
      const sink: { conn: PeerConnection | null } = { conn: null };
      sharedReadBuffer ??= Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
      const socket: Socket = netConnect({
        host: opts.host,
        port: opts.port,
        onread: {
          buffer: sharedReadBuffer,
          callback: (n: number, buf: Uint8Array): boolean => {
            const view = Buffer.from(buf.buffer, buf.byteOffset, n);
            if (sink.conn) sink.conn.onBorrowedData(view);
            else socket.emit('data', Buffer.from(view));
            return true;
          },
        },
      });
      readSinks.set(socket, sink);
      const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
      const fail = (e: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(e);
      };
      const onError = (e: Error) => fail(new PeerConnectionError('PEER_CONNECT_FAILED', `cannot connect to ${opts.host}:${opts.port}: ${e.message}`, { cause: e }));
      const timer = setTimeout(() => fail(new PeerConnectionError('PEER_CONNECT_TIMEOUT', `no connection to ${opts.host}:${opts.port} within ${timeoutMs} ms`)), timeoutMs);
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.write(encodeHandshake({ infoHash: opts.infoHash, peerId: opts.peerId, extensions: extensionBits(opts) }));
        readHandshake(socket, opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS).then(({ handshake, rest }) => {
          try {
            checkRemote(handshake, opts);
            resolve(new PeerConnection(socket, handshake, rest, opts, false));
          } catch (e) {
            fail(e as Error);
          }
        }, reject);
      });
    });
  }

  /** Takes over an incoming socket whose handshake readHandshake read: checks it, answers
   *  with ours. Throws (and destroys the socket) on a wrong info hash or ourselves. */
  static accept(opts: AcceptOptions): PeerConnection {
    try {
      checkRemote(opts.handshake, opts);
    } catch (e) {
      opts.socket.destroy();
      throw e;
    }
    opts.socket.write(encodeHandshake({ infoHash: opts.infoHash, peerId: opts.peerId, extensions: extensionBits(opts) }));
    return new PeerConnection(opts.socket, opts.handshake, opts.rest, opts, true);
  }

  /** Starts reading messages and the keep-alive/idle timer. Attach listeners first: nothing
   *  is read before this, so no event is missed. */
  start(): void {
    if (this.started) return;
    this.started = true;
    if (this.closedInfo) {
      const info = this.closedInfo;
      process.nextTick(() => this.emit('close', info));
      return;
    }
    const keepAliveMs = this.opts.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS;
    const idleMs = this.opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.timer = setInterval(() => this.tick(keepAliveMs, idleMs), Math.max(20, Math.min(keepAliveMs, idleMs) / 4));
    this.timer.unref();
    const rest = this.rest;
    this.rest = null;
    if (rest) this.parser.push(rest);
    this.dispatch();
    if (!this.readPaused) this.socket.resume();
  }

  get closed(): boolean {
    return this.closedInfo !== null;
  }

  /** Why the connection closed, once it has. */
  get closeInfo(): CloseInfo | null {
    return this.closedInfo;
  }

  /** Closes the connection (idempotent); 'close' is emitted once with this reason. Pass a
   *  WireError (e.g. a bad ut_metadata message found by the engine) to mark it a protocol
   *  violation (`CloseInfo.violation`), which the engine may ban for. */
  close(reason = 'closed by us', error?: Error): void {
    this.closeWith(reason, error, error instanceof WireError);
  }

  // ---- torrent shape -------------------------------------------------------------

  /** Tells the connection the torrent's shape once known (magnet links): checks what the
   *  peer announced meanwhile and emits 'bitfield'. A bad bitfield closes the connection. */
  setGeometry(g: TorrentGeometry): void {
    if (this.closedInfo || this.geometry) return;
    this.geometry = g;
    this.parser.setGeometry(g);
    try {
      const p = this.pendingAvailability;
      let bf: Bitfield;
      if (p?.kind === 'bits') bf = parseBitfield(g, p.bytes);
      else if (p?.kind === 'all') bf = Bitfield.full(g.pieceCount);
      else bf = new Bitfield(g.pieceCount);
      for (const i of this.pendingHaves) {
        if (i >= g.pieceCount) throw new WireError('WIRE_BAD_INDEX', `have ${i} outside 0..${g.pieceCount - 1}`);
        bf.set(i);
      }
      this.pendingAvailability = null;
      this.pendingHaves = [];
      this.peerBitfield = bf;
      if (this.started) this.emit('bitfield', bf);
    } catch (e) {
      this.violation(e);
    }
  }

  // ---- reading -------------------------------------------------------------------

  /** Stops reading from the socket (e.g. while storage catches up); TCP then slows the peer. */
  pauseReading(): void {
    this.readPaused = true;
    this.socket.pause();
  }

  resumeReading(): void {
    if (!this.readPaused) return;
    this.readPaused = false;
    this.lastReceivedMs = this.now();
    if (!this.started || this.closedInfo) return;
    // Messages already parsed from earlier chunks go first.
    process.nextTick(() => {
      this.dispatch();
      if (!this.readPaused && !this.closedInfo && this.coalesceTimer === null) this.socket.resume();
    });
  }

  private readonly onData = (chunk: Buffer): void => {
    this.bytesRead += chunk.length;
    this.lastReceivedMs = this.now();
    this.parser.push(chunk);
    this.dispatch();
  };

  /** A read into the shared buffer: parsed now, the rest copied before returning. */
  onBorrowedData(chunk: Buffer): void {
    if (this.closedInfo) return;
    this.bytesRead += chunk.length;
    this.lastReceivedMs = this.now();
    const blockBytes = this.down.total;
    this.parser.pushBorrowed(chunk);
    this.dispatch();
    this.parser.release();
    if (chunk.length < READ_COALESCE_BELOW_BYTES && this.down.total !== blockBytes && this.coalesceTimer === null && !this.readPaused && !this.closedInfo) {
      this.socket.pause();
      this.coalesceTimer = setTimeout(this.endCoalesce, READ_COALESCE_MS);
    }
  }

  private readonly endCoalesce = (): void => {
    this.coalesceTimer = null;
    if (!this.readPaused && !this.closedInfo) this.socket.resume();
  };

  private dispatch(): void {
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      while (!this.readPaused && !this.closedInfo) {
        const p = this.parser;
        const m = p.nextOrPiece();
        // Blocks (nearly every message while downloading) apart from the rest, and without a
        // message object: the JIT compiles this small path once, instead of recompiling the
        // whole switch each time a message type first arrives after it was optimized.
        if (m === PIECE_READY) this.onPiece(p.pieceIndex, p.pieceBegin, p.pieceBlock, p.pieceTail);
        else if (m === null) break;
        else this.handle(m);
      }
    } catch (e) {
      if (e instanceof WireError) this.violation(e);
      else this.closeWith(`error in a message handler: ${(e as Error).message}`, new PeerConnectionError('PEER_HANDLER_FAILED', String(e), { cause: e }), false);
    } finally {
      this.dispatching = false;
      this.countBlocks();
    }
  }

  private handle(m: WireMessage): void {
    switch (m.type) {
      case 'keep-alive':
        return;
      // State messages that change nothing are not reported: a peer repeating them must not
      // make the engine redo its work (re-queue, refill) per 5-byte message.
      case 'choke':
        if (this.peerChoking) return;
        this.peerChoking = true;
        // BEP 3: a choke discards our outstanding requests; BEP 6 answers each with a reject.
        if (!this.fast) {
          // Blocks already on the wire may still arrive: allow for them.
          for (const k of this.requestsOut.keys()) this.unrequestedAllowance += typeof k === 'number' ? MAX_BLOCK_LENGTH : Number(k.slice(k.lastIndexOf(':') + 1));
          this.unrequestedAllowance = Math.min(this.unrequestedAllowance, MAX_UNREQUESTED_ALLOWANCE);
          this.requestsOut.clear();
        }
        this.emit('choke');
        return;
      case 'unchoke':
        if (!this.peerChoking) return;
        this.peerChoking = false;
        this.emit('unchoke');
        return;
      case 'interested':
        if (this.peerInterested) return;
        this.peerInterested = true;
        this.emit('interested');
        return;
      case 'not-interested':
        if (!this.peerInterested) return;
        this.peerInterested = false;
        this.emit('not-interested');
        return;
      case 'have':
        if (this.peerBitfield) {
          if (this.peerBitfield.has(m.index)) return; // known already: nothing to report
          this.peerBitfield.set(m.index);
        } else {
          if (this.pendingHaves.length >= MAX_PENDING_HAVES) throw new WireError('WIRE_FLOOD', `more than ${MAX_PENDING_HAVES} haves before the torrent's metadata`);
          this.pendingHaves.push(m.index);
        }
        this.emit('have', m.index);
        return;
      case 'bitfield':
        this.availability({ kind: 'bits', bytes: m.bytes });
        return;
      case 'have-all':
        this.requireFast(m.type);
        this.availability({ kind: 'all' });
        return;
      case 'have-none':
        this.requireFast(m.type);
        this.availability({ kind: 'none' });
        return;
      case 'request':
        this.onRequest(m.index, m.begin, m.length);
        return;
      case 'piece':
        this.onPiece(m.index, m.begin, m.block, EMPTY_BLOCK);
        return;
      case 'cancel':
        if (this.requestsIn.delete(requestKey(m.index, m.begin, m.length))) this.emit('cancel', m.index, m.begin, m.length);
        return;
      case 'reject':
        this.requireFast(m.type);
        if (this.requestsOut.remove(m.index, m.begin, m.length)) this.emit('reject', m.index, m.begin, m.length);
        return;
      case 'suggest':
        this.requireFast(m.type);
        this.emit('suggest', m.index);
        return;
      case 'allowed-fast':
        this.requireFast(m.type);
        // Reported once per piece, and for at most MAX_PEER_ALLOWED_FAST pieces.
        if (this.peerAllowedFast.has(m.index) || this.peerAllowedFast.size >= MAX_PEER_ALLOWED_FAST) return;
        this.peerAllowedFast.add(m.index);
        this.emit('allowed-fast', m.index);
        return;
      case 'port':
        this.emit('port', m.port);
        return;
      case 'extended':
        if (!this.extended) throw new WireError('WIRE_NOT_NEGOTIATED', 'extended message without the BEP 10 handshake bit');
        if (m.id === 0) {
          const h = decodeExtensionHandshake(m.payload);
          if (this.peerExtensions) {
            // BEP 10: later handshakes update the earlier one; id 0 removes an extension.
            // The merged set stays within the one-handshake bound, and each handshake
            // costs only its own names.
            const merged = this.peerExtensions.m;
            for (const [name, id] of h.m) {
              if (id === 0) merged.delete(name);
              else if (merged.has(name) || merged.size < MAX_EXTENSION_NAMES) merged.set(name, id);
              else throw new WireError('WIRE_BAD_EXTENDED', `extension handshakes name more than ${MAX_EXTENSION_NAMES} extensions in all`);
            }
            h.m = merged;
          } else {
            for (const [name, id] of h.m) if (id === 0) h.m.delete(name);
          }
          this.peerExtensions = h;
          this.emit('extended-handshake', h);
        } else {
          this.emit('extended', m.id, m.payload, this.localExtensionNames.get(m.id));
        }
        return;
    }
  }

  /** A block: `head` then `tail` (empty unless it came split between two reads). */
  private onPiece(index: number, begin: number, head: Buffer, tail: Buffer): void {
    const length = head.length + tail.length;
    const requested = this.requestsOut.take(index, begin, length, this.lastReceivedMs);
    if (!requested) this.unrequested(length);
    this.blockBytesPending += length;
    if (this.pieceHandler) this.pieceHandler(index, begin, head, tail, requested);
    else this.emit('piece', index, begin, tail.length === 0 ? head : Buffer.concat([head, tail], length), requested);
  }

  /** Our requests are kept in `table` (the engine's, for its timeouts and snubbing) instead
   *  of a table of the connection's own: one table per peer. Call it before any request is
   *  sent (what the old table holds is dropped). */
  useRequestTable(table: OutstandingRequests): void {
    this.requestsOut = table;
  }

  /** Moves the block bytes counted during dispatch into the rate meter, at the time of the
   *  read that brought them (what adding each block as it came would have done). */
  private countBlocks(): void {
    if (this.blockBytesPending === 0) return;
    this.down.add(this.blockBytesPending, this.lastReceivedMs);
    this.blockBytesPending = 0;
  }

  /** Blocks go to `handler` instead of the 'piece' event (which then is not emitted): a
   *  direct call per 16 KiB block, without EventEmitter's argument array and apply, and a
   *  block split between two reads comes as its two parts (see PieceHandler) instead of
   *  gathered. Like the event's block, they are valid only during the call. */
  setPieceHandler(handler: PieceHandler | null): void {
    this.pieceHandler = handler;
  }

  private unrequested(bytes: number): void {
    this.unrequestedAllowance -= bytes;
    if (this.unrequestedAllowance < 0) throw new WireError('WIRE_FLOOD', 'too much piece data that answers no request of ours');
  }

  private requireFast(type: string): void {
    if (!this.fast) throw new WireError('WIRE_NOT_NEGOTIATED', `${type} message without the BEP 6 handshake bit`);
  }

  /** bitfield / have-all / have-none. BEP 3/6 say: once, as the first message; real clients
   *  differ (aria2 1.36 sends a fresh bitfield mid-connection instead of haves, and have-all
   *  on completion), so a later one only adds pieces: it is merged into what the peer had,
   *  never takes pieces away, and a later have-none changes nothing. Each one is still
   *  checked (length, spare bits), and costs O(pieces) like any bitfield. */
  private availability(a: { kind: 'bits'; bytes: Buffer } | { kind: 'all' } | { kind: 'none' }): void {
    const g = this.geometry;
    if (this.availabilitySeen) {
      if (a.kind === 'none') return;
      if (g && this.peerBitfield) {
        // Reported as haves of the pieces it adds, and merged byte by byte: a peer repeating
        // its bitfield costs what reading it costs, never O(pieces) per message here or in
        // the engine (which recounts on 'bitfield'). The parser checked size and spare bits.
        const added = addBits(this.peerBitfield, a.kind === 'bits' ? a.bytes : null);
        for (const i of added) this.emit('have', i);
      } else if (!g) {
        if (a.kind === 'bits' && a.bytes.length > MAX_BITFIELD_BYTES) throw new WireError('WIRE_BAD_BITFIELD', 'bitfield too long');
        const p = this.pendingAvailability;
        if (a.kind === 'all' || p?.kind === 'all') this.pendingAvailability = { kind: 'all' };
        else if (p?.kind === 'bits' && p.bytes.length === a.bytes.length) for (let i = 0; i < p.bytes.length; i++) p.bytes[i]! |= a.bytes[i]!;
        else this.pendingAvailability = { kind: 'bits', bytes: Buffer.from(a.bytes) };
      }
      return;
    }
    this.availabilitySeen = true;
    if (!g) {
      if (a.kind === 'bits' && a.bytes.length > MAX_BITFIELD_BYTES) throw new WireError('WIRE_BAD_BITFIELD', 'bitfield too long');
      this.pendingAvailability = a.kind === 'bits' ? { kind: 'bits', bytes: Buffer.from(a.bytes) } : a;
      return;
    }
    const bf = a.kind === 'bits' ? parseBitfield(g, a.bytes) : a.kind === 'all' ? Bitfield.full(g.pieceCount) : new Bitfield(g.pieceCount);
    if (this.peerBitfield) addBits(bf, this.peerBitfield.bytes);
    this.peerBitfield = bf;
    this.emit('bitfield', bf);
  }

  private onRequest(index: number, begin: number, length: number): void {
    if (!this.geometry) {
      // We announced no pieces yet; nothing to serve.
      this.refuse(index, begin, length);
      return;
    }
    const key = requestKey(index, begin, length);
    if (this.requestsIn.has(key)) return; // a repeated request is answered once
    if (this.requestsIn.size >= this.maxIncomingRequests) {
      this.refuse(index, begin, length);
      return;
    }
    this.requestsIn.set(key, true);
    this.emit('request', index, begin, length);
  }

  private refuse(index: number, begin: number, length: number): void {
    this.requestsRefused++;
    if (this.fast) this.writeBlockMsg(MessageId.reject, index, begin, length);
  }

  // ---- writing -------------------------------------------------------------------

  /** Bytes queued in the socket and not yet sent. */
  get writableBytes(): number {
    return this.out.pendingBytes;
  }

  /** True after a send filled the socket's buffer, until 'drain'. */
  get needsDrain(): boolean {
    return this.out.needDrain;
  }

  private readonly onDrain = (): void => {
    if (!this.out.needDrain) return;
    this.out.needDrain = false;
    this.emit('drain');
  };

  private sent(): boolean {
    this.lastSentMs = this.now();
    return !this.out.needDrain;
  }

  private writeFixed(id: number): boolean {
    if (this.closedInfo) return false;
    this.out.fixed(id);
    return this.sent();
  }

  private writeIndexMsg(id: number, index: number): boolean {
    if (this.closedInfo) return false;
    this.out.index(id, index);
    return this.sent();
  }

  private writeBlockMsg(id: number, index: number, begin: number, length: number): boolean {
    if (this.closedInfo) return false;
    this.out.block(id, index, begin, length);
    return this.sent();
  }

  private writeBytesMsg(id: number, prefix: number, body: Uint8Array): boolean {
    if (this.closedInfo) return false;
    this.out.bytes(id, prefix, body);
    return this.sent();
  }

  /** The send methods return false when the socket's buffer is full: wait for 'drain'
   *  before sending more blocks. They do nothing once the connection is closed. */
  sendKeepAlive(): boolean {
    if (this.closedInfo) return false;
    this.out.keepAlive();
    return this.sent();
  }

  sendChoke(): boolean {
    if (this.amChoking) return !this.out.needDrain;
    this.amChoking = true;
    // BEP 3: choking discards the peer's pending requests. With BEP 6 each must still be
    // answered: the upload side rejects those it will not serve (sendReject).
    if (!this.fast) this.requestsIn.clear();
    return this.writeFixed(MessageId.choke);
  }

  sendUnchoke(): boolean {
    if (!this.amChoking) return !this.out.needDrain;
    this.amChoking = false;
    return this.writeFixed(MessageId.unchoke);
  }

  sendInterested(): boolean {
    if (this.amInterested) return !this.out.needDrain;
    this.amInterested = true;
    return this.writeFixed(MessageId.interested);
  }

  sendNotInterested(): boolean {
    if (!this.amInterested) return !this.out.needDrain;
    this.amInterested = false;
    return this.writeFixed(MessageId.notInterested);
  }

  sendHave(index: number): boolean {
    return this.writeIndexMsg(MessageId.have, index);
  }

  sendBitfield(bitfield: Bitfield): boolean {
    return this.writeBytesMsg(MessageId.bitfield, -1, bitfield.bytes);
  }

  sendHaveAll(): boolean {
    if (!this.fast) throw new WireError('WIRE_BAD_ARGUMENT', 'have-all needs BEP 6 on both sides');
    return this.writeFixed(MessageId.haveAll);
  }

  sendHaveNone(): boolean {
    if (!this.fast) throw new WireError('WIRE_BAD_ARGUMENT', 'have-none needs BEP 6 on both sides');
    return this.writeFixed(MessageId.haveNone);
  }

  /**
   * The first messages after the handshake, in the order BEP 6 requires: our pieces
   * (have-all / have-none with BEP 6, else a bitfield, omitted when empty), then our BEP 10
   * handshake if both sides speak it. `have` null: we know no pieces yet (magnet link).
   */
  sendAvailability(have: Bitfield | null): boolean {
    if (this.fast && (!have || have.isEmpty())) this.sendHaveNone();
    else if (this.fast && have?.isFull()) this.sendHaveAll();
    else if (have && !have.isEmpty()) this.sendBitfield(have);
    if (this.extended && !this.extensionHandshakeSent) this.sendExtendedHandshake();
    return !this.out.needDrain;
  }

  /** Sends our BEP 10 handshake (options.extensionHandshake, overridden by `fields`). */
  sendExtendedHandshake(fields: Partial<ExtensionHandshakeInput> = {}): boolean {
    if (!this.extended) return false;
    const base: ExtensionHandshakeInput = this.opts.extensionHandshake ?? { m: {} };
    const input: ExtensionHandshakeInput = {
      ...base,
      reqq: base.reqq ?? this.maxIncomingRequests,
      yourip: base.yourip ?? ipToBytes(this.remoteAddress),
      ...fields,
      m: fields.m ?? base.m,
    };
    for (const [name, id] of input.m instanceof Map ? input.m : Object.entries(input.m)) if (id > 0) this.localExtensionNames.set(id, name);
    this.extensionHandshakeSent = true;
    return this.writeBytesMsg(MessageId.extended, 0, encodeExtensionHandshake(input));
  }

  /** A BEP 10 message with the id the peer assigned. */
  sendExtended(id: number, payload: Uint8Array): boolean {
    if (!this.extended) return false;
    if (!Number.isInteger(id) || id < 1 || id > 255) throw new WireError('WIRE_BAD_ARGUMENT', `extended message id ${id}`);
    return this.writeBytesMsg(MessageId.extended, id, payload);
  }

  /** A BEP 10 message by extension name; false if the peer does not support it. */
  sendExtensionMessage(name: string, payload: Uint8Array): boolean {
    const id = this.peerExtensions?.m.get(name);
    if (!id) return false;
    return this.sendExtended(id, payload);
  }

  /** Whether the peer supports the BEP 10 extension `name`. */
  peerSupports(name: string): boolean {
    return (this.peerExtensions?.m.get(name) ?? 0) > 0;
  }

  sendRequest(index: number, begin: number, length: number): boolean {
    const now = this.now();
    this.requestsOut.add(index, begin, length, now);
    if (this.closedInfo) return false;
    this.out.block(MessageId.request, index, begin, length);
    this.lastSentMs = now;
    return !this.out.needDrain;
  }

  sendCancel(index: number, begin: number, length: number): boolean {
    // The block may be on the wire already: allow for it arriving unrequested.
    if (this.requestsOut.remove(index, begin, length)) {
      this.unrequestedAllowance = Math.min(this.unrequestedAllowance + length, MAX_UNREQUESTED_ALLOWANCE);
    }
    return this.writeBlockMsg(MessageId.cancel, index, begin, length);
  }

  /** Declines a request: a reject message with BEP 6; without it, nothing is sent (BEP 3
   *  has no way to decline). Either way the request stops counting against the peer. */
  sendReject(index: number, begin: number, length: number): boolean {
    this.requestsIn.delete(requestKey(index, begin, length));
    if (!this.fast) return !this.out.needDrain;
    return this.writeBlockMsg(MessageId.reject, index, begin, length);
  }

  /** Sends a block: the 13-byte header from the slab, the block itself as its own buffer in
   *  the same corked writev (never copied). Do not modify `block` until it is sent. */
  sendPiece(index: number, begin: number, block: Uint8Array): boolean {
    if (this.closedInfo) return false;
    if (block.length < 1 || block.length > MAX_BLOCK_LENGTH) throw new WireError('WIRE_BAD_ARGUMENT', `block of ${block.length} bytes`);
    this.requestsIn.delete(requestKey(index, begin, block.length));
    this.out.piece(index, begin, block);
    this.up.add(block.length, this.now());
    return this.sent();
  }

  sendSuggest(index: number): boolean {
    if (!this.fast) return false;
    return this.writeIndexMsg(MessageId.suggest, index);
  }

  sendAllowedFast(index: number): boolean {
    if (!this.fast) return false;
    return this.writeIndexMsg(MessageId.allowedFast, index);
  }

  sendPort(port: number): boolean {
    if (this.closedInfo) return false;
    this.out.port(port);
    return this.sent();
  }

  // ---- bookkeeping -----------------------------------------------------------------

  /** Our requests to this peer not yet answered (piece, reject, or our cancel). */
  get requestsInFlight(): number {
    return this.requestsOut.size;
  }

  isRequested(index: number, begin: number, length: number): boolean {
    return this.requestsOut.has(index, begin, length);
  }

  /** The peer's requests we have not answered yet. */
  get incomingRequests(): number {
    return this.requestsIn.size;
  }

  /** Payload bytes/s received from / sent to this peer over the rate window. */
  downloadRate(): number {
    this.countBlocks();
    return this.down.rate(this.now());
  }

  uploadRate(): number {
    return this.up.rate(this.now());
  }

  private tick(keepAliveMs: number, idleMs: number): void {
    if (this.closedInfo) return;
    const now = this.now();
    if (!this.readPaused && now - this.lastReceivedMs >= idleMs) {
      this.closeWith(`no message for ${Math.round((now - this.lastReceivedMs) / 1000)} s`, new PeerConnectionError('PEER_IDLE', 'idle timeout'), false);
      return;
    }
    if (now - this.lastSentMs >= keepAliveMs) this.sendKeepAlive();
  }

  private violation(e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    this.closeWith(`protocol violation: ${err.message}`, err, e instanceof WireError);
  }

  private closeWith(reason: string, error: Error | undefined, violation: boolean): void {
    if (this.closedInfo) return;
    const code = error instanceof StaError ? error.code : (error as NodeJS.ErrnoException | undefined)?.code;
    this.closedInfo = { reason, violation, ...(error ? { error } : {}), ...(code ? { code } : {}) };
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.coalesceTimer) clearTimeout(this.coalesceTimer);
    this.coalesceTimer = null;
    this.requestsOut.clear();
    this.requestsIn.clear();
    this.socket.off('data', this.onData);
    const sink = readSinks.get(this.socket);
    if (sink) sink.conn = null;
    this.out.close();
    this.socket.destroy();
    if (this.started) this.emit('close', this.closedInfo);
  }
}

/** Sets in `target` every piece set in `bytes` (same size, spare bits clear; null: every
 *  piece), byte by byte; returns the pieces that were not set before. */
function addBits(target: Bitfield, bytes: Uint8Array | null): number[] {
  const added: number[] = [];
  const t = target.bytes;
  const n = target.length;
  const lastMask = n & 7 ? (0xff << (8 - (n & 7))) & 0xff : 0xff;
  for (let i = 0; i < t.length; i++) {
    const want = bytes ? bytes[i]! : i === t.length - 1 ? lastMask : 0xff;
    const diff = want & ~t[i]!;
    if (diff === 0) continue;
    for (let b = 0; b < 8; b++) {
      if (diff & (0x80 >>> b)) {
        target.set(i * 8 + b);
        added.push(i * 8 + b);
      }
    }
  }
  return added;
}

function extensionBits(opts: PeerConnectionOptions): { fast: boolean; extended: boolean } {
  return { fast: opts.extensions?.fast ?? true, extended: opts.extensions?.extended ?? true };
}

function checkRemote(h: Handshake, opts: PeerConnectionOptions): void {
  if (!h.infoHash.equals(opts.infoHash)) {
    throw new PeerConnectionError('PEER_INFO_HASH_MISMATCH', `peer answered for torrent ${h.infoHash.toString('hex')}, not ${opts.infoHash.toString('hex')}`);
  }
  if (h.peerId.equals(opts.peerId)) throw new PeerConnectionError('PEER_SELF_CONNECTION', 'connected to ourselves');
}
