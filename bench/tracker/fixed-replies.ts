// The fixed replies of the fixed-reply servers (fixed-reply.ts, fixed-reply-threads.ts): the
// same 50-peer compact list for every announce, and one connection id for every UDP connect.
// Each importer (each thread) gets its own buffers.
export const peers = Buffer.alloc(50 * 6);
for (let i = 0; i < 50; i++) {
  peers.writeUInt32BE(0x7f000001, i * 6);
  peers.writeUInt16BE(10_000 + i, i * 6 + 4);
}
export const httpBody = Buffer.concat([
  Buffer.from('d8:completei10e10:incompletei40e8:intervali1800e12:min intervali900e5:peers300:', 'latin1'),
  peers,
  Buffer.from('e', 'latin1'),
]);
export const udpAnnounce = Buffer.alloc(20 + peers.length);
udpAnnounce.writeUInt32BE(1, 0);
udpAnnounce.writeUInt32BE(1800, 8);
udpAnnounce.writeUInt32BE(40, 12);
udpAnnounce.writeUInt32BE(10, 16);
peers.copy(udpAnnounce, 20);
export const udpConnect = Buffer.alloc(16);
udpConnect.writeUInt32BE(0, 0);
udpConnect.writeBigUInt64BE(0x0123456789abcdefn, 8);
