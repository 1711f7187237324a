// bencode (BEP 3): strict, bounded decode with byte spans; canonical encode.
export { decode, decodeWithSpans, decodePrefix, DEFAULT_MAX_DEPTH, DEFAULT_MAX_ITEMS, type DecodeOptions, type Span } from './decode.js';
export { encode } from './encode.js';
export { BencodeError } from './errors.js';
export { isDict, isBytes, type BDict, type BList, type BValue, type Encodable } from './types.js';
