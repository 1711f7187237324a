// Small shared pieces every part may use: typed errors.
export { StaError, isStaError, type ExitCode } from './errors.js';
