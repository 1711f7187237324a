// Page-aligned buffers for unbuffered (O_DIRECT) piece writes: the kernel takes such a
// write from the buffer's own pages only if its address, file offset and length are
// multiples of the device's block size. Node's Buffers are malloc'd (a large one sits 16
// bytes past a page start), so the aligned memory is a WebAssembly.Memory: V8 maps it
// page-aligned. One fixed-size memory per pool (never grown: growing would detach every
// view handed out), carved into slots of one size each and reused, so a pool's memory is
// bounded and the pages it touches stay those of the few slots in use.

/** Alignment of a direct write's address, offset and length: a page, the most any Linux
 *  block device asks (512 on most). */
export const DIRECT_ALIGN = 4096;

const WASM_PAGE_BYTES = 65_536;
/** Node's global WebAssembly (the project's TypeScript libs do not declare it). */
const Wasm = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum: number }) => { buffer: ArrayBuffer } } }).WebAssembly;

export class AlignedPool {
  private mem: Buffer | undefined;
  private used = 0;
  private readonly free = new Map<number, Buffer[]>();
  private out = 0;

  /** `capacityBytes`: the most this pool ever maps (rounded up to 64 KiB). */
  constructor(readonly capacityBytes: number) {}

  /** Bytes handed out and not given back. */
  get bytesOut(): number {
    return this.out;
  }

  /** A buffer of `length` bytes (a multiple of DIRECT_ALIGN) at an aligned address, or
   *  null when the pool is used up (the caller then does without). Its bytes are
   *  whatever the last user left. */
  take(length: number): Buffer | null {
    if (length <= 0 || length % DIRECT_ALIGN !== 0) return null;
    const reused = this.free.get(length)?.pop();
    if (reused) {
      this.out += length;
      return reused;
    }
    if (this.used + length > this.capacityBytes) return null;
    if (!this.mem) {
      const pages = Math.ceil(this.capacityBytes / WASM_PAGE_BYTES);
      try {
        this.mem = Buffer.from(new Wasm.Memory({ initial: pages, maximum: pages }).buffer);
      } catch {
        this.used = this.capacityBytes; // no such memory here (address space): never again
        return null;
      }
    }
    const b = this.mem.subarray(this.used, this.used + length);
    this.used += length;
    this.out += length;
    return b;
  }

  /** Hands back a buffer from take(); it must not be used after this. */
  give(buf: Buffer): void {
    this.out -= buf.length;
    let list = this.free.get(buf.length);
    if (!list) this.free.set(buf.length, (list = []));
    list.push(buf);
  }
}

/** The process's pool for piece buffers: 32 MiB, 32 pieces of 1 MiB in assembly or being
 *  written at once (a loopback download from one fast peer uses under 16); pieces past
 *  that are written block by block through the page cache instead. */
export const DIRECT_POOL_BYTES = 32 * 1024 * 1024;
let shared: AlignedPool | undefined;
export function sharedAlignedPool(): AlignedPool {
  return (shared ??= new AlignedPool(DIRECT_POOL_BYTES));
}
