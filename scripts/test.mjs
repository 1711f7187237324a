#!/usr/bin/env node
// `npm test`: install missing reference programs, build, typecheck, lint, then every
// test under test/ with node:test (TAP summary at the end, which CI reads).
// Flags: --no-install, --no-lint; any other argument narrows the test files (substring match).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
const filters = args.filter((a) => !a.startsWith('--'));

function run(title, cmd, cmdArgs, env = {}) {
  console.log(`# ${title}: ${[cmd, ...cmdArgs].join(' ')}`);
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) {
    console.log(`# ${title} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
}

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

if (!flags.has('--no-install')) run('install-deps', 'bash', ['scripts/install-deps.sh']);
run('build', 'npx', ['tsc', '-p', 'tsconfig.build.json']);
run('bundle', process.execPath, ['scripts/bundle.mjs']);
run('build-native', process.execPath, ['scripts/build-native.mjs']);
if (!flags.has('--no-lint')) {
  run('typecheck', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']);
  run('lint', 'npx', ['eslint', '.']);
  run('architecture', 'npx', ['depcruise', 'src', '--config', '.dependency-cruiser.cjs']);
}
let files = findTests('test');
if (filters.length) files = files.filter((f) => filters.some((s) => f.includes(s)));
if (!files.length) {
  console.log('no test files matched');
  process.exit(1);
}
run('test', process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=3', '--test-timeout=600000', ...files], {
  STA_REQUIRE_INTEROP: process.env.CI ? '1' : (process.env.STA_REQUIRE_INTEROP ?? ''),
});
