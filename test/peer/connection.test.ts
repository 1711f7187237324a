import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { Bitfield } from '../../src/util/index.js';
import { PeerConnection, PeerConnectionError, readHandshake, ipToBytes, type CloseInfo, type PeerConnectionOptions } from '../../src/peer/index.js';
import { OutstandingRequests } from '../../src/peer/download/index.js';
import { encodeExtensionHandshake, encodeHandshake, encodeMessage, encodeRequest, makeGeometry, FrameParser, WireError, type WireMessage } from '../../src/peer/wire/index.js';

const infoHash = randomBytes(20);
// 64 pieces of 1 MiB: 4096 blocks of 16 KiB.
const geometry = makeGeometry(64, 1 << 20, 64 << 20);
const servers: Server[] = [];
const sockets: Socket[] = [];

after(() => {
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
});

function peerId(tag: string): Buffer {
  return Buffer.from(`-ST0010-${tag.padEnd(12, 'x')}`, 'latin1');
}

/** A listener that hands each incoming peer (after readHandshake) to `onPeer`. */
async function listen(opts: Partial<PeerConnectionOptions>, onPeer: (c: PeerConnection) => void, onError?: (e: unknown) => void): Promise<number> {
  const server = createServer((socket) => {
    sockets.push(socket);
    readHandshake(socket, 2000).then(
      ({ handshake, rest }) => {
        try {
          onPeer(PeerConnection.accept({ infoHash, peerId: peerId('server'), geometry, ...opts, socket, handshake, rest }));
        } catch (e) {
          onError?.(e);
        }
      },
      (e) => onError?.(e),
    );
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

/** An outgoing and an incoming PeerConnection joined over loopback, both started. */
async function pair(aOpts: Partial<PeerConnectionOptions> = {}, bOpts: Partial<PeerConnectionOptions> = {}): Promise<{ a: PeerConnection; b: PeerConnection }> {
  let resolveB!: (c: PeerConnection) => void;
  const bReady = new Promise<PeerConnection>((r) => (resolveB = r));
  const port = await listen(bOpts, resolveB);
  const a = await PeerConnection.connect({ host: '127.0.0.1', port, infoHash, peerId: peerId('client'), geometry, ...aOpts });
  const b = await bReady;
  a.start();
  b.start();
  return { a, b };
}

function closed(c: PeerConnection): Promise<CloseInfo> {
  if (c.closeInfo) return Promise.resolve(c.closeInfo);
  return once(c, 'close').then(([info]) => info as CloseInfo);
}

/** A scripted peer speaking raw bytes to a PeerConnection accepted by a listener. */
async function rawPeer(opts: Partial<PeerConnectionOptions> = {}, ext = { fast: true, extended: true }) {
  let resolveConn!: (c: PeerConnection) => void;
  const connReady = new Promise<PeerConnection>((r) => (resolveConn = r));
  const port = await listen(opts, (c) => {
    c.start();
    resolveConn(c);
  });
  const socket = connect({ host: '127.0.0.1', port });
  sockets.push(socket);
  await once(socket, 'connect');
  socket.write(encodeHandshake({ infoHash, peerId: peerId('raw'), extensions: ext }));
  const received: WireMessage[] = [];
  const parser = new FrameParser();
  let handshakeBytes = 68;
  socket.on('data', (chunk: Buffer) => {
    if (handshakeBytes > 0) {
      const skip = Math.min(handshakeBytes, chunk.length);
      handshakeBytes -= skip;
      chunk = chunk.subarray(skip);
    }
    parser.push(chunk);
    for (let m = parser.next(); m; m = parser.next()) received.push(m);
  });
  socket.on('error', () => {});
  const conn = await connReady;
  return { socket, conn, received };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('handshakes both ways, negotiates BEP 6 and BEP 10, exchanges availability and extension handshakes', async () => {
  const { a, b } = await pair(
    { extensionHandshake: { m: { ut_metadata: 2 }, v: 'sta-a', p: 6881 } },
    { extensionHandshake: { m: { ut_metadata: 5, ut_pex: 1 }, v: 'sta-b' } },
  );
  assert.equal(a.incoming, false);
  assert.equal(b.incoming, true);
  assert.deepEqual(a.remotePeerId, peerId('server'));
  assert.deepEqual(b.remotePeerId, peerId('client'));
  assert.ok(a.fast && a.extended && b.fast && b.extended);
  const have = new Bitfield(64);
  have.set(3);
  have.set(63);
  const bf = once(a, 'bitfield');
  const ehA = once(a, 'extended-handshake');
  const ehB = once(b, 'extended-handshake');
  b.sendAvailability(have);
  a.sendAvailability(null);
  const [peerBits] = (await bf) as [Bitfield];
  assert.deepEqual([...peerBits.indexes()], [3, 63]);
  const [hb] = await ehA;
  assert.equal(hb.v, 'sta-b');
  assert.equal(hb.m.get('ut_metadata'), 5);
  assert.equal(hb.reqq, 1000);
  assert.deepEqual(hb.yourip, Buffer.from([127, 0, 0, 1]));
  const [ha] = await ehB;
  assert.equal(ha.p, 6881);
  assert.ok(a.peerSupports('ut_pex'));
  assert.ok(!b.peerSupports('ut_pex'));
  // b sent have-none via a's sendAvailability(null)
  await until(() => b.peerBitfield !== null && b.peerBitfield.isEmpty());
  a.close();
  b.close();
});

test('have-all and have-none fall back to a bitfield when BEP 6 is off', async () => {
  const { a, b } = await pair({ extensions: { fast: false } });
  assert.equal(a.fast, false);
  assert.equal(b.fast, false);
  const bf = once(a, 'bitfield');
  b.sendAvailability(Bitfield.full(64));
  const [bits] = (await bf) as [Bitfield];
  assert.ok(bits.isFull());
  assert.throws(() => b.sendHaveAll(), WireError);
  a.close();
  b.close();
});

test('refuses a peer that answers for another torrent', async () => {
  const errors: unknown[] = [];
  const port = await listen({ infoHash: randomBytes(20) }, (c) => c.close(), (e) => errors.push(e));
  await assert.rejects(
    PeerConnection.connect({ host: '127.0.0.1', port, infoHash, peerId: peerId('client'), geometry }),
    (e: unknown) => e instanceof PeerConnectionError && (e.code === 'PEER_INFO_HASH_MISMATCH' || e.code === 'PEER_CLOSED'),
  );
  await until(() => errors.length === 1);
  assert.ok(errors[0] instanceof PeerConnectionError && errors[0].code === 'PEER_INFO_HASH_MISMATCH');
});

test('refuses to connect to ourselves', async () => {
  const errors: unknown[] = [];
  const port = await listen({ peerId: peerId('me') }, (c) => c.close(), (e) => errors.push(e));
  await assert.rejects(
    PeerConnection.connect({ host: '127.0.0.1', port, infoHash, peerId: peerId('me'), geometry }),
    (e: unknown) => e instanceof PeerConnectionError,
  );
  await until(() => errors.length === 1);
  assert.ok(errors[0] instanceof PeerConnectionError && errors[0].code === 'PEER_SELF_CONNECTION');
});

test('a connect to a closed port fails with PEER_CONNECT_FAILED', async () => {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  await assert.rejects(PeerConnection.connect({ host: '127.0.0.1', port, infoHash, peerId: peerId('c') }), (e: unknown) => e instanceof PeerConnectionError && e.code === 'PEER_CONNECT_FAILED');
});

test('readHandshake refuses a non-BitTorrent stream at once and times out a silent one', async () => {
  const results: unknown[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    readHandshake(s, 300).catch((e: unknown) => results.push(e));
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const t0 = Date.now();
  const http = connect({ host: '127.0.0.1', port });
  sockets.push(http);
  http.on('error', () => {});
  http.write('GET / HTTP/1.1\r\n\r\n');
  await until(() => results.length === 1);
  assert.ok(results[0] instanceof WireError && results[0].code === 'WIRE_BAD_HANDSHAKE');
  assert.ok(Date.now() - t0 < 250, 'refused before the timeout');
  const silent = connect({ host: '127.0.0.1', port });
  sockets.push(silent);
  silent.on('error', () => {});
  await until(() => results.length === 2);
  assert.ok(results[1] instanceof PeerConnectionError && results[1].code === 'PEER_HANDSHAKE_TIMEOUT');
});

test('exchanges every message type and keeps the state flags', async () => {
  const { a, b } = await pair({ extensionHandshake: { m: { ut_metadata: 3 } } }, { extensionHandshake: { m: { ut_metadata: 7 } } });
  a.sendAvailability(null);
  b.sendAvailability(Bitfield.full(64));
  await until(() => a.peerBitfield!.isFull() && a.peerExtensions !== null && b.peerExtensions !== null);

  const seen: string[] = [];
  for (const ev of ['choke', 'unchoke', 'interested', 'not-interested'] as const) b.on(ev, () => seen.push(`b:${ev}`));
  for (const ev of ['choke', 'unchoke'] as const) a.on(ev, () => seen.push(`a:${ev}`));
  a.sendInterested();
  a.sendInterested(); // idempotent: sent once
  b.sendUnchoke();
  await until(() => b.peerInterested && !a.peerChoking);
  assert.ok(a.amInterested && !b.amChoking);

  const reqs: number[][] = [];
  b.on('request', (i, begin, len) => reqs.push([i, begin, len]));
  a.sendRequest(5, 0, 16384);
  a.sendRequest(5, 16384, 16384);
  a.sendRequest(5, 16384, 16384); // repeated: answered once
  await until(() => reqs.length === 2);
  assert.equal(a.requestsInFlight, 2);
  assert.equal(b.incomingRequests, 2);

  const pieces: [number, number, Buffer, boolean][] = [];
  a.on('piece', (i, begin, block, requested) => pieces.push([i, begin, Buffer.from(block), requested]));
  const block = randomBytes(16384);
  b.sendPiece(5, 0, block);
  await until(() => pieces.length === 1);
  assert.deepEqual(pieces[0], [5, 0, block, true]);
  assert.equal(a.requestsInFlight, 1);
  assert.equal(b.incomingRequests, 1);

  const cancels: number[][] = [];
  b.on('cancel', (i, begin, len) => cancels.push([i, begin, len]));
  a.sendCancel(5, 16384, 16384);
  await until(() => cancels.length === 1);
  assert.equal(a.requestsInFlight, 0);
  assert.equal(b.incomingRequests, 0);

  const rejects: number[][] = [];
  a.on('reject', (i, begin, len) => rejects.push([i, begin, len]));
  a.sendRequest(6, 0, 16384);
  await until(() => reqs.length === 3);
  b.sendReject(6, 0, 16384);
  b.sendReject(7, 0, 16384); // never requested: not reported
  await until(() => rejects.length === 1);
  assert.deepEqual(rejects, [[6, 0, 16384]]);

  const misc: unknown[] = [];
  a.on('have', (i) => misc.push(['have', i]));
  a.on('suggest', (i) => misc.push(['suggest', i]));
  a.on('allowed-fast', (i) => misc.push(['allowed-fast', i]));
  a.on('port', (p) => misc.push(['port', p]));
  a.on('extended', (id, payload, name) => misc.push(['extended', id, payload.toString(), name]));
  b.sendHave(9);
  b.sendSuggest(10);
  b.sendAllowedFast(11);
  b.sendPort(6881);
  assert.ok(b.sendExtensionMessage('ut_metadata', Buffer.from('d8:msg_typei0e5:piecei0ee')));
  assert.equal(b.sendExtensionMessage('ut_pex', Buffer.from('de')), false);
  await until(() => misc.length === 4);
  // b announced every piece: its have of piece 9 tells nothing new and is not reported.
  assert.deepEqual(misc, [['suggest', 10], ['allowed-fast', 11], ['port', 6881], ['extended', 3, 'd8:msg_typei0e5:piecei0ee', 'ut_metadata']]);
  assert.ok(a.peerAllowedFast.has(11));

  b.sendChoke();
  a.sendNotInterested();
  await until(() => a.peerChoking && !b.peerInterested);
  assert.deepEqual(seen, ['b:interested', 'a:unchoke', 'a:choke', 'b:not-interested']);
  assert.ok(a.bytesDownloaded === 16384 && b.bytesUploaded === 16384);
  a.close('done');
  const info = await closed(b);
  assert.equal(info.violation, false);
  assert.equal(a.closeInfo?.reason, 'done');
});

test('without BEP 6 a choke drops our outstanding requests', async () => {
  const { a, b } = await pair({ extensions: { fast: false } });
  b.sendUnchoke();
  await until(() => !a.peerChoking);
  a.sendRequest(1, 0, 16384);
  a.sendRequest(1, 16384, 16384);
  await until(() => b.incomingRequests === 2);
  b.sendChoke();
  assert.equal(b.incomingRequests, 0);
  await until(() => a.peerChoking);
  assert.equal(a.requestsInFlight, 0);
  a.close();
  b.close();
});

test('refuses requests past the queue bound: rejects them with BEP 6', async () => {
  const { socket, conn, received } = await rawPeer({ maxIncomingRequests: 10 });
  let requests = 0;
  conn.on('request', () => requests++);
  conn.sendAvailability(Bitfield.full(64));
  conn.sendUnchoke();
  const reqs = [];
  for (let i = 0; i < 15; i++) reqs.push(encodeRequest(0, i * 16384, 16384));
  socket.write(Buffer.concat(reqs));
  await until(() => received.filter((m) => m.type === 'reject').length === 5);
  assert.equal(requests, 10);
  assert.equal(conn.incomingRequests, 10);
  assert.equal(conn.requestsRefused, 5);
  assert.equal(conn.closed, false);
  conn.close();
});

async function expectViolation(bytes: Buffer, code: string, ext = { fast: true, extended: true }): Promise<void> {
  const { socket, conn } = await rawPeer({}, ext);
  socket.write(bytes);
  const info = await closed(conn);
  assert.equal(info.violation, true, info.reason);
  assert.equal(info.code, code, info.reason);
  assert.match(info.reason, /protocol violation/);
  // The scripted peer sees its connection closed.
  if (!socket.destroyed) await once(socket, 'close');
}

test('closes a peer that sends an oversized message', async () => {
  const h = Buffer.alloc(5);
  h.writeUInt32BE(16 * 1024 * 1024, 0);
  h[4] = 7;
  await expectViolation(h, 'WIRE_MESSAGE_TOO_LONG');
  const piece = Buffer.alloc(5);
  piece.writeUInt32BE(9 + 32768, 0);
  piece[4] = 7;
  await expectViolation(piece, 'WIRE_MESSAGE_TOO_LONG');
});

test('closes a peer that sends a bad bitfield', async () => {
  await expectViolation(encodeMessage({ type: 'bitfield', bytes: Buffer.alloc(7, 0xff) }), 'WIRE_BAD_BITFIELD');
  // 64 pieces: exactly 8 bytes, so a spare-bit test needs a torrent whose count is not a multiple of 8 (see test/peer/wire).
  // A later bitfield is still checked.
  const badLater = Buffer.concat([encodeMessage({ type: 'have-none' }), encodeMessage({ type: 'bitfield', bytes: Buffer.alloc(9) })]);
  await expectViolation(badLater, 'WIRE_BAD_BITFIELD');
});

test('a later bitfield or have-all only adds pieces (aria2 sends one mid-connection)', async () => {
  const { socket, conn } = await rawPeer();
  const first = Buffer.alloc(8);
  first[0] = 0x80; // piece 0
  const later = Buffer.alloc(8);
  later[1] = 0x01; // piece 15
  socket.write(Buffer.concat([encodeMessage({ type: 'bitfield', bytes: first }), encodeMessage({ type: 'have', index: 3 }), encodeMessage({ type: 'bitfield', bytes: later })]));
  await until(() => conn.peerBitfield?.has(15) === true);
  assert.deepEqual([...conn.peerBitfield!.indexes()], [0, 3, 15]);
  socket.write(encodeMessage({ type: 'have-none' }));
  socket.write(encodeMessage({ type: 'have-all' }));
  await until(() => conn.peerBitfield?.isFull() === true);
  assert.equal(conn.closeInfo, null);
});

test('closes a peer that sends an out-of-range request, have or piece', async () => {
  await expectViolation(encodeRequest(64, 0, 16384), 'WIRE_BAD_REQUEST');
  await expectViolation(encodeRequest(0, (1 << 20) - 16383, 16384), 'WIRE_BAD_REQUEST');
  await expectViolation(encodeRequest(0, 0, 65536), 'WIRE_BAD_REQUEST');
  await expectViolation(encodeMessage({ type: 'have', index: 64 }), 'WIRE_BAD_INDEX');
  await expectViolation(encodeMessage({ type: 'piece', index: 99, begin: 0, block: Buffer.alloc(10) }), 'WIRE_BAD_PIECE');
});

test('closes a peer that uses extensions it did not negotiate', async () => {
  await expectViolation(encodeMessage({ type: 'have-all' }), 'WIRE_NOT_NEGOTIATED', { fast: false, extended: true });
  await expectViolation(encodeMessage({ type: 'extended', id: 0, payload: Buffer.from('de') }), 'WIRE_NOT_NEGOTIATED', { fast: true, extended: false });
  await expectViolation(encodeMessage({ type: 'extended', id: 0, payload: Buffer.from('d13:metadata_sizei999999999ee') }), 'WIRE_BAD_METADATA');
});

test('a handler that throws closes only that connection', async () => {
  const { a, b } = await pair();
  a.on('have', () => {
    throw new Error('boom');
  });
  b.sendHave(1);
  const info = await closed(a);
  assert.equal(info.code, 'PEER_HANDLER_FAILED');
  assert.match(info.reason, /boom/);
  await closed(b);
});

test('sends keep-alives when quiet and closes an idle peer', async () => {
  const { conn, received } = await rawPeer({ keepAliveMs: 60, idleTimeoutMs: 400 });
  await until(() => received.some((m) => m.type === 'keep-alive'));
  const t0 = Date.now();
  const info = await closed(conn);
  assert.equal(info.code, 'PEER_IDLE');
  assert.ok(Date.now() - t0 < 1000);
});

test('without metadata, keeps the peer bitfield and haves until setGeometry', async () => {
  const { socket, conn } = await rawPeer({ geometry: undefined });
  const bits: Bitfield[] = [];
  conn.on('bitfield', (b) => bits.push(b));
  const bytes = Buffer.alloc(8);
  bytes[0] = 0x80;
  socket.write(Buffer.concat([encodeMessage({ type: 'bitfield', bytes }), encodeMessage({ type: 'have', index: 63 })]));
  await until(() => conn.bytesRead >= 68 + 13 + 9);
  assert.equal(conn.peerBitfield, null);
  assert.equal(bits.length, 0);
  conn.setGeometry(geometry);
  assert.deepEqual([...conn.peerBitfield!.indexes()], [0, 63]);
  assert.equal(bits.length, 1);
  conn.close();
});

test('pauseReading holds messages back until resumeReading', async () => {
  const { a, b } = await pair();
  const haves: number[] = [];
  a.on('have', (i) => {
    haves.push(i);
    if (i === 1) a.pauseReading();
  });
  for (let i = 0; i < 5; i++) b.sendHave(i);
  await until(() => haves.length === 2);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(haves, [0, 1]);
  a.resumeReading();
  await until(() => haves.length === 5);
  assert.deepEqual(haves, [0, 1, 2, 3, 4]);
  a.close();
  b.close();
});

test('blocks trickling in are read in coalesced reads (a short pause after a small read), all delivered; pauseReading during such a pause holds the rest', async () => {
  const { a, b } = await pair();
  const block = randomBytes(16384);
  let pauses = 0;
  const pause = a.socket.pause.bind(a.socket);
  a.socket.pause = () => (pauses++, pause());
  // The seeder sends one block per millisecond: every read is small.
  const queue: [number, number][] = [];
  const timer = setInterval(() => {
    const next = queue.shift();
    if (next) b.sendPiece(next[0], next[1], block);
  }, 1);
  b.on('request', (i, begin) => queue.push([i, begin]));
  const got: number[] = [];
  a.setPieceHandler((_i, begin, head, tail, requested) => {
    assert.equal(requested, true);
    assert.ok(Buffer.concat([head, tail]).equals(block));
    got.push(begin / 16384);
    if (got.length === 20) a.pauseReading();
  });
  a.sendInterested();
  b.sendUnchoke();
  await until(() => !a.peerChoking);
  for (let k = 0; k < 40; k++) a.sendRequest(0, k * 16384, 16384);
  await until(() => got.length === 20);
  assert.ok(pauses >= 3, `reads were coalesced (${pauses} pauses)`);
  // Held back while paused, even as coalescing pauses end.
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(got.length, 20);
  a.resumeReading();
  await until(() => got.length === 40);
  clearInterval(timer);
  assert.deepEqual(got, Array.from({ length: 40 }, (_, k) => k));
  a.close();
  b.close();
});

test('moves 64 MiB of blocks with deep pipelines; rates and counters are plausible', async () => {
  const { a, b } = await pair();
  const block = randomBytes(16384);
  let pendingServe: [number, number, number][] = [];
  const serve = () => {
    while (pendingServe.length && !b.needsDrain) {
      const [i, begin] = pendingServe.shift()!;
      b.sendPiece(i, begin, block);
    }
  };
  b.on('request', (i, begin, len) => {
    pendingServe.push([i, begin, len]);
    serve();
  });
  b.on('drain', serve);
  b.on('interested', () => b.sendUnchoke());
  const total = geometry.totalLength / 16384;
  let next = 0;
  let got = 0;
  let bad = 0;
  const done = new Promise<void>((resolve) => {
    const fill = () => {
      while (a.requestsInFlight < 256 && next < total) {
        a.sendRequest(next >> 6, (next & 63) * 16384, 16384);
        next++;
      }
    };
    a.on('unchoke', fill);
    a.on('piece', (_i, _begin, blk, requested) => {
      if (!requested || blk.length !== 16384 || blk[0] !== block[0] || blk[16383] !== block[16383]) bad++;
      if (++got === total) resolve();
      else fill();
    });
  });
  a.sendInterested();
  const t0 = performance.now();
  await done;
  const seconds = (performance.now() - t0) / 1000;
  assert.equal(bad, 0);
  assert.equal(a.bytesDownloaded, 64 << 20);
  assert.equal(b.bytesUploaded, 64 << 20);
  assert.ok(b.bytesWritten >= (64 << 20) + 4096 * 13);
  const mbps = 64 / seconds;
  const rate = a.downloadRate();
  // The rate over the window (the whole transfer, if under 10 s) is near bytes / time.
  const expected = (64 << 20) / Math.min(Math.max(seconds, 0.1), 10);
  assert.ok(rate > expected * 0.5 && rate < expected * 2, `rate ${rate} vs ${expected}`);
  assert.ok(b.uploadRate() > expected * 0.5, `upload rate ${b.uploadRate()}`);
  pendingServe = [];
  console.log(`# 64 MiB of 16 KiB blocks over loopback in ${seconds.toFixed(2)} s (${mbps.toFixed(0)} MiB/s)`);
  a.close();
  b.close();
});

test('ipToBytes gives BEP 10 yourip bytes', () => {
  assert.deepEqual(ipToBytes('127.0.0.1'), Buffer.from([127, 0, 0, 1]));
  assert.deepEqual(ipToBytes('::ffff:10.1.2.3'), Buffer.from([10, 1, 2, 3]));
  assert.deepEqual(ipToBytes('::1'), Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]));
  assert.deepEqual(ipToBytes('2001:db8::8:1')?.toString('hex'), '20010db8000000000000000000080001');
  assert.equal(ipToBytes('nonsense'), undefined);
});

test('close with a WireError marks a protocol violation the engine found', async () => {
  const { a, b } = await pair();
  a.close('protocol violation: bad ut_metadata', new WireError('WIRE_BAD_METADATA', 'bad piece'));
  assert.equal(a.closeInfo?.violation, true);
  assert.equal(a.closeInfo?.code, 'WIRE_BAD_METADATA');
  b.close('plain');
  assert.equal(b.closeInfo?.violation, false);
});

test('random and mutated streams after the handshake only ever close the connection, never throw', async () => {
  const fc = (await import('fast-check')).default;
  const valid = Buffer.concat([
    encodeMessage({ type: 'bitfield', bytes: Buffer.alloc(8, 0xaa) }),
    encodeMessage({ type: 'unchoke' }),
    encodeMessage({ type: 'have', index: 3 }),
    encodeRequest(1, 0, 16384),
    encodeMessage({ type: 'piece', index: 2, begin: 16384, block: Buffer.alloc(100, 1) }),
    encodeMessage({ type: 'extended', id: 0, payload: Buffer.from('d1:md11:ut_metadatai1eee') }),
    encodeMessage({ type: 'allowed-fast', index: 5 }),
    encodeMessage({ type: 'cancel', index: 1, begin: 0, length: 16384 }),
  ]);
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => uncaught.push(e);
  process.on('uncaughtException', onUncaught);
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }).map((flips) => {
            const b = Buffer.from(valid);
            for (const [at, v] of flips) b[at % b.length] = v;
            return b;
          }),
        ),
        async (bytes) => {
          const { socket, conn } = await rawPeer();
          conn.on('request', (i, b, l) => conn.sendReject(i, b, l));
          conn.on('bitfield', () => conn.sendInterested());
          socket.write(bytes);
          socket.end();
          const info = await closed(conn);
          assert.equal(typeof info.reason, 'string');
          assert.notEqual(info.code, 'PEER_HANDLER_FAILED', info.reason);
        },
      ),
      { numRuns: 40 },
    );
  } finally {
    process.off('uncaughtException', onUncaught);
  }
  assert.deepEqual(uncaught, []);
});

