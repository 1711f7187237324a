// Compact peer addresses (BEP 23, BEP 7): text <-> bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compactIpText, compactPeer } from '../../../src/tracker/protocol/index.js';

test('IPv4 compact form: 4 address bytes then the port, big-endian', () => {
  assert.equal(compactPeer('192.168.0.1', 0x1ae1)!.toString('hex'), 'c0a800011ae1');
  assert.equal(compactPeer('::ffff:10.0.0.7', 80)!.toString('hex'), '0a0000070050', 'IPv4-mapped is IPv4');
});

test('IPv6 compact form, with :: anywhere and a dotted tail', () => {
  assert.equal(compactPeer('::1', 1)!.toString('hex'), '00000000000000000000000000000001' + '0001');
  assert.equal(compactPeer('2001:db8::ff00:42:8329', 2)!.toString('hex'), '20010db8000000000000ff0000428329' + '0002');
  assert.equal(compactPeer('fe80::', 3)!.toString('hex'), 'fe800000000000000000000000000000' + '0003');
  assert.equal(compactPeer('1:2:3:4:5:6:7:8', 4)!.toString('hex'), '00010002000300040005000600070008' + '0004');
  assert.equal(compactPeer('64:ff9b::1.2.3.4', 5)!.toString('hex'), '0064ff9b000000000000000001020304' + '0005');
  assert.equal(compactPeer('fe80::1%eth0', 6)!.toString('hex'), 'fe800000000000000000000000000001' + '0006');
});

test('refuses what is not an address', () => {
  for (const bad of ['', 'localhost', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '1.2.3.4 ', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', '1:2:3:4:5:6:7', '::1.2.3'])
    assert.equal(compactPeer(bad, 1), undefined, bad);
});

test('text of compact addresses follows RFC 5952 (longest zero run as ::)', () => {
  const t = (ip: string) => compactIpText(compactPeer(ip, 1)!, 0, compactPeer(ip, 1)!.length === 6 ? 6 : 18);
  assert.equal(t('10.20.30.40'), '10.20.30.40');
  assert.equal(t('2001:0db8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
  assert.equal(t('1:0:0:2:0:0:0:3'), '1:0:0:2::3');
  assert.equal(t('::'), '::');
  assert.equal(t('1:2:3:4:5:6:7:0'), '1:2:3:4:5:6:7:0');
});
