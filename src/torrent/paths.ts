// File names from metainfo are hostile. sta REJECTS (does not sanitize) any torrent with a
// path component that could name something other than a plain entry inside the download
// folder: empty, `.`, `..`, holding `/`, `\` or NUL, or starting with a drive letter (`C:`).
// Why reject: a rewritten name silently differs from what every other peer and tool shows,
// and two rewritten names can collide; a torrent that needs rewriting is broken or an attack.
// See docs/torrent.md. Storage checks resolved paths again as a second barrier.
import { TorrentError } from './errors.js';
import { MAX_PATH_BYTES, MAX_PATH_DEPTH } from './limits.js';

const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** Text of a metainfo byte string (UTF-8 per BEP 3; invalid bytes become U+FFFD). */
export function text(b: Uint8Array): string {
  return utf8.decode(b);
}

/** Why `component` is unsafe as one path component, or undefined if it is safe. */
export function unsafeReason(component: string): string | undefined {
  if (component.length === 0) return 'an empty path component';
  if (component === '.' || component === '..') return `a "${component}" path component`;
  if (component.includes('/')) return 'a "/" inside a path component';
  if (component.includes('\\')) return 'a "\\" inside a path component';
  if (component.includes('\0')) return 'a NUL byte in a path component';
  if (/^[A-Za-z]:/.test(component)) return 'a drive letter in a path component';
  return undefined;
}

/** Throws TORRENT_UNSAFE_PATH unless `component` is a plain file or folder name. */
export function assertSafeComponent(component: string, where: string): void {
  const why = unsafeReason(component);
  if (why) throw new TorrentError('TORRENT_UNSAFE_PATH', `unsafe file name in ${where}: ${why} (${JSON.stringify(component.slice(0, 80))})`);
}

/** Checks a whole relative path (components already decoded). */
export function assertSafePath(components: string[], where: string): void {
  if (components.length === 0) throw new TorrentError('TORRENT_UNSAFE_PATH', `unsafe file name in ${where}: an empty path`);
  if (components.length > MAX_PATH_DEPTH) throw new TorrentError('TORRENT_UNSAFE_PATH', `file path in ${where} deeper than ${MAX_PATH_DEPTH}`);
  let bytes = 0;
  for (const c of components) {
    assertSafeComponent(c, where);
    bytes += Buffer.byteLength(c) + 1;
  }
  if (bytes > MAX_PATH_BYTES) throw new TorrentError('TORRENT_UNSAFE_PATH', `file path in ${where} longer than ${MAX_PATH_BYTES} bytes`);
}
