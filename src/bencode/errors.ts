// The one error bencode throws: a stable code and the byte offset where decoding stopped.
import { StaError } from '../util/index.js';

export class BencodeError extends StaError {
  readonly offset: number;
  constructor(code: string, message: string, offset: number) {
    super(code, `${message} at byte ${offset}`, 2);
    this.offset = offset;
  }
}