test('closes a peer that pushes piece data nobody asked for, past a slack for cancelled requests', async () => {
  const { socket, conn } = await rawPeer();
  let pieces = 0;
  conn.on('piece', () => pieces++);
  // The slack: 4 MiB of unrequested blocks are tolerated (late answers to cancels, chokes).
  const block = encodeMessage({ type: 'piece', index: 0, begin: 0, block: Buffer.alloc(16384) });
  socket.write(Buffer.concat(Array.from({ length: 256 }, () => block)));
  await until(() => pieces === 256);
  assert.equal(conn.closed, false);
  // A cancelled request widens it by one block.
  conn.sendRequest(1, 0, 16384);
  conn.sendCancel(1, 0, 16384);
  socket.write(encodeMessage({ type: 'piece', index: 1, begin: 0, block: Buffer.alloc(16384) }));
  await until(() => pieces === 257);
  assert.equal(conn.closed, false);
  socket.write(block);
  const info = await closed(conn);
  assert.equal(info.code, 'WIRE_FLOOD');
  assert.equal(info.violation, true);
});

test('a repeated bitfield is reported as haves of the pieces it adds, and costs O(bytes)', async () => {
  const { socket, conn } = await rawPeer();
  const bits: number[] = [];
  const haves: number[] = [];
  conn.on('bitfield', (b) => bits.push(b.cardinality()));
  conn.on('have', (i) => haves.push(i));
  const first = Buffer.alloc(8);
  first[0] = 0xc0; // pieces 0, 1
  const later = Buffer.alloc(8);
  later[0] = 0x80; // piece 0 again
  later[7] = 0x01; // piece 63, new
  socket.write(Buffer.concat([encodeMessage({ type: 'bitfield', bytes: first }), encodeMessage({ type: 'bitfield', bytes: later }), encodeMessage({ type: 'bitfield', bytes: later })]));
  await until(() => haves.length === 1);
  assert.deepEqual(bits, [2]);
  assert.deepEqual(haves, [63]);
  socket.write(encodeMessage({ type: 'have-all' }));
  await until(() => conn.peerBitfield!.isFull());
  assert.equal(haves.length, 64 - 2);
  assert.deepEqual(bits, [2]);
  conn.close();
});

