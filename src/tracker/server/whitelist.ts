// Private mode (--whitelist FILE): only listed info hashes are tracked. The file holds
// 40-hex info hashes, one a line; blank lines and `#` comments are skipped. Kept as a set
// of 20-byte latin1 strings, the key form the announce path already has at hand.
import { readFile } from 'node:fs/promises';
import { TrackerServerError } from './errors.js';
import { MAX_WHITELIST_ENTRIES } from './options.js';

const HEX40 = /^[0-9a-fA-F]{40}$/;

export function parseWhitelist(lines: Iterable<string>, source: string): Set<string> {
  const set = new Set<string>();
  let n = 0;
  for (const raw of lines) {
    n++;
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    if (!HEX40.test(line)) throw new TrackerServerError('BAD_WHITELIST', `${source}:${n}: not a 40-hex info hash: ${line.slice(0, 60)}`);
    if (set.size >= MAX_WHITELIST_ENTRIES) throw new TrackerServerError('BAD_WHITELIST', `${source}: more than ${MAX_WHITELIST_ENTRIES} entries`);
    set.add(Buffer.from(line, 'hex').toString('latin1'));
  }
  return set;
}

export async function loadWhitelist(spec: string | Iterable<string>): Promise<Set<string>> {
  if (typeof spec !== 'string') return parseWhitelist(spec, 'whitelist');
  let text: string;
  try {
    text = await readFile(spec, 'utf8');
  } catch (e) {
    throw new TrackerServerError('BAD_WHITELIST', `cannot read whitelist ${spec}: ${(e as Error).message}`, 2, { cause: e });
  }
  return parseWhitelist(text.split('\n'), spec);
}
