// Selective download (`--only GLOB`): which files a set of simple globs picks.
// Syntax: `*` any run of characters except `/`, `**` any run including `/` (and `**/`
// zero or more folders), `?` one character except `/`; everything else is literal.
// A pattern without `/` is also tried against the file's base name, so `*.iso` finds
// ISO files in any folder. Matching is a dynamic programme over (pattern, path)
// positions: O(pattern x path), never exponential backtracking on hostile patterns.
import type { Metainfo } from '../torrent/index.js';
import { MAX_GLOB_LENGTH, MAX_GLOBS } from './config.js';
import { StorageError } from './errors.js';

type Token = { kind: 'lit'; ch: string } | { kind: 'star' } | { kind: 'globstar' } | { kind: 'folders' } | { kind: 'any' };

function tokenize(glob: string): Token[] {
  const out: Token[] = [];
  const chars = [...glob];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '*') {
      if (chars[i + 1] === '*') {
        i++;
        while (chars[i + 1] === '*') i++;
        // `**/`: zero or more whole folders.
        if (chars[i + 1] === '/') {
          i++;
          out.push({ kind: 'folders' });
        } else out.push({ kind: 'globstar' });
      } else out.push({ kind: 'star' });
    } else if (c === '?') out.push({ kind: 'any' });
    else out.push({ kind: 'lit', ch: c });
  }
  return out;
}

/** A matcher for one glob; throws STORAGE_BAD_GLOB for an empty or too long pattern. */
export function compileGlob(glob: string): (path: string) => boolean {
  if (glob.length === 0) throw new StorageError('STORAGE_BAD_GLOB', 'empty --only pattern', 2);
  if (glob.length > MAX_GLOB_LENGTH) throw new StorageError('STORAGE_BAD_GLOB', `--only pattern longer than ${MAX_GLOB_LENGTH} characters`, 2);
  const toks = tokenize(glob.startsWith('./') ? glob.slice(2) : glob);
  return (path: string) => matchTokens(toks, [...path]);
}

function matchTokens(toks: Token[], s: string[]): boolean {
  // cur[j]: tokens[0..i) can match s[0..j).
  let cur = new Uint8Array(s.length + 1);
  cur[0] = 1;
  for (const t of toks) {
    const next = new Uint8Array(s.length + 1);
    if (t.kind === 'lit' || t.kind === 'any') {
      for (let j = 0; j < s.length; j++) {
        if (cur[j] && (t.kind === 'lit' ? s[j] === t.ch : s[j] !== '/')) next[j + 1] = 1;
      }
    } else if (t.kind === 'folders') {
      // Empty, or any run ending just after a '/'.
      let on = 0;
      for (let j = 0; j <= s.length; j++) {
        if (on && s[j - 1] === '/') next[j] = 1;
        if (cur[j]) {
          next[j] = 1;
          on = 1;
        }
      }
    } else {
      // Star: extend over any run (not across '/' for a single star).
      let on = 0;
      for (let j = 0; j <= s.length; j++) {
        if (cur[j]) on = 1;
        if (on) next[j] = 1;
        if (t.kind === 'star' && s[j] === '/') on = 0;
      }
    }
    cur = next;
  }
  return cur[s.length] === 1;
}

/** Which files (by Metainfo.files index) any of `globs` picks, matched against
 *  TorrentFile.pathString. Pad files are never wanted. */
export function wantedFilesFromGlobs(meta: Metainfo, globs: string[]): boolean[] {
  if (globs.length > MAX_GLOBS) throw new StorageError('STORAGE_BAD_GLOB', `more than ${MAX_GLOBS} --only patterns`, 2);
  const matchers = globs.map((g) => ({ m: compileGlob(g), base: !g.includes('/') }));
  return meta.files.map((f) => {
    if (f.pad) return false;
    const base = f.path[f.path.length - 1] ?? f.pathString;
    return matchers.some(({ m, base: useBase }) => m(f.pathString) || (useBase && m(base)));
  });
}
