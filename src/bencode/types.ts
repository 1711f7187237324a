// The values bencode holds (BEP 3): integers, byte strings, lists, dictionaries.

/** A decoded dictionary: a null-prototype object whose keys are binary (latin1) strings,
 *  so key order by JavaScript string comparison is raw byte order. */
export interface BDict {
  [key: string]: BValue;
}
export type BList = BValue[];
/** Integers decode to `number` when safe, else `bigint`. Byte strings decode to views
 *  (Uint8Array / Buffer) of the input. */
export type BValue = number | bigint | Uint8Array | BList | BDict;

/** What encode accepts: decoded values, plus JS strings (encoded UTF-8), Maps, and
 *  null/undefined dictionary values (skipped). */
export type Encodable =
  | number
  | bigint
  | string
  | Uint8Array
  | readonly Encodable[]
  | { readonly [key: string]: Encodable | undefined | null }
  | ReadonlyMap<string | Uint8Array, Encodable>;

export function isDict(v: unknown): v is BDict {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof Map);
}

export function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}
