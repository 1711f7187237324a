// The batched UDP path (native/udp-batch.c): each wakeup of the socket brings up to
// MAX_BATCH datagrams in shared buffers and one call here; each datagram goes through the
// same core as the dgram path (udp.ts), which writes its reply in place, and the addon sends
// every reply of the batch with one sendmmsg. No object is made per datagram: the packet,
// its source (compact IP + port, straight from the kernel's sockaddr) and its reply slot
// are views made once.
import type { BatchReaderStats } from './context.js';
import type { PollerHandle, UdpBatchAddon } from './udp-native.js';
import { MAX_UDP_DATAGRAM, MAX_UDP_REPLY } from './udp.js';

/** Input slot: a datagram longer than this is dropped by the addon (MSG_TRUNC); the gate
 *  drops anything longer than MAX_UDP_DATAGRAM anyway. */
const IN_SLOT = (MAX_UDP_DATAGRAM + 1 + 63) & ~63;
/** Output slot: room for the longest reply (an error message is shorter still). */
const OUT_SLOT = (MAX_UDP_REPLY + 63) & ~63;
const IN_META = 32;
const OUT_META = 4;
const STATS = 8;

/** What the batch reader calls for each datagram: udp.ts's UdpCore.serve or a thread's
 *  gate. Returns the length of the reply written to out[off..], or 0. Must not throw. */
export type BatchServe = (msg: Buffer, len: number, src: Buffer, out: Buffer, off: number) => number;

export interface BatchReader {
  stats(): BatchReaderStats;
  /** Whether this reader keeps its thread's event loop alive (default: yes). */
  ref(on: boolean): void;
  /** Stops reading; idempotent. The socket stays open (closeSocket is the owner's). */
  close(): void;
}

/** Reads `fd` on this thread's event loop, serving each datagram with `serve`, then
 *  calling `afterBatch` once per batch (udp-threads.ts drains the workers' queues there). */
export function startBatchReader(addon: UdpBatchAddon, fd: number, serve: BatchServe, afterBatch?: () => void, batch = addon.MAX_BATCH): BatchReader {
  const n = Math.max(1, Math.min(batch, addon.MAX_BATCH));
  const input = Buffer.alloc(n * IN_SLOT);
  const inMeta = Buffer.alloc(n * IN_META);
  const out = Buffer.alloc(n * OUT_SLOT);
  const outMeta = Buffer.alloc(n * OUT_META);
  const statsBuf = Buffer.alloc(STATS * 8);
  const stats = new Float64Array(statsBuf.buffer, statsBuf.byteOffset, STATS);
  const packets: Buffer[] = [];
  const src4: Buffer[] = [];
  const src6: Buffer[] = [];
  const replies: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    packets.push(input.subarray(i * IN_SLOT, (i + 1) * IN_SLOT));
    src4.push(inMeta.subarray(i * IN_META + 8, i * IN_META + 14));
    src6.push(inMeta.subarray(i * IN_META + 8, i * IN_META + 26));
    replies.push(out.subarray(i * OUT_SLOT, (i + 1) * OUT_SLOT));
  }
  const onBatch = (count: number): number => {
    let k = 0;
    for (let i = 0; i < count; i++) {
      const m = i * IN_META;
      const len = inMeta[m]! | (inMeta[m + 1]! << 8);
      if (len === 0) continue;
      const src = inMeta[m + 2] === 6 ? src4[i]! : src6[i]!;
      const r = serve(packets[i]!, len, src, replies[k]!, 0);
      if (r <= 0) continue;
      const o = k * OUT_META;
      outMeta[o] = r & 0xff;
      outMeta[o + 1] = r >>> 8;
      outMeta[o + 2] = i;
      outMeta[o + 3] = 0;
      k++;
    }
    afterBatch?.();
    return k;
  };
  let poller: PollerHandle | undefined = addon.createPoller(fd, n, IN_SLOT, OUT_SLOT, input, inMeta, out, outMeta, statsBuf, onBatch);
  return {
    stats: () => ({
      received: stats[0]!,
      sent: stats[1]!,
      sendDropped: stats[2]!,
      truncated: stats[3]!,
      wakeups: stats[4]!,
      batches: stats[5]!,
    }),
    ref(on) {
      if (poller) addon.refPoller(poller, on);
    },
    close() {
      if (poller) addon.closePoller(poller);
      poller = undefined;
    },
  };
}
