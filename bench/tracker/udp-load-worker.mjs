// Worker bootstrap: tsx's `--import tsx` does not reach worker threads on Node 20, so the
// worker registers tsx itself, then loads the TypeScript generator.
import { register } from 'tsx/esm/api';

register();
await import('./udp-load-worker.ts');