test('repeated state messages, haves and allowed-fasts are reported once', async () => {
  const { socket, conn } = await rawPeer();
  const seen: string[] = [];
  for (const ev of ['choke', 'unchoke', 'interested', 'not-interested'] as const) conn.on(ev, () => seen.push(ev));
  conn.on('have', (i) => seen.push(`have ${i}`));
  conn.on('allowed-fast', (i) => seen.push(`af ${i}`));
  const m = (x: WireMessage) => encodeMessage(x);
  socket.write(
    Buffer.concat([
      m({ type: 'choke' }), // already choked: nothing
      m({ type: 'unchoke' }),
      m({ type: 'unchoke' }),
      m({ type: 'interested' }),
      m({ type: 'interested' }),
      m({ type: 'have', index: 4 }),
      m({ type: 'have', index: 4 }),
      m({ type: 'allowed-fast', index: 2 }),
      m({ type: 'allowed-fast', index: 2 }),
      m({ type: 'not-interested' }),
      m({ type: 'choke' }),
      m({ type: 'choke' }),
    ]),
  );
  await until(() => seen.length >= 6);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(seen, ['unchoke', 'interested', 'have 4', 'af 2', 'not-interested', 'choke']);
  conn.close();
});

test('later extension handshakes cannot grow the peer extension set past one handshake bound', async () => {
  const names = (from: number) => Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`x_${from + i}`, (i % 200) + 1]));
  const two = Buffer.concat([
    encodeMessage({ type: 'extended', id: 0, payload: encodeExtensionHandshake({ m: names(0) }) }),
    encodeMessage({ type: 'extended', id: 0, payload: encodeExtensionHandshake({ m: names(1000) }) }),
  ]);
  await expectViolation(two, 'WIRE_BAD_EXTENDED');
});

