// Upload policy (pure): the choker and the request-serving rules.
export {
  Choker,
  type ChokerOptions,
  type ChokerPeer,
  type ChokeDecision,
  DEFAULT_SLOTS,
  DEFAULT_OPTIMISTIC_SLOTS,
  OPTIMISTIC_INTERVAL_MS,
  SEED_TURN_MS,
  RECHOKE_INTERVAL_MS,
} from './choker.js';
export {
  judgeRequest,
  UploadQueue,
  MAX_SERVED_BLOCK,
  MAX_UPLOAD_QUEUE,
  type ServeContext,
  type ServeVerdict,
  type UploadRequest,
} from './serve.js';
export { UploadRateLimit } from './rate-limit.js';
