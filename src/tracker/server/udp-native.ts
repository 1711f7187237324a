// Loads the batched UDP I/O addon (native/udp-batch.c, built by scripts/build-native.mjs
// into dist/native/udp-batch.node) once per thread. Missing or failing to load (no C
// compiler at build time, not Linux, another Node ABI) is not an error: the tracker then
// serves UDP through node:dgram, and says which path it uses (/api/stats, the status page).
import { loadNativeAddon, type NativeLoad } from './native-addon.js';

/** An open poller (an external the addon owns). */
export type PollerHandle = { readonly __poller: unique symbol };

export interface UdpBatchAddon {
  /** Most datagrams per batch. */
  readonly MAX_BATCH: number;
  /** A nonblocking UDP socket bound to host:port (IPv6 dual-stack): [fd, port, 4 | 6].
   *  Throws an Error whose code is the errno name (EADDRINUSE, ...). */
  bindSocket(host: string, port: number, bufferBytes: number): [number, number, 4 | 6];
  createPoller(
    fd: number,
    batch: number,
    inSlot: number,
    outSlot: number,
    input: Buffer,
    inMeta: Buffer,
    out: Buffer,
    outMeta: Buffer,
    stats: Buffer,
    onBatch: (count: number) => number,
  ): PollerHandle;
  closePoller(p: PollerHandle): void;
  refPoller(p: PollerHandle, ref: boolean): void;
  /** 0, or the errno of a send that failed (the datagram is dropped). */
  sendTo(fd: number, buf: Buffer, compactAddress: Buffer): number;
  closeSocket(fd: number): void;
}

export type UdpBatchLoad = NativeLoad<UdpBatchAddon>;

let loaded: UdpBatchLoad | undefined;

export function loadUdpBatch(): UdpBatchLoad {
  return (loaded ??= loadNativeAddon<UdpBatchAddon>('udp-batch', ['createPoller', 'bindSocket']));
}