test('choke and unchoke cycles do not lift the cap on unrequested piece data', async () => {
  // Without BEP 6 a choke drops our outstanding requests and credits their bytes.
  const noFast = { extensions: { fast: false, extended: true } };
  const { a, b } = await pair(noFast, noFast);
  b.on('request', () => undefined);
  // 200 cycles of 60 requests: ~190 MiB credited if uncapped, far above what b pushes.
  for (let round = 0; round < 200; round++) {
    for (let i = 0; i < 60; i++) a.sendRequest(round % 64, i * 16384, 16384);
    b.sendUnchoke();
    b.sendChoke();
    await new Promise((r) => setTimeout(r, 2));
  }
  await new Promise((r) => setTimeout(r, 100));
  const block = Buffer.alloc(16384, 1);
  // 3000 blocks = 47 MiB: past the capped allowance (4 MiB + 1000 blocks), under an uncapped one.
  for (let i = 0; i < 3000 && !b.closed && !a.closed; i++) b.sendPiece(63, 0, block);
  const info = await Promise.race([
    closed(a),
    new Promise<CloseInfo>((_, reject) => setTimeout(() => reject(new Error('still open: the flood check was lifted')), 5000)),
  ]);
  assert.equal(info.code, 'WIRE_FLOOD', info.reason);
});

