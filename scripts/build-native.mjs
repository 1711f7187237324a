#!/usr/bin/env node
// Builds the tracker's batched UDP I/O addon (src/tracker/server/native/udp-batch.c) into
// dist/native/udp-batch.node with the system C compiler and Node's own headers (the Debian
// nodejs package ships them in /usr/include/node): no node-gyp, nothing downloaded. Run by
// `npm run build`. When cc or the headers are missing it says so in one line and exits 0:
// the tracker then serves UDP through node:dgram (udp-native.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src/tracker/server/native/udp-batch.c');
const out = join(root, 'dist/native/udp-batch.node');
const cc = process.env.CC || 'cc';
// Node's headers: next to the running node (a tarball install), then the distribution's.
const candidates = [join(dirname(process.execPath), '../include/node'), '/usr/include/node', '/usr/local/include/node'];
const include = candidates.find((d) => existsSync(join(d, 'node_api.h')) && existsSync(join(d, 'uv.h')));

if (process.platform !== 'linux') {
  console.log(`build-native: skipped (recvmmsg/sendmmsg are Linux's; ${process.platform} uses node:dgram)`);
  process.exit(0);
}
if (spawnSync(cc, ['--version'], { stdio: 'ignore' }).status !== 0) {
  console.log(`build-native: no C compiler (${cc}); the tracker's UDP uses node:dgram (scripts/install-deps.sh installs gcc)`);
  process.exit(0);
}
if (!include) {
  console.log(`build-native: no Node headers (node_api.h, uv.h) in ${candidates.join(', ')}; the tracker's UDP uses node:dgram`);
  process.exit(0);
}
if (existsSync(out) && statSync(out).mtimeMs > statSync(src).mtimeMs && statSync(out).mtimeMs > statSync(fileURLToPath(import.meta.url)).mtimeMs) {
  process.exit(0);
}
mkdirSync(dirname(out), { recursive: true });
const tmp = `${out}.${process.pid}.tmp`;
const args = ['-O2', '-shared', '-fPIC', '-Wall', '-Wextra', '-Wno-unused-parameter', `-I${include}`, '-o', tmp, src];
const r = spawnSync(cc, args, { encoding: 'utf8' });
if (r.status !== 0) {
  console.log(`build-native: ${cc} failed; the tracker's UDP uses node:dgram:\n${r.stderr}`);
  process.exit(0);
}
if (r.stderr.trim()) process.stderr.write(r.stderr);
// Renamed into place: a tracker loading the addon meanwhile sees the old or the new file.
renameSync(tmp, out);
console.log(`build-native: built ${out.slice(root.length + 1)}`);
