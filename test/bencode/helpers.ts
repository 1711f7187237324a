import { encode } from '../../src/bencode/index.js';
import { StaError } from '../../src/util/index.js';

export { encode };
export const StaErrorLike = (code: string) => (e: unknown) => e instanceof StaError && e.code === code;
