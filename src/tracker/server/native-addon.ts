// Loads one of the tracker's native I/O addons (native/*.c, built by
// scripts/build-native.mjs into dist/native/NAME.node) once per thread. Missing or failing
// to load (no C compiler at build time, not Linux, another Node ABI) is not an error: the
// caller falls back to Node's own sockets and says which path it uses.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export type NativeLoad<T> = { ok: true; addon: T } | { ok: false; reason: string };

/** The addon `name` (dist/native/NAME.node, reached from dist/tracker/server in the built
 *  CLI or from src/tracker/server under tsx), checked to export the functions `required`. */
export function loadNativeAddon<T>(name: string, required: readonly string[]): NativeLoad<T> {
  if (process.platform !== 'linux') return { ok: false, reason: `not Linux (${process.platform})` };
  const file = [`../../native/${name}.node`, `../../../dist/native/${name}.node`]
    .map((c) => fileURLToPath(new URL(c, import.meta.url)))
    .find((f) => existsSync(f));
  if (!file) return { ok: false, reason: `dist/native/${name}.node not built (npm run build needs cc and Node headers)` };
  try {
    const addon = createRequire(import.meta.url)(file) as Record<string, unknown>;
    if (required.some((fn) => typeof addon[fn] !== 'function')) throw new Error(`not the ${name} addon`);
    return { ok: true, addon: addon as T };
  } catch (e) {
    return { ok: false, reason: `cannot load ${file}: ${(e as Error).message}` };
  }
}
