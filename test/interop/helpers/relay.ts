// A TCP relay on 127.0.0.1 for interop tests: each connection is forwarded to
// 127.0.0.1:target, optionally from another local address (Transmission keeps one
// connection per peer IP, so a second sta node must reach it from 127.0.0.2) and with a
// tap that sees every chunk in each direction before it is forwarded.
import { connect, createServer, type Server } from 'node:net';

export interface RelayOptions {
  /** Local address the relay dials from (default the OS's choice). */
  from?: string;
  /** Sees each chunk: 'in' from the accepted side, 'out' from the target. Returns a
   *  per-connection tap (so each connection can keep its own parser state). */
  tap?: () => (dir: 'in' | 'out', chunk: Buffer) => void;
}

export async function startRelay(target: number, opts: RelayOptions = {}): Promise<{ port: number; server: Server }> {
  const server = createServer((a) => {
    const b = connect({ host: '127.0.0.1', port: target, ...(opts.from ? { localAddress: opts.from } : {}) });
    const tap = opts.tap?.();
    a.on('data', (c: Buffer) => {
      tap?.('in', c);
      if (!b.write(c)) a.pause();
    });
    b.on('data', (c: Buffer) => {
      tap?.('out', c);
      if (!a.write(c)) b.pause();
    });
    a.on('drain', () => b.resume());
    b.on('drain', () => a.resume());
    a.on('close', () => b.destroy());
    b.on('close', () => a.destroy());
    a.on('error', () => undefined);
    b.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, server };
}
