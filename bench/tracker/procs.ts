// Process helpers for the benchmark: free ports, children started and stopped by pid,
// CPU seconds and resident memory of a process and its descendants (from /proc).
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';

const TICKS_PER_S = 100;

/** A port free for both TCP and UDP on 127.0.0.1 (the OS picks; a small race is accepted). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const u = dgram.createSocket('udp4');
      u.once('error', () => resolve(false));
      u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free port');
}

function statOf(pid: number): { ppid: number; cpuTicks: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), cpuTicks: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
}

function treeOf(root: number): number[] {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = statOf(Number(name));
    if (st) parents.set(Number(name), st.ppid);
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [pid, pp] of parents) if (pp === out[i]) out.push(pid);
  return out;
}

/** CPU seconds (user + system) used so far by pid and its descendants. */
export function cpuSeconds(pid: number): number {
  let t = 0;
  for (const p of treeOf(pid)) t += statOf(p)?.cpuTicks ?? 0;
  return t / TICKS_PER_S;
}

/** Resident set size in bytes of pid and its descendants. */
export function rssBytes(pid: number): number {
  let total = 0;
  for (const p of treeOf(pid)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'latin1'));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // gone
    }
  }
  return total;
}

export interface Child {
  proc: ChildProcess;
  pid: number;
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * Starts a program and waits (bounded) until `ready()` resolves true or a line of its output
 * matches `readyLine`. stop() sends SIGTERM, then SIGKILL after 3 s.
 */
export async function startChild(
  cmd: string,
  args: string[],
  opts: { readyLine?: RegExp; ready?: () => Promise<boolean>; timeoutMs?: number; cwd?: string },
): Promise<Child> {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.cwd });
  let out = '';
  const onData = (d: Buffer): void => {
    if (out.length < 64_000) out += d.toString();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${cmd} exited early (${proc.exitCode}): ${out.slice(0, 500)}`);
    if (opts.readyLine?.test(out)) break;
    if (opts.ready && (await opts.ready())) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (Date.now() >= deadline) {
    await stop();
    throw new Error(`${cmd} not ready within ${opts.timeoutMs ?? 15_000} ms: ${out.slice(0, 500)}`);
  }
  return { proc, pid: proc.pid!, output: () => out, stop };
}

export function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
