// The one error the tracker codecs throw: a stable code and a message fit to send back to
// a client as a `failure reason` (HTTP) or a BEP 15 error packet.
import { StaError } from '../../util/index.js';

export class TrackerProtocolError extends StaError {
  constructor(code: string, message: string) {
    super(code, message, 2);
  }
}
