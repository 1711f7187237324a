// A scratch area for one interop test or bench run: a temp dir, the processes started in
// it, and cleanup that kills them all and removes the dir. On failure the tails of every
// process's output are appended to the error, so the test report shows what happened.
import { mkdtemp, mkdir, rm, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { hasProgram, spawnLogged } from './proc.js';
import type { Proc, SpawnOptions } from './proc.js';

/** Set STA_KEEP_INTEROP=1 to keep temp dirs and logs after a run (for debugging). */
const KEEP = process.env.STA_KEEP_INTEROP === '1';

export class Workspace {
  readonly procs: Proc[] = [];
  private readonly cleanups: (() => Promise<unknown> | unknown)[] = [];
  private cleaned = false;

  private constructor(readonly dir: string) {}

  /** A fresh temp dir (mode 0755 so daemons dropping to `nobody` can read it). */
  static async create(prefix = 'sta-interop-', base = tmpdir()): Promise<Workspace> {
    await mkdir(base, { recursive: true });
    const dir = await mkdtemp(join(base, prefix));
    await chmod(dir, 0o755);
    await mkdir(join(dir, 'logs'));
    return new Workspace(dir);
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /** Makes (recursively) and returns a folder inside the workspace. */
  async mkdir(...parts: string[]): Promise<string> {
    const p = this.path(...parts);
    await mkdir(p, { recursive: true });
    return p;
  }

  /** Spawns a logged process that cleanup will kill. */
  spawn(cmd: string, args: readonly string[], opts: SpawnOptions = {}): Proc {
    const p = spawnLogged(cmd, args, { logDir: this.path('logs'), ...opts });
    this.procs.push(p);
    return p;
  }

  /** Runs `fn` at cleanup (last registered runs first), before processes are killed. */
  onCleanup(fn: () => Promise<unknown> | unknown): void {
    this.cleanups.push(fn);
  }

  /** The tails of every process's output, for a failure message. */
  report(lines = 40): string {
    if (!this.procs.length) return '';
    return `\n===== process output (workspace ${this.dir}) =====\n${this.procs.map((p) => p.tail(lines)).join('\n')}\n`;
  }

  /** Runs cleanup hooks, kills every process group, removes the dir (unless kept). */
  async cleanup(): Promise<void> {
    if (this.cleaned) return;
    this.cleaned = true;
    for (const fn of this.cleanups.reverse()) {
      try {
        await fn();
      } catch {
        // cleanup goes on
      }
    }
    await Promise.all(this.procs.map((p) => p.kill('SIGTERM', 5000)));
    if (KEEP) process.stderr.write(`kept workspace ${this.dir}\n`);
    else await rm(this.dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/**
 * Runs `fn` in a fresh workspace and always cleans up. If `fn` throws, the error's message
 * gets the tails of all process outputs appended (so node:test prints them).
 */
export async function withWorkspace<T>(prefix: string, fn: (ws: Workspace) => Promise<T>): Promise<T> {
  const ws = await Workspace.create(prefix);
  try {
    return await fn(ws);
  } catch (e) {
    const report = ws.report();
    if (e instanceof Error) {
      e.message += report;
      throw e;
    }
    throw new Error(`${String(e)}${report}`);
  } finally {
    await ws.cleanup();
  }
}

/**
 * True when every program is on PATH. Otherwise skips the test, or fails it when
 * STA_REQUIRE_INTEROP=1 (CI), and returns false.
 */
export function needPrograms(t: TestContext, programs: readonly string[]): boolean {
  const missing = programs.filter((p) => !hasProgram(p));
  if (!missing.length) return true;
  const msg = `missing reference program(s): ${missing.join(', ')} (scripts/install-deps.sh installs them)`;
  if (process.env.STA_REQUIRE_INTEROP === '1') throw new Error(msg);
  t.skip(msg);
  return false;
}
