// transmission-daemon seeds, aria2c downloads, through `sta tracker` over UDP (BEP 15).
import { test } from 'node:test';
import { trackerSwarmTest } from './tracker-swarm.js';

test('transmission seeds and aria2 downloads byte-exact through sta tracker over UDP; scrape counts', { timeout: 120_000 }, (t) =>
  trackerSwarmTest(t, 'udp'),
);
