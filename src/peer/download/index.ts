// Download policy (pure): the piece picker, request pipelining and smart ban.
export { PiecePicker, type BlockRequest, type PickerPeer, type PickerOptions, type BlockResult } from './piece-picker.js';
export { pipelineDepth, OutstandingRequests, requestKey, type DepthInput } from './pipeline.js';
export { SmartBan, type BlockAttribution, type BanDecision } from './smart-ban.js';
export * from './limits.js';
