// The tracker client's typed error: one class, a stable code per way an announce can fail,
// so the peer engine branches on `code` (and shows the message).
import { StaError } from '../../util/index.js';

export type TrackerClientErrorCode =
  /** The tracker answered with a `failure reason` (HTTP) or an error packet (UDP). */
  | 'TRACKER_FAILURE'
  /** No (complete) answer in time. */
  | 'TRACKER_TIMEOUT'
  /** The answer was not a valid tracker reply. */
  | 'TRACKER_BAD_REPLY'
  /** HTTP status other than 200 without a bencoded failure reason. */
  | 'TRACKER_HTTP_STATUS'
  /** The reply passed the size cap. */
  | 'TRACKER_REPLY_TOO_LARGE'
  /** The URL is not http(s):// or udp://host:port. */
  | 'TRACKER_BAD_URL'
  /** The caller's parameters are wrong (hash or peer id not 20 bytes, timeout not positive). */
  | 'TRACKER_BAD_PARAMS'
  /** Connection refused, reset, DNS failure... */
  | 'TRACKER_UNREACHABLE'
  /** The caller's AbortSignal fired. */
  | 'TRACKER_ABORTED'
  /** The tracker has no scrape URL (BEP 48 rule). */
  | 'TRACKER_NO_SCRAPE';

export class TrackerClientError extends StaError {
  override readonly code: TrackerClientErrorCode;
  constructor(code: TrackerClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, code === 'TRACKER_BAD_URL' || code === 'TRACKER_BAD_PARAMS' ? 2 : 1, options);
    this.code = code;
  }
}
