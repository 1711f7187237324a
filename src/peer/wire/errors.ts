// The one error the wire layer throws: a stable code per kind of protocol violation, so
// the connection can close with a reason and the engine can decide whether to ban.
import { StaError } from '../../util/index.js';

export type WireErrorCode =
  | 'WIRE_BAD_HANDSHAKE'
  | 'WIRE_MESSAGE_TOO_LONG'
  | 'WIRE_BAD_LENGTH'
  | 'WIRE_BAD_BITFIELD'
  | 'WIRE_BAD_INDEX'
  | 'WIRE_BAD_REQUEST'
  | 'WIRE_BAD_PIECE'
  | 'WIRE_BAD_EXTENDED'
  | 'WIRE_BAD_METADATA'
  | 'WIRE_NOT_NEGOTIATED'
  | 'WIRE_FLOOD'
  | 'WIRE_BAD_ARGUMENT';

export class WireError extends StaError {
  declare readonly code: WireErrorCode;
  constructor(code: WireErrorCode, message: string) {
    // Exit code 1: a peer misbehaving is a failure of the work, not bad user input.
    super(code, message, 1);
  }
}
