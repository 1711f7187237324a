// Child processes for interop tests and benches: spawned in their own process group,
// output captured to a log file (and memory) so a failing test can show it, every wait
// bounded, and every group killed at the end (also if the test runner itself exits).
import { spawn } from 'node:child_process';
import { accessSync, constants, createWriteStream, readFileSync } from 'node:fs';
import type { WriteStream } from 'node:fs';
import * as net from 'node:net';
import * as dgram from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/** Output kept in memory per process; older text is dropped (the log file keeps all). */
const MAX_KEPT_OUTPUT = 8 << 20;

/** Process groups still alive: killed synchronously if this process exits first. */
const liveGroups = new Set<number>();
function killLiveGroups(): void {
  for (const pgid of liveGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
process.on('exit', killLiveGroups);
// A signal (the test runner's timeout, ^C) ends Node without 'exit' handlers: kill the
// children first, then die of the same signal's conventional code.
for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  process.once(sig, () => {
    killLiveGroups();
    process.exit(code);
  });
}

const handedOut = new Set<number>();

/**
 * A port free for both TCP and UDP on `host` right now (bound on port 0, then released).
 * Never returns the same port twice in one process. A race with other processes is
 * possible but rare: callers bind it within milliseconds.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const srv = net.createServer();
    const port = await new Promise<number>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(0, host, () => resolve((srv.address() as net.AddressInfo).port));
    });
    const udp = dgram.createSocket('udp4');
    const udpOk = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, host, () => resolve(true));
    });
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    await new Promise<void>((resolve) => {
      try {
        udp.close(() => resolve());
      } catch {
        resolve();
      }
    });
    if (udpOk && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`freePort: no free TCP+UDP port on ${host} after 50 tries`);
}

/**
 * Polls `fn` until it returns a truthy value (returned) or `timeoutMs` passes (throws,
 * naming `what` and the last error `fn` threw, if any).
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  timeoutMs: number,
  what = 'condition',
  intervalMs = 100,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}

/** Rejects with a message naming `what` if `p` takes longer than `timeoutMs`. */
export async function withTimeout<T>(p: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${what}`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  /** Short name used in messages and the log file's name. */
  name?: string;
  /** Where to write the log file (default: the OS temp dir). */
  logDir?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

let spawnCounter = 0;

/** A spawned child in its own process group, its output captured. */
export class Proc {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  readonly command: string;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | undefined;
  private text = '';
  private dropped = 0;
  private readonly log: WriteStream;
  private readonly waiters = new Set<() => void>();

  constructor(cmd: string, args: readonly string[], opts: SpawnOptions = {}) {
    this.name = opts.name ?? cmd.split('/').pop() ?? cmd;
    this.command = [cmd, ...args].map((a) => (/[\s'"]/.test(a) ? JSON.stringify(a) : a)).join(' ');
    const n = ++spawnCounter;
    this.logPath = `${opts.logDir ?? (process.env.TMPDIR ?? '/tmp')}/${this.name.replace(/[^\w.-]/g, '_')}-${process.pid}-${n}.log`;
    this.log = createWriteStream(this.logPath);
    this.log.write(`$ ${this.command}\n`);
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true, // own process group: kill(-pid) reaches its children too
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid === undefined) {
      // spawn failed synchronously (e.g. ENOENT); the 'error' event says why
      this.pid = -1;
    } else {
      this.pid = child.pid;
      liveGroups.add(child.pid);
    }
    const onData = (chunk: Buffer) => {
      this.log.write(chunk);
      this.text += chunk.toString('utf8');
      if (this.text.length > MAX_KEPT_OUTPUT) {
        const cut = this.text.length - MAX_KEPT_OUTPUT / 2;
        this.dropped += cut;
        this.text = this.text.slice(cut);
      }
      for (const w of [...this.waiters]) w();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    this.exited = new Promise<ExitInfo>((resolve) => {
      let done = false;
      const finish = (info: ExitInfo) => {
        if (done) return;
        done = true;
        liveGroups.delete(this.pid);
        this.exitInfo = info;
        this.log.end(`\n[${this.name} exited: code ${info.code} signal ${info.signal}]\n`);
        for (const w of [...this.waiters]) w();
        resolve(info);
      };
      child.once('error', (err) => {
        onData(Buffer.from(`[spawn error: ${err.message}]\n`));
        finish({ code: 127, signal: null });
      });
      // 'close' (not 'exit'): all output has been read by then
      child.once('close', (code, signal) => finish({ code, signal }));
    });
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** All captured output (stdout and stderr interleaved; very old text may be dropped). */
  output(): string {
    return this.text;
  }

  /** Output lines that parse as JSON objects (for `--json` event streams). */
  jsonLines(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const line of this.text.split('\n')) {
      const s = line.trim();
      if (!s.startsWith('{')) continue;
      try {
        const v: unknown = JSON.parse(s);
        if (v && typeof v === 'object' && !Array.isArray(v)) out.push(v as Record<string, unknown>);
      } catch {
        // a progress line cut mid-way or not JSON
      }
    }
    return out;
  }

  /** The last `lines` lines of output, with a header naming the process and its log. */
  tail(lines = 40): string {
    const all = this.text.split('\n');
    const shown = all.slice(-lines).join('\n');
    const status = this.exitInfo ? `exited code ${this.exitInfo.code} signal ${this.exitInfo.signal}` : 'running';
    const more = all.length > lines || this.dropped > 0 ? ` (last ${lines} lines; full log ${this.logPath})` : '';
    return `--- ${this.name} [pid ${this.pid}, ${status}]${more}\n$ ${this.command}\n${shown}\n--- end ${this.name}`;
  }

  /**
   * Resolves with the first match of `re` in the output; rejects if the process exits
   * first or `timeoutMs` passes (the message carries the output's tail).
   */
  waitForOutput(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.text.match(re);
        if (m) {
          cleanup();
          resolve(m);
        } else if (this.exitInfo) {
          cleanup();
          reject(new Error(`${this.name} exited before printing ${re}\n${this.tail()}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.name} did not print ${re} within ${timeoutMs} ms\n${this.tail()}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /**
   * Waits for the process to exit by itself within `timeoutMs`; resolves if it exited with
   * code 0, rejects otherwise (or on timeout, after killing it) with the output's tail.
   */
  async succeeds(timeoutMs: number): Promise<void> {
    let info: ExitInfo;
    try {
      info = await withTimeout(this.exited, timeoutMs, `${this.name} to finish`);
    } catch (e) {
      await this.kill();
      throw new Error(`${(e as Error).message}\n${this.tail()}`);
    }
    if (info.code !== 0) throw new Error(`${this.name} failed (code ${info.code}, signal ${info.signal})\n${this.tail()}`);
  }

  /** Sends `signal` to the whole process group (no-op once exited). */
  signal(signal: NodeJS.Signals): void {
    if (!this.running || this.pid < 0) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // already gone
    }
  }

  /**
   * Ends the process group: `signal` (default SIGTERM) first, SIGKILL after `graceMs`.
   * Resolves once the process has exited.
   */
  async kill(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<ExitInfo> {
    if (!this.running || this.pid < 0) return this.exited;
    this.signal(signal);
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      const info = await this.exited;
      // children that ignored the signal (the group outlives its leader)
      try {
        process.kill(-this.pid, 'SIGKILL');
      } catch {
        // none left
      }
      return info;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The full log file's text (everything, even what memory dropped). */
  fullLog(): string {
    try {
      return readFileSync(this.logPath, 'utf8');
    } catch {
      return this.text;
    }
  }
}

/** Spawns `cmd args` in its own process group with output logged (see Proc). */
export function spawnLogged(cmd: string, args: readonly string[], opts: SpawnOptions = {}): Proc {
  return new Proc(cmd, args, opts);
}

/** Is `program` an executable on PATH? */
export function hasProgram(program: string): boolean {
  for (const d of (process.env.PATH ?? '').split(':')) {
    if (!d) continue;
    try {
      accessSync(`${d}/${program}`, constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

export interface ProcSample {
  /** user + system CPU seconds so far. */
  cpuS: number;
  /** Peak resident set size so far (VmHWM), bytes. */
  peakRssBytes: number;
  rssBytes: number;
}

const CLOCK_TICKS_PER_S = 100; // Linux USER_HZ on every architecture Node runs on here

/** CPU seconds and peak RSS of a live process, read from /proc; undefined once gone. */
export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces and parentheses: fields start after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { cpuS: (utime + stime) / CLOCK_TICKS_PER_S, peakRssBytes: kb('VmHWM'), rssBytes: kb('VmRSS') };
  } catch {
    return undefined;
  }
}
