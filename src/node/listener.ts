// The listen socket: accepts incoming peers, reads their handshake (bounded in time and
// bytes by peer/readHandshake) and hands each to the torrent its info hash names.
import { createServer, type Server, type Socket } from 'node:net';
import { readHandshake, type Handshake } from '../peer/index.js';
import { NodeError } from './errors.js';

/** Incoming sockets still in their handshake: a flood of half-open connections must not
 *  exhaust descriptors. */
const MAX_PENDING_HANDSHAKES = 64;

export type Route = (infoHashHex: string) => ((socket: Socket, handshake: Handshake, rest: Buffer) => void) | undefined;

export class Listener {
  private pending = 0;
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static listen(port: number, host: string | undefined, route: Route): Promise<Listener> {
    return new Promise((resolve, reject) => {
      let self: Listener | undefined;
      const server = createServer({ noDelay: true }, (socket) => self?.incoming(socket, route));
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(new NodeError('NODE_LISTEN', `cannot listen on port ${port}: ${e.code === 'EADDRINUSE' ? 'address in use' : e.message}`, 1, { cause: e })),
      );
      server.listen({ port, ...(host ? { host } : {}) }, () => {
        const addr = server.address();
        self = new Listener(server, typeof addr === 'object' && addr ? addr.port : port);
        server.on('error', () => undefined);
        resolve(self);
      });
    });
  }

  private incoming(socket: Socket, route: Route): void {
    socket.on('error', () => undefined);
    if (this.pending >= MAX_PENDING_HANDSHAKES) {
      socket.destroy();
      return;
    }
    this.pending++;
    readHandshake(socket).then(
      ({ handshake, rest }) => {
        this.pending--;
        const to = route(handshake.infoHash.toString('hex'));
        if (!to) {
          socket.destroy();
          return;
        }
        to(socket, handshake, rest);
      },
      () => {
        this.pending--;
      },
    );
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
