// Small shared pieces every part may use: typed errors, the piece bitfield.
export { StaError, isStaError, type ExitCode } from './errors.js';
export { Bitfield } from './bitfield.js';
