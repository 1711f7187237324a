// `sta tracker` as a user runs it (built CLI): the ready line, HTTP and UDP on one port,
// bad flags exit 2 with one line, SIGTERM and SIGINT end it cleanly with exit 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSocket } from 'node:dgram';
import { availableParallelism } from 'node:os';
import { decodeUdpReply, encodeUdpConnectRequest } from '../../src/tracker/protocol/index.js';
import { loadUdpBatch } from '../../src/tracker/server/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STA = join(ROOT, 'bin', 'sta');

function startCli(args: string[]): Promise<{ port: number; line: string; stop(signal: NodeJS.Signals): Promise<number | null> }> {
  assert.ok(existsSync(join(ROOT, 'dist', 'cli', 'main.js')), 'build first: npx tsc -p tsconfig.build.json');
  const p = spawn(process.execPath, [STA, 'tracker', '--host', '127.0.0.1', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => p.on('exit', (code, sig) => r(code ?? sig as unknown as number)));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`no ready line: ${out}`));
    }, 15_000);
    p.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /tracker listening on http:\/\/127\.0\.0\.1:(\d+)\/announce and udp:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          port: Number(m[1]),
          line: out.trim(),
          stop: (signal) => {
            p.kill(signal);
            return exited;
          },
        });
      }
    });
    p.on('exit', () => reject(new Error(`exited early: ${out}`)));
  });
}

test('sta tracker prints its ready line, answers HTTP and UDP on one port, and stops on SIGTERM', async () => {
  const t = await startCli(['--interval', '60']);
  try {
    const [m] = /udp:\/\/127\.0\.0\.1:(\d+)/.exec(t.line)!.slice(1);
    assert.equal(Number(m), t.port);
    const stats = (await (await fetch(`http://127.0.0.1:${t.port}/api/stats`)).json()) as { store: string; udp: { threads: number; io: string } };
    assert.equal(stats.store, 'memory');
    // By default: one thread with batched I/O when the addon is built, else two threads read
    // the UDP port where there are two cores (udp-threads.ts).
    assert.equal(stats.udp.io, loadUdpBatch().ok ? 'batch' : 'dgram');
    assert.equal(stats.udp.threads, stats.udp.io === 'batch' ? 1 : Math.min(2, availableParallelism()));
    const sock = createSocket('udp4');
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no UDP reply')), 3000);
      sock.on('message', (msg) => {
        clearTimeout(timer);
        resolve(msg);
      });
      sock.send(encodeUdpConnectRequest(1), t.port, '127.0.0.1');
    });
    sock.close();
    assert.equal(decodeUdpReply(reply).action, 0);
  } finally {
    assert.equal(await t.stop('SIGTERM'), 0);
  }
});

test('sta tracker --udp-io dgram serves UDP through node:dgram (two threads where there are two cores)', async () => {
  const t = await startCli(['--udp-io', 'dgram']);
  try {
    const stats = (await (await fetch(`http://127.0.0.1:${t.port}/api/stats`)).json()) as { udp: { threads: number; io: string } };
    assert.equal(stats.udp.io, 'dgram');
    assert.equal(stats.udp.threads, Math.min(2, availableParallelism()));
  } finally {
    assert.equal(await t.stop('SIGTERM'), 0);
  }
});

test('sta tracker ends cleanly on SIGINT', async () => {
  const t = await startCli([]);
  assert.equal(await t.stop('SIGINT'), 0);
});

test('sta tracker --udp-threads 1 reads UDP on the main thread only, and still stops on SIGTERM', async () => {
  const t = await startCli(['--udp-threads', '1']);
  try {
    const stats = (await (await fetch(`http://127.0.0.1:${t.port}/api/stats`)).json()) as { udp: { threads: number } };
    assert.equal(stats.udp.threads, 1);
  } finally {
    assert.equal(await t.stop('SIGTERM'), 0);
  }
});

test('bad flags exit 2 with one stderr line', () => {
  for (const [args, pattern] of [
    [['--port', 'http'], /--port must be an integer/],
    [['--interval', '0'], /--interval must be an integer/],
    [['--store', 'mongodb://x'], /unknown store/],
    [['--whitelist', '/nonexistent/wl.txt'], /cannot read whitelist/],
    [['--no-http', '--no-udp'], /nothing to serve/],
    [['--udp-threads', '0'], /--udp-threads must be an integer 1\.\.8/],
    [['--udp-threads', '9'], /--udp-threads must be an integer 1\.\.8/],
  ] as const) {
    const r = spawnSync(process.execPath, [STA, 'tracker', '--port', '0', ...args], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, pattern);
  }
});

test('a port in use is a failure (exit 1) naming the port', async () => {
  const t = await startCli([]);
  try {
    const r = spawnSync(process.execPath, [STA, 'tracker', '--host', '127.0.0.1', '--port', String(t.port)], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${t.port}`));
  } finally {
    await t.stop('SIGTERM');
  }
});
