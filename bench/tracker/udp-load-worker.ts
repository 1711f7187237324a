// One UDP load-generator thread (BEP 15): keeps `inFlight` transactions outstanding on one
// socket, each a connect followed by an announce (real clients announce every interval,
// far longer than a connection id lives, so each announce needs its own connect), or with
// `reuseConnection` one connect then announces only. Bounded by count and by time; a reply
// that does not come within `timeoutMs` counts as lost and its slot starts over.
import dgram from 'node:dgram';
import { parentPort, workerData } from 'node:worker_threads';
import { NUMWANT, PEERS, PORT_BASE, TORRENTS, infoHash, peerId } from './workload.js';

export interface UdpWorkerParams {
  host: string;
  port: number;
  inFlight: number;
  durationMs: number;
  maxAnnounces: number;
  timeoutMs: number;
  reuseConnection: boolean;
}

export interface UdpWorkerResult {
  announces: number;
  connects: number;
  errors: number;
  lost: number;
  peersReturned: number;
  elapsedMs: number;
}

const PROTOCOL_ID = 0x41727101980n;
const SLOT_BITS = 12; // up to 4096 in flight per thread

const params = workerData as UdpWorkerParams;
const slots = Math.min(params.inFlight, 1 << SLOT_BITS);
const slotTid = new Uint32Array(slots);
const slotSentAt = new Float64Array(slots);
const slotConn: (Buffer | null)[] = new Array<Buffer | null>(slots).fill(null);
let seq = 1;

const hashes = Array.from({ length: TORRENTS }, (_, i) => infoHash(i));
const peerIds = Array.from({ length: PEERS }, (_, i) => peerId(i));

const res: UdpWorkerResult = { announces: 0, connects: 0, errors: 0, lost: 0, peersReturned: 0, elapsedMs: 0 };
const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
let done = false;
const start = performance.now();

function nextTid(slot: number): number {
  seq = (seq + 1) & 0xfffff;
  const tid = ((seq << SLOT_BITS) | slot) >>> 0;
  slotTid[slot] = tid;
  slotSentAt[slot] = performance.now();
  return tid;
}

function sendConnect(slot: number): void {
  const b = Buffer.allocUnsafe(16);
  b.writeBigUInt64BE(PROTOCOL_ID, 0);
  b.writeUInt32BE(0, 8);
  b.writeUInt32BE(nextTid(slot), 12);
  sock.send(b);
}

function sendAnnounce(slot: number, connId: Buffer): void {
  const b = Buffer.alloc(98);
  connId.copy(b, 0, 0, 8);
  b.writeUInt32BE(1, 8);
  b.writeUInt32BE(nextTid(slot), 12);
  const t = (Math.random() * TORRENTS) | 0;
  const p = (Math.random() * PEERS) | 0;
  hashes[t]!.copy(b, 16);
  peerIds[p]!.copy(b, 36);
  // downloaded 0, left: one peer in five is a seeder, uploaded 0
  b.writeBigUInt64BE(p % 5 === 0 ? 0n : 1000n, 64);
  b.writeUInt32BE(0, 80); // event none
  b.writeUInt32BE(0, 84); // ip: the source address
  b.writeUInt32BE(p, 88); // key
  b.writeInt32BE(NUMWANT, 92);
  b.writeUInt16BE(PORT_BASE + p, 96);
  sock.send(b);
}

function finish(): void {
  if (done) return;
  done = true;
  res.elapsedMs = performance.now() - start;
  clearInterval(sweeper);
  clearTimeout(deadline);
  sock.close();
  parentPort!.postMessage(res);
}

sock.on('message', (msg) => {
  if (done || msg.length < 8) return;
  const action = msg.readUInt32BE(0);
  const tid = msg.readUInt32BE(4);
  const slot = tid & ((1 << SLOT_BITS) - 1);
  if (slot >= slots || slotTid[slot] !== tid) return; // stale (a reply after its timeout)
  if (action === 0 && msg.length >= 16) {
    res.connects++;
    const conn = Buffer.from(msg.subarray(8, 16));
    slotConn[slot] = params.reuseConnection ? conn : null;
    sendAnnounce(slot, conn);
  } else if (action === 1 && msg.length >= 20) {
    res.announces++;
    res.peersReturned += ((msg.length - 20) / 6) | 0;
    if (res.announces >= params.maxAnnounces) return finish();
    const conn = slotConn[slot];
    if (conn) sendAnnounce(slot, conn);
    else sendConnect(slot);
  } else {
    res.errors++;
    slotConn[slot] = null;
    sendConnect(slot);
  }
});

const sweeper = setInterval(() => {
  const now = performance.now();
  for (let s = 0; s < slots; s++) {
    if (now - slotSentAt[s]! > params.timeoutMs) {
      res.lost++;
      slotConn[s] = null;
      sendConnect(s);
    }
  }
}, Math.max(50, params.timeoutMs / 4));
const deadline = setTimeout(finish, params.durationMs);

// A connected socket: sends skip the per-packet address lookup, and only the target's
// replies arrive.
sock.bind(0, '127.0.0.1', () => {
  sock.connect(params.port, params.host, () => {
    // Ramp up in small batches: a burst of every slot at once overflows the target's receive
    // buffer and shows up as lost packets that say nothing about the target.
    let s = 0;
    const ramp = (): void => {
      for (const end = Math.min(slots, s + 16); s < end; s++) sendConnect(s);
      if (s < slots && !done) setTimeout(ramp, 1);
    };
    ramp();
  });
});
