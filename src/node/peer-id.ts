// Our peer id (BEP 20, Azureus style): "-SA0100-" (sta 0.1.0) then 12 random characters,
// so other clients and trackers recognise sta and its version. "ST" was taken: clients'
// tables (Transmission's, Vuze's) show it as SymTorrent; "SA" is in none of them.
import { randomBytes } from 'node:crypto';

export const CLIENT_PREFIX = '-SA0100-';
/** The client name and version we send in the BEP 10 handshake's `v`. */
export const CLIENT_VERSION = 'sta 0.1.0';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-.';

export function generatePeerId(): Buffer {
  const rnd = randomBytes(12);
  let tail = '';
  for (const b of rnd) tail += ALPHABET[b & 63]!;
  return Buffer.from(CLIENT_PREFIX + tail, 'latin1');
}