test('requests are told apart exactly: unaligned begins, begins past 16 MiB, indexes past 2^20', async () => {
  // 2^20 + 8 pieces of 32 MiB: block keys take every path (small integer, negative, aligned or not).
  const big = makeGeometry(2 ** 20 + 8, 32 << 20, (2 ** 20 + 8) * (32 << 20));
  const { a, b } = await pair({ geometry: big }, { geometry: big });
  a.sendAvailability(null);
  b.sendAvailability(Bitfield.full(big.pieceCount));
  await until(() => a.peerBitfield !== null && a.peerBitfield.isFull());
  b.sendUnchoke();
  await until(() => !a.peerChoking);
  const asked: [number, number, number][] = [
    [0, 0, 16384],
    [0, 16384, 16384],
    [1, 0, 16384],
    [0, 1, 100],
    [0, 1 << 24, 16384],
    [0, (1 << 24) + 16384, 16384],
    [2 ** 20 + 5, 0, 16384],
    [2 ** 20 + 5, 16384, 16384],
    [5, 0, 16384],
  ];
  for (const [i, begin, len] of asked) a.sendRequest(i, begin, len);
  assert.equal(a.requestsInFlight, asked.length);
  // Never asked for, though each lies next to (or shares a number with) one that was.
  for (const [i, begin, len] of [[1, 16384, 16384], [0, 2, 100], [1024, 0, 16384], [2 ** 20 + 4, 0, 16384], [0, (1 << 24) + 32768, 16384]] as const) {
    assert.equal(a.isRequested(i, begin, len), false, `${i}/${begin}`);
  }
  const got: [number, number, boolean][] = [];
  a.on('piece', (i, begin, _block, requested) => got.push([i, begin, requested]));
  for (const [i, begin, len] of asked.slice(0, 7)) b.sendPiece(i, begin, Buffer.alloc(len, 1));
  b.sendPiece(1, 16384, Buffer.alloc(16384, 2)); // unrequested
  await until(() => got.length === 8);
  assert.deepEqual(got, [...asked.slice(0, 7).map(([i, begin]) => [i, begin, true]), [1, 16384, false]]);
  assert.equal(a.requestsInFlight, 2);
  assert.equal(a.isRequested(2 ** 20 + 5, 16384, 16384), true);
  assert.equal(a.isRequested(5, 0, 16384), true);
  a.close();
  b.close();
});

