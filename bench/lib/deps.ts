// Reference npm packages the benchmarks compare against (bencode, create-torrent,
// bittorrent-tracker) are not project dependencies: bittorrent-tracker pulls a WebRTC
// addon whose build downloads binaries, which fails here. They are installed on demand
// into bench/.deps with --ignore-scripts and imported from there.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const DEPS_DIR = fileURLToPath(new URL('../.deps/', import.meta.url));

/** Imports `name` (installing `name@range` into bench/.deps first if missing). `subpath`
 *  selects a package export such as 'server' for bittorrent-tracker/server. */
export async function importBenchPackage<T = unknown>(name: string, range = 'latest', subpath = ''): Promise<T> {
  const dir = ensureBenchPackage(name, range);
  const req = createRequire(join(DEPS_DIR, 'package.json'));
  const spec = subpath ? `${name}/${subpath}` : name;
  let resolved: string;
  try {
    resolved = req.resolve(spec);
  } catch {
    // ESM-only packages: resolve through import.meta.resolve semantics by path.
    resolved = join(dir, subpath ? `${subpath}.js` : 'index.js');
  }
  return (await import(pathToFileURL(resolved).href)) as T;
}

/** Installs `name@range` into bench/.deps when missing; returns the package's folder. */
export function ensureBenchPackage(name: string, range = 'latest'): string {
  const dir = join(DEPS_DIR, 'node_modules', name);
  if (!existsSync(join(dir, 'package.json'))) {
    mkdirSync(DEPS_DIR, { recursive: true });
    console.error(`bench: installing ${name}@${range} into bench/.deps (--ignore-scripts)`);
    execFileSync('npm', ['install', '--prefix', DEPS_DIR, '--ignore-scripts', '--no-audit', '--no-fund', '--no-save', `${name}@${range}`], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  return dir;
}

/** The bench/.deps folder, for tools that need a path (e.g. a package's CLI). */
export const benchDepsDir = DEPS_DIR;
