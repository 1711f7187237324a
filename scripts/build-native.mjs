#!/usr/bin/env node
// Builds the tracker's native I/O addons with the system C compiler and Node's own headers
// (the Debian nodejs package ships them in /usr/include/node): no node-gyp, nothing
// downloaded. Run by `npm run build`.
//   src/tracker/server/native/udp-batch.c  -> dist/native/udp-batch.node  (batched UDP)
//   src/tracker/server/native/http-batch.c -> dist/native/http-batch.node (native HTTP)
// When cc or the headers are missing it says so in one line and exits 0: the tracker then
// serves UDP through node:dgram (udp-native.ts) and HTTP through net.Server (http-native.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ADDONS = [
  { name: 'udp-batch', fallback: "the tracker's UDP uses node:dgram" },
  { name: 'http-batch', fallback: "the tracker's HTTP uses net.Server" },
];
const cc = process.env.CC || 'cc';
// Node's headers: next to the running node (a tarball install), then the distribution's.
const candidates = [join(dirname(process.execPath), '../include/node'), '/usr/include/node', '/usr/local/include/node'];
const include = candidates.find((d) => existsSync(join(d, 'node_api.h')) && existsSync(join(d, 'uv.h')));

if (process.platform !== 'linux') {
  console.log(`build-native: skipped (the addons use Linux syscalls; ${process.platform} uses node:dgram and net.Server)`);
  process.exit(0);
}
if (spawnSync(cc, ['--version'], { stdio: 'ignore' }).status !== 0) {
  console.log(`build-native: no C compiler (${cc}); the tracker uses node:dgram and net.Server (scripts/install-deps.sh installs gcc)`);
  process.exit(0);
}
if (!include) {
  console.log(`build-native: no Node headers (node_api.h, uv.h) in ${candidates.join(', ')}; the tracker uses node:dgram and net.Server`);
  process.exit(0);
}
// Rebuilt when older than its .c, the shared header or this script.
const newest = Math.max(statSync(fileURLToPath(import.meta.url)).mtimeMs, statSync(join(root, 'src/tracker/server/native/napi-common.h')).mtimeMs);
for (const { name, fallback } of ADDONS) {
  const src = join(root, `src/tracker/server/native/${name}.c`);
  const out = join(root, `dist/native/${name}.node`);
  if (existsSync(out) && statSync(out).mtimeMs > Math.max(statSync(src).mtimeMs, newest)) continue;
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const args = ['-O2', '-shared', '-fPIC', '-Wall', '-Wextra', '-Wno-unused-parameter', `-I${include}`, '-o', tmp, src];
  const r = spawnSync(cc, args, { encoding: 'utf8' });
  if (r.status !== 0) {
    console.log(`build-native: ${cc} failed on ${name}.c; ${fallback}:\n${r.stderr}`);
    continue;
  }
  if (r.stderr.trim()) process.stderr.write(r.stderr);
  // Renamed into place: a tracker loading the addon meanwhile sees the old or the new file.
  renameSync(tmp, out);
  console.log(`build-native: built ${out.slice(root.length + 1)}`);
}
