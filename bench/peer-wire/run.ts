// bench/peer-wire: the ceiling the wire layer and PeerConnection put under the engine.
// 1) FrameParser alone over piece messages in 64 KiB chunks (GB/s).
// 2) Two processes over loopback, a PeerConnection serving a fixed block and one leeching
//    1 GiB (no disk, no hashing): MB/s, the leecher's CPU seconds and peak RSS.
// Run: node --import tsx bench/peer-wire/run.ts [GiB]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameParser, encodePieceHeader, makeGeometry } from '../../src/peer/wire/index.js';

const gib = Number(process.argv[2] ?? 1);
const bytes = gib * (1 << 30);

function parserBench(): void {
  const g = makeGeometry(1024, 1 << 20, 1 << 30);
  const msgs: Buffer[] = [];
  for (let i = 0; i < 64; i++) msgs.push(encodePieceHeader(i >> 6, (i & 63) * 16384, 16384), Buffer.alloc(16384, i));
  const stream = Buffer.concat(msgs); // 64 messages, ~1 MiB
  const chunks: Buffer[] = [];
  for (let o = 0; o < stream.length; o += 65536) chunks.push(stream.subarray(o, o + 65536));
  const p = new FrameParser({ geometry: g });
  const rounds = 1024; // ~1 GiB
  const t0 = performance.now();
  let n = 0;
  for (let r = 0; r < rounds; r++) {
    for (const c of chunks) {
      p.push(c);
      for (let m = p.next(); m; m = p.next()) n++;
    }
  }
  const s = (performance.now() - t0) / 1000;
  console.log(`parser: ${n} piece messages, ${((stream.length * rounds) / s / 1e9).toFixed(2)} GB/s`);
}

async function transferBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sta-bench-wire-'));
  const portFile = join(dir, 'port');
  const here = new URL('./peer.ts', import.meta.url).pathname;
  const seed = spawn(process.execPath, ['--import', 'tsx', here, 'seed', portFile, String(bytes)], { stdio: 'inherit' });
  try {
    const deadline = Date.now() + 10_000;
    while (!existsSync(portFile) || !readFileSync(portFile, 'utf8')) {
      if (Date.now() > deadline) throw new Error('seeder did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
    const port = readFileSync(portFile, 'utf8');
    for (const [depth, batch] of [[64, 1], [256, 1], [1000, 1], [256, 32]] as const) {
      const out = await new Promise<string>((resolve, reject) => {
        const leech = spawn(process.execPath, ['--import', 'tsx', here, 'leech', port, String(bytes), String(depth), String(batch)], { stdio: ['ignore', 'pipe', 'inherit'] });
        let text = '';
        leech.stdout.on('data', (c: Buffer) => (text += c.toString()));
        const timer = setTimeout(() => leech.kill(), 120_000);
        leech.on('exit', (code) => {
          clearTimeout(timer);
          if (code === 0) resolve(text);
          else reject(new Error(`leecher exited ${code}`));
        });
      });
      const r = JSON.parse(out.trim().split('\n').pop()!) as { seconds: number; cpuS: number; rssMB: number };
      console.log(
        `connection -> connection, ${gib} GiB, ${depth} requests in flight${batch > 1 ? `, refilled ${batch} at a time` : ''}: ${(bytes / r.seconds / 1e6).toFixed(0)} MB/s, leecher CPU ${(r.cpuS / gib).toFixed(2)} s/GiB, peak RSS ${r.rssMB.toFixed(0)} MB`,
      );
    }
  } finally {
    seed.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

parserBench();
await transferBench();
