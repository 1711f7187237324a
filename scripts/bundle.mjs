#!/usr/bin/env node
// Bundles the built CLI (dist/cli/main.js and everything it imports, commander and
// cli-progress included; ioredis stays in node_modules) into one file, dist/bundle/main.js,
// with esbuild: what bin/sta runs. Run by `npm run build` after tsc.
//
// Why: Node 20 loads ~90 ESM files for `sta download`, each resolved, read, compiled and
// linked on its own, and V8 optimizes calls across module boundaries less well than inside
// one scope. Leecher CPU seconds of a 1 GiB loopback download (sta -> sta, interleaved
// rounds, medians): 2.66 unbundled, 2.40 bundled with one chunk per command (esbuild
// splitting), 2.15-2.24 as one file; `sta download --help` 0.23 -> 0.16 s. So one file:
// a command's modules still run only when it is used (esbuild keeps the dynamic imports
// lazy), and parsing the rest costs `sta create` ~0.02 s.
//
// Worker threads and native addons are still found next to the module that starts them:
// `import.meta.url` in each bundled module becomes the URL of its original file in dist/
// (relative to the bundle, so it holds wherever the package is). The worker entries
// themselves run unbundled from dist/.
import { build } from 'esbuild';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const outdir = join(dist, 'bundle');

/** `import.meta.url` of a file in dist/, as seen from a file in dist/bundle/. */
const originalUrl = {
  name: 'original-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      if (!args.path.startsWith(dist + sep)) return undefined;
      const code = await readFile(args.path, 'utf8');
      if (!code.includes('import.meta.url')) return { contents: code, loader: 'js' };
      const rel = `../${relative(dist, args.path).split(sep).join('/')}`;
      return { contents: code.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`), loader: 'js' };
    });
  },
};

const started = Date.now();
const result = await build({
  entryPoints: { main: join(dist, 'cli/main.js') },
  outdir,
  write: false,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Error classes name themselves after their class (util/errors.ts): keep the names
  // esbuild would otherwise suffix where two modules use the same one.
  keepNames: true,
  // Loaded from node_modules, only by a tracker with a redis:// store: ~480 KB that every
  // other command would otherwise parse.
  external: ['ioredis'],
  sourcemap: true,
  // The CommonJS packages (commander, ioredis) call require() for Node's built-ins.
  banner: { js: "import { createRequire as __staCreateRequire } from 'node:module';\nconst require = __staCreateRequire(import.meta.url);" },
  plugins: [originalUrl],
  logLevel: 'warning',
});
// Each file replaced whole (write, then rename): a bin/sta starting meanwhile (a test, a
// second build) runs the old bundle or the new one, never a missing or half-written one.
mkdirSync(outdir, { recursive: true });
for (const f of result.outputFiles) {
  const tmp = `${f.path}.${process.pid}.tmp`;
  writeFileSync(tmp, f.contents);
  renameSync(tmp, f.path);
}
console.log(`bundle: dist/bundle/main.js (${Date.now() - started} ms)`);