test('setPieceHandler: blocks go to the handler (a view valid during the call) instead of the piece event', async () => {
  const { a, b } = await pair();
  a.sendAvailability(null);
  b.sendAvailability(Bitfield.full(64));
  a.sendInterested();
  b.sendUnchoke();
  await until(() => !a.peerChoking);
  const viaEvent: number[] = [];
  a.on('piece', (i) => viaEvent.push(i));
  const viaHandler: [number, number, Buffer, boolean][] = [];
  a.setPieceHandler((i, begin, head, tail, requested) => viaHandler.push([i, begin, Buffer.concat([head, tail]), requested]));
  const one = randomBytes(16384);
  const two = randomBytes(16384);
  a.sendRequest(3, 0, 16384);
  b.sendPiece(3, 0, one);
  b.sendPiece(4, 0, two); // unrequested: still reported, requested false
  await until(() => viaHandler.length === 2);
  assert.deepEqual(viaHandler, [
    [3, 0, one, true],
    [4, 0, two, false],
  ]);
  assert.deepEqual(viaEvent, [], 'no piece event while a handler is set');
  a.setPieceHandler(null);
  a.sendRequest(5, 0, 16384);
  b.sendPiece(5, 0, one);
  await until(() => viaEvent.length === 1);
  assert.deepEqual(viaEvent, [5]);
  a.close();
  b.close();
});

