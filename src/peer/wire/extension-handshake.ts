// BEP 10 extension protocol: the handshake (extended message id 0), a bencoded dictionary
// of the extensions a peer supports (`m`: name -> the id it wants them sent with) and a few
// facts about it. Decoding is bounded and lenient about keys it does not need (real clients
// vary), strict about values that would make us allocate (metadata_size).
import { decode, encode, isBytes, isDict, type BDict, type BencodeError } from '../../bencode/index.js';
import { WireError } from './errors.js';
import {
  MAX_CLIENT_VERSION_LENGTH,
  MAX_EXTENDED_LENGTH,
  MAX_EXTENSION_NAMES,
  MAX_EXTENSION_NAME_LENGTH,
  MAX_METADATA_SIZE,
  MAX_REQQ,
} from './limits.js';

export interface ExtensionHandshake {
  /** Extension name -> the id the peer wants that extension's messages sent with. Id 0
   *  means the peer disables that extension (in a later handshake). */
  m: Map<string, number>;
  /** Client name and version ("v"), at most 128 characters. */
  v?: string;
  /** The peer's listen port ("p"). */
  p?: number;
  /** How many outstanding requests the peer accepts ("reqq"), clamped to MAX_REQQ. */
  reqq?: number;
  /** Our address as the peer sees it ("yourip": 4 or 16 bytes). */
  yourip?: Buffer;
  /** BEP 9: size of the info dictionary, 1..MAX_METADATA_SIZE. */
  metadataSize?: number;
  /** BEP 21 upload_only. */
  uploadOnly?: boolean;
}

export interface ExtensionHandshakeInput {
  m: Record<string, number> | Map<string, number>;
  v?: string;
  p?: number;
  reqq?: number;
  yourip?: Uint8Array;
  metadataSize?: number;
  uploadOnly?: boolean;
}

export function encodeExtensionHandshake(h: ExtensionHandshakeInput): Buffer {
  const m: Record<string, number> = Object.create(null) as Record<string, number>;
  const entries = h.m instanceof Map ? [...h.m] : Object.entries(h.m);
  for (const [name, id] of entries) {
    if (!Number.isInteger(id) || id < 0 || id > 255) throw new WireError('WIRE_BAD_ARGUMENT', `extension ${name} with id ${id}`);
    m[name] = id;
  }
  return encode({
    m,
    v: h.v,
    p: h.p,
    reqq: h.reqq,
    yourip: h.yourip,
    metadata_size: h.metadataSize,
    upload_only: h.uploadOnly === undefined ? undefined : h.uploadOnly ? 1 : 0,
  });
}

function int(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

/** Decodes an extension handshake payload (after the extended id byte). Throws WireError
 *  WIRE_BAD_EXTENDED (not a dictionary, bad `m`) or WIRE_BAD_METADATA (metadata_size). */
export function decodeExtensionHandshake(payload: Uint8Array): ExtensionHandshake {
  if (payload.length > MAX_EXTENDED_LENGTH) throw new WireError('WIRE_BAD_EXTENDED', `extension handshake of ${payload.length} bytes`);
  let d: unknown;
  try {
    // Not strict: some clients do not sort their keys. Small bounds: a real handshake is a
    // flat dictionary with one nested `m`.
    d = decode(payload, { maxDepth: 8, maxItems: 4096 });
  } catch (e) {
    throw new WireError('WIRE_BAD_EXTENDED', `extension handshake is not bencode: ${(e as BencodeError).message}`);
  }
  if (!isDict(d)) throw new WireError('WIRE_BAD_EXTENDED', 'extension handshake is not a dictionary');
  const out: ExtensionHandshake = { m: new Map() };
  const m = d['m'];
  if (m !== undefined) {
    if (!isDict(m)) throw new WireError('WIRE_BAD_EXTENDED', 'extension handshake "m" is not a dictionary');
    const names = Object.keys(m);
    if (names.length > MAX_EXTENSION_NAMES) throw new WireError('WIRE_BAD_EXTENDED', `extension handshake names ${names.length} extensions (limit ${MAX_EXTENSION_NAMES})`);
    for (const name of names) {
      const id = int((m as BDict)[name]);
      // Entries with ids that are not one byte are ignored, as BEP 10 says of names we do not know.
      if (id === undefined || id < 0 || id > 255 || name.length > MAX_EXTENSION_NAME_LENGTH) continue;
      out.m.set(Buffer.from(name, 'latin1').toString('utf8'), id);
    }
  }
  const v = d['v'];
  if (isBytes(v)) out.v = Buffer.from(v.buffer, v.byteOffset, Math.min(v.length, MAX_CLIENT_VERSION_LENGTH * 4)).toString('utf8').slice(0, MAX_CLIENT_VERSION_LENGTH);
  const p = int(d['p']);
  if (p !== undefined && p > 0 && p <= 0xffff) out.p = p;
  const reqq = int(d['reqq']);
  if (reqq !== undefined && reqq > 0) out.reqq = Math.min(reqq, MAX_REQQ);
  const yourip = d['yourip'];
  if (isBytes(yourip) && (yourip.length === 4 || yourip.length === 16)) out.yourip = Buffer.from(yourip);
  const ms = d['metadata_size'];
  if (ms !== undefined) {
    const n = int(ms);
    if (n === undefined || n < 1 || n > MAX_METADATA_SIZE) throw new WireError('WIRE_BAD_METADATA', `metadata_size ${String(ms)} outside 1..${MAX_METADATA_SIZE}`);
    out.metadataSize = n;
  }
  const uo = int(d['upload_only']);
  if (uo !== undefined) out.uploadOnly = uo !== 0;
  return out;
}