test('keeps our requests in the table it is given: blocks, rejects, cancels and a choke without BEP 6 take them out; the handler learns which blocks were asked', async () => {
  let clock = 1000;
  const { a, b } = await pair({ now: () => clock });
  const table = new OutstandingRequests(0);
  a.useRequestTable(table);
  b.sendAvailability(Bitfield.full(64));
  a.sendInterested();
  b.sendUnchoke();
  await until(() => !a.peerChoking && a.peerBitfield!.isFull());
  const asked: boolean[] = [];
  a.setPieceHandler((_i, _begin, _head, _tail, requested) => asked.push(requested));
  a.sendRequest(3, 0, 16384);
  clock = 2000;
  a.sendRequest(3, 16384, 16384);
  a.sendRequest(3, 32768, 16384);
  assert.equal(table.size, 3);
  assert.equal(a.requestsInFlight, 3);
  assert.deepEqual(table.expired(31_500, 30_000), [3, 0], 'sent at 1000 ms');
  await until(() => b.incomingRequests === 3);
  b.sendPiece(3, 0, randomBytes(16384));
  b.sendPiece(3, 49152, randomBytes(16384)); // never asked
  await until(() => asked.length === 2);
  assert.deepEqual(asked, [true, false]);
  assert.equal(table.has(3, 0, 16384), false);
  assert.equal(table.lastBlockAtMs, 2000, 'answered at the clock of the read');
  b.sendReject(3, 16384, 16384);
  await until(() => table.size === 1);
  a.sendCancel(3, 32768, 16384);
  assert.equal(table.size, 0);
  assert.equal(a.closed, false);
});

test('without BEP 6 a choke empties the request table it was given', async () => {
  const { a, b } = await pair({ extensions: { fast: false } });
  const table = new OutstandingRequests(0);
  a.useRequestTable(table);
  b.sendAvailability(Bitfield.full(64));
  b.sendUnchoke();
  await until(() => !a.peerChoking);
  a.sendRequest(1, 0, 16384);
  a.sendRequest(1, 16384, 16384);
  assert.equal(table.size, 2);
  b.sendChoke();
  await until(() => a.peerChoking);
  assert.equal(table.size, 0);
});
