// The Redis PeerStore: swarm state shared by several `sta tracker` processes. Every announce
// is one round trip (a Lua script run with EVALSHA by ioredis), which upserts the peer,
// drops a bounded number of expired ones, and draws the random sample inside Redis.
//
// Keys (PREFIX defaults to `sta:`; HEX is the info hash in lowercase hex):
//   PREFIX s:HEX:S   hash   peer id (20 bytes) -> compact address (6 or 18 bytes), seeders
//   PREFIX s:HEX:L   hash   the same, leechers
//   PREFIX s:HEX:SQ  zset   seeders again, member address .. peer id, scored by a random
//                           number drawn at join: rank windows are random samples
//   PREFIX s:HEX:LQ  zset   the same, leechers
//   PREFIX s:HEX:T   zset   peer id scored by last-seen ms: expiry by timestamp
//   PREFIX s:HEX:D   string count of `completed` events (scrape's `downloaded`)
//   PREFIX swarms    zset   HEX scored by last activity ms: the swarm index for stats/expiry
//   PREFIX npeers    string peers stored in all (the maxPeers cap; reset exactly by expire())
//   PREFIX cat:idx   zset   catalogue: HEX scored by added ms
//   PREFIX cat:e     hash   HEX -> the entry as JSON
//   PREFIX cat:s     hash   HEX -> lowercase name and file paths, one a line (search text)
//   PREFIX cat:t:HEX string the .torrent bytes
// A swarm's keys carry a TTL of peerTtlS, refreshed by each announce, so a swarm nobody
// announces to vanishes by itself even if no process runs expire().
import type { Redis } from 'ioredis';
import { compactIpText, EVENT_STOPPED, type ScrapeCounts } from '../protocol/index.js';
import { StoreError } from './errors.js';
import { DEFAULT_STORE_LIMITS, MAX_CATALOGUE_TORRENTS } from './limits.js';
import {
  FAMILY_V4,
  FAMILY_V6,
  type AnnounceInput,
  type AnnounceOutput,
  type Catalogue,
  type CatalogueEntry,
  type PeerStore,
  type StoreLimits,
  type StoreStats,
  type SwarmPeer,
  type SwarmSummary,
} from './types.js';

/** Stale peers one announce removes from its own swarm: bounds the script's work per call;
 *  the periodic expire() catches up on the rest. */
const EXPIRE_PER_ANNOUNCE = 32;
/** stats() walks every swarm in Redis; its answer is reused this long (the status page and
 *  /api/stats may be polled often). */
const STATS_CACHE_MS = 2000;
/** How long connecting may take before the store is reported unreachable. */
const CONNECT_TIMEOUT_MS = 5000;

const ANNOUNCE_LUA = `
local S, L, T, D, IDX, NP, SQ, LQ = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local id, addr = ARGV[1], ARGV[2]
local seeder = ARGV[3] == '1'
local event = tonumber(ARGV[4])
local want = tonumber(ARGV[5])
local fam = tonumber(ARGV[6])
local withIds = ARGV[7] == '1'
local now = tonumber(ARGV[8])
local ttl = tonumber(ARGV[9])
local maxPer = tonumber(ARGV[10])
local maxSwarms = tonumber(ARGV[11])
local hex = ARGV[12]
local expireMax = tonumber(ARGV[13])
local maxPeers = tonumber(ARGV[14])
local r1, r2 = tonumber(ARGV[15]), tonumber(ARGV[16])
local rscore = ARGV[17]

-- Removes a peer from every structure of the swarm; 1 when it was there.
local function removePeer(pid)
  local a = redis.call('HGET', S, pid)
  if a then
    redis.call('HDEL', S, pid)
    redis.call('ZREM', SQ, a .. pid)
  else
    a = redis.call('HGET', L, pid)
    if a then
      redis.call('HDEL', L, pid)
      redis.call('ZREM', LQ, a .. pid)
    end
  end
  return redis.call('ZREM', T, pid)
end

local stale = redis.call('ZRANGEBYSCORE', T, '-inf', '(' .. (now - ttl), 'LIMIT', 0, expireMax)
local gone = 0
for _, p in ipairs(stale) do gone = gone + removePeer(p) end
if gone > 0 then redis.call('DECRBY', NP, gone) end

if event == 3 then
  -- A leecher leaving with nothing left finished here, even if its completed was lost.
  if seeder and redis.call('HEXISTS', L, id) == 1 then
    redis.call('INCR', D)
    redis.call('PEXPIRE', D, ttl)
  end
  if removePeer(id) == 1 then redis.call('DECR', NP) end
  return { redis.call('HLEN', S), redis.call('HLEN', L) }
end

local oldS = redis.call('HGET', S, id)
local oldL = false
if not oldS then oldL = redis.call('HGET', L, id) end
local known = oldS or oldL
local stored = true
if not known then
  if not redis.call('ZSCORE', IDX, hex) and redis.call('ZCARD', IDX) >= maxSwarms then
    stored = false
  elseif redis.call('HLEN', S) + redis.call('HLEN', L) >= maxPer then
    stored = false
  elseif tonumber(redis.call('GET', NP) or '0') >= maxPeers then
    stored = false
  end
  if event == 1 then redis.call('INCR', D) end
elseif seeder and oldL then
  -- A known leecher now reporting left=0 completed a download, completed event or not
  -- (UDP loses packets; some clients fold it into their next announce).
  redis.call('INCR', D)
end
if stored then
  if seeder then
    if oldL then
      redis.call('HDEL', L, id)
      redis.call('ZREM', LQ, oldL .. id)
    end
    if oldS ~= addr then
      if oldS then redis.call('ZREM', SQ, oldS .. id) end
      redis.call('HSET', S, id, addr)
      redis.call('ZADD', SQ, rscore, addr .. id)
    end
  else
    if oldS then
      redis.call('HDEL', S, id)
      redis.call('ZREM', SQ, oldS .. id)
    end
    if oldL ~= addr then
      if oldL then redis.call('ZREM', LQ, oldL .. id) end
      redis.call('HSET', L, id, addr)
      redis.call('ZADD', LQ, rscore, addr .. id)
    end
  end
  redis.call('ZADD', T, now, id)
  if not known then
    redis.call('INCR', NP)
    -- The index only needs a swarm's latest join: expire() forgets a swarm only once its
    -- last peer is gone, so re-announces of known peers need not touch it.
    redis.call('ZADD', IDX, now, hex)
  end
  redis.call('PEXPIRE', S, ttl)
  redis.call('PEXPIRE', L, ttl)
  redis.call('PEXPIRE', T, ttl)
  redis.call('PEXPIRE', SQ, ttl)
  redis.call('PEXPIRE', LQ, ttl)
end
redis.call('PEXPIRE', D, ttl)
local nS = redis.call('HLEN', S)
local nL = redis.call('HLEN', L)
local cS, cL = nS, nL
if not stored then
  if seeder then cS = cS + 1 else cL = cL + 1 end
end
if want <= 0 then return { cS, cL } end

-- The sample: windows of the seeder and leecher zsets (members are address .. peer id,
-- scored by a random number drawn when the peer joined, so rank order is a random order)
-- starting at random ranks. Each window is one O(log n + k) ZRANGE, where HRANDFIELD cost
-- ~1 us per element on big hashes. Returned as four byte strings (IPv4, IPv6 addresses and
-- their ids, concatenated), so the client parses six values, not one per peer.
local p4, p6, i4, i6 = {}, {}, {}, {}
local taken = 0
local seen = {}
seen[id] = true
-- Takes up to quota peers from Q, in chunks from rank r onward (wrapping), until the quota
-- is met or all n members were looked at. A chunk asks for what is still missing plus one
-- (ourselves may be among them); peers of an unwanted family just make another chunk.
local function window(Q, n, quota, r)
  if n <= 0 then return true end
  if quota <= 0 then return false end
  local start = r % n
  local covered = 0
  local got = 0
  while got < quota and taken < want and covered < n do
    local cnt = math.min(quota - got + 1, n - covered)
    local stop = start + cnt - 1
    local items = redis.call('ZRANGE', Q, start, math.min(stop, n - 1))
    if stop >= n then
      for _, m in ipairs(redis.call('ZRANGE', Q, 0, stop - n)) do items[#items + 1] = m end
    end
    for _, m in ipairs(items) do
      if got >= quota or taken >= want then break end
      local pid = string.sub(m, -20)
      if not seen[pid] then
        seen[pid] = true
        local a = string.sub(m, 1, #m - 20)
        if #a == 6 and fam ~= 2 then
          p4[#p4 + 1] = a
          if withIds then i4[#i4 + 1] = pid end
          taken = taken + 1
          got = got + 1
        elseif #a == 18 and fam ~= 1 then
          p6[#p6 + 1] = a
          if withIds then i6[#i6 + 1] = pid end
          taken = taken + 1
          got = got + 1
        end
      end
    end
    covered = covered + cnt
    start = (start + cnt) % n
  end
  return covered >= n
end
if seeder then
  window(LQ, nL, want, r2)
else
  local total = nS + nL
  -- Seeders and leechers in proportion to the swarm, then fill up from either.
  local kS = math.floor(want * nS / total + 0.5)
  local allSeeders = window(SQ, nS, kS, r1)
  window(LQ, nL, want - taken, r2)
  if not allSeeders then window(SQ, nS, want - taken, r1 + kS) end
end
return { cS, cL, table.concat(p4), table.concat(p6), table.concat(i4), table.concat(i6) }
`;

const SCRAPE_LUA = `
local out = {}
for i = 1, #KEYS, 3 do
  out[#out + 1] = redis.call('HLEN', KEYS[i])
  out[#out + 1] = tonumber(redis.call('GET', KEYS[i + 2]) or '0')
  out[#out + 1] = redis.call('HLEN', KEYS[i + 1])
end
return out
`;

/** Walks the swarm index: drops stale peers of every swarm and forgets swarms that are empty
 *  and idle; resets the peer total. KEYS: index, total. ARGV: prefix, now, ttl. Returns the
 *  number of peers dropped. */
const EXPIRE_LUA = `
local IDX = KEYS[1]
local prefix, now, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local cutoff = now - ttl
local dropped = 0
local total = 0
local swarms = redis.call('ZRANGE', IDX, 0, -1, 'WITHSCORES')
for i = 1, #swarms, 2 do
  local hex, last = swarms[i], tonumber(swarms[i + 1])
  local base = prefix .. 's:' .. hex .. ':'
  local stale = redis.call('ZRANGEBYSCORE', base .. 'T', '-inf', '(' .. cutoff)
  for _, p in ipairs(stale) do
    local a = redis.call('HGET', base .. 'S', p)
    if a then
      redis.call('HDEL', base .. 'S', p)
      redis.call('ZREM', base .. 'SQ', a .. p)
    else
      a = redis.call('HGET', base .. 'L', p)
      if a then
        redis.call('HDEL', base .. 'L', p)
        redis.call('ZREM', base .. 'LQ', a .. p)
      end
    end
    redis.call('ZREM', base .. 'T', p)
    dropped = dropped + 1
  end
  local n = redis.call('ZCARD', base .. 'T')
  if last < cutoff and n == 0 then
    redis.call('ZREM', IDX, hex)
    redis.call('DEL', base .. 'D')
  end
  total = total + n
end
-- The exact total, so the counter the announce script keeps cannot drift (swarm keys that
-- vanished by TTL never decremented it).
redis.call('SET', KEYS[2], total)
return dropped
`;

/** Sizes of every swarm with peers: flat [hex, seeders, downloaded, leechers, ...]. ARGV:
 *  prefix. (A swarm whose keys expired by TTL has no peers, so it is left out.) */
const SWARMS_LUA = `
local IDX = KEYS[1]
local prefix = ARGV[1]
local out = {}
local swarms = redis.call('ZRANGE', IDX, 0, -1)
for _, hex in ipairs(swarms) do
  local base = prefix .. 's:' .. hex .. ':'
  local nS = redis.call('HLEN', base .. 'S')
  local nL = redis.call('HLEN', base .. 'L')
  if nS + nL > 0 then
    out[#out + 1] = hex
    out[#out + 1] = nS
    out[#out + 1] = tonumber(redis.call('GET', base .. 'D') or '0')
    out[#out + 1] = nL
  end
end
return out
`;

/** Catalogue search: newest first, every word must occur in the entry's text.
 *  KEYS: idx, text hash. ARGV: limit, words... Returns hexes. */
const SEARCH_LUA = `
local limit = tonumber(ARGV[1])
local out = {}
local hexes = redis.call('ZREVRANGE', KEYS[1], 0, -1)
for _, hex in ipairs(hexes) do
  if #out >= limit then break end
  local text = redis.call('HGET', KEYS[2], hex)
  if text then
    local ok = true
    for w = 2, #ARGV do
      if not string.find(text, ARGV[w], 1, true) then ok = false break end
    end
    if ok then out[#out + 1] = hex end
  end
end
return out
`;

type Arg = string | number | Buffer;
interface StaRedis extends Redis {
  staAnnounceBuffer(...args: Arg[]): Promise<(number | Buffer)[]>;
  staScrape(...args: Arg[]): Promise<number[]>;
  staExpire(...args: Arg[]): Promise<number>;
  staSwarms(...args: Arg[]): Promise<(string | number)[]>;
  staSearch(...args: Arg[]): Promise<string[]>;
}

export interface RedisStoreOptions {
  limits?: Partial<StoreLimits>;
  /** Key prefix, so several trackers (or tests) can share one Redis without meeting. */
  prefix?: string;
  /** Run expire() on a timer every this many ms (0: never). Default: a quarter of the TTL,
   *  at most a minute. Several processes sweeping the same Redis is harmless. */
  sweepIntervalMs?: number;
  /** Injectable clock for the sweep timer. */
  now?: () => number;
}

const EMPTY = Buffer.alloc(0);
const HEX40 = /^[0-9a-f]{40}$/;

export class RedisStore implements PeerStore {
  readonly kind = 'redis' as const;
  readonly limits: StoreLimits;
  readonly catalogue: Catalogue;
  private readonly redis: StaRedis;
  private readonly prefix: string;
  private readonly idxKey: string;
  /** The peer total, kept by the announce script for the maxPeers cap. */
  private readonly totalKey: string;
  private timer: ReturnType<typeof setInterval> | undefined;
  private statsCache: { atMs: number; stats: StoreStats } | undefined;

  constructor(redis: Redis, opts: RedisStoreOptions = {}) {
    this.limits = { ...DEFAULT_STORE_LIMITS, ...opts.limits };
    this.prefix = opts.prefix ?? 'sta:';
    this.idxKey = `${this.prefix}swarms`;
    this.totalKey = `${this.prefix}npeers`;
    redis.defineCommand('staAnnounce', { numberOfKeys: 8, lua: ANNOUNCE_LUA });
    redis.defineCommand('staScrape', { lua: SCRAPE_LUA, readOnly: true });
    redis.defineCommand('staExpire', { numberOfKeys: 2, lua: EXPIRE_LUA });
    redis.defineCommand('staSwarms', { numberOfKeys: 1, lua: SWARMS_LUA, readOnly: true });
    redis.defineCommand('staSearch', { numberOfKeys: 2, lua: SEARCH_LUA, readOnly: true });
    this.redis = redis as StaRedis;
    this.catalogue = new RedisCatalogue(this.redis, this.prefix);
    const now = opts.now ?? Date.now;
    const every = opts.sweepIntervalMs ?? Math.min(60_000, (this.limits.peerTtlS * 1000) / 4);
    if (every > 0) {
      this.timer = setInterval(() => {
        this.expire(now()).catch(() => {
          // Redis away for a moment: the next sweep (or the keys' own TTLs) catch up.
        });
      }, every);
      this.timer.unref();
    }
  }

  private keys(hex: string): [string, string, string, string] {
    const base = `${this.prefix}s:${hex}:`;
    return [`${base}S`, `${base}L`, `${base}T`, `${base}D`];
  }

  private sampleKeys(hex: string): [string, string] {
    const base = `${this.prefix}s:${hex}:`;
    return [`${base}SQ`, `${base}LQ`];
  }

  async announce(a: AnnounceInput): Promise<AnnounceOutput> {
    const hex = a.infoHash.toString('hex', 0, 20);
    const ttlMs = this.limits.peerTtlS * 1000;
    const r = await this.redis.staAnnounceBuffer(
      ...this.keys(hex),
      this.idxKey,
      this.totalKey,
      ...this.sampleKeys(hex),
      a.peerId.subarray(0, 20),
      a.addr,
      a.seeder ? '1' : '0',
      a.event,
      a.event === EVENT_STOPPED ? 0 : Math.max(0, a.numwant),
      a.families & (FAMILY_V4 | FAMILY_V6),
      a.withPeerIds ? '1' : '0',
      Math.floor(a.nowMs),
      ttlMs,
      this.limits.maxPeersPerSwarm,
      this.limits.maxSwarms,
      hex,
      EXPIRE_PER_ANNOUNCE,
      this.limits.maxPeers,
      // Randomness comes from here: Redis seeds a script's math.random the same every call.
      Math.floor(Math.random() * 0x7fffffff),
      Math.floor(Math.random() * 0x7fffffff),
      Math.random().toFixed(9),
    );
    this.statsCache = undefined;
    const out: AnnounceOutput = {
      complete: Number(r[0]),
      incomplete: Number(r[1]),
      peers4: (r[2] as Buffer | undefined) ?? EMPTY,
      peers6: (r[3] as Buffer | undefined) ?? EMPTY,
    };
    if (a.withPeerIds) {
      out.peerIds4 = (r[4] as Buffer | undefined) ?? EMPTY;
      out.peerIds6 = (r[5] as Buffer | undefined) ?? EMPTY;
    }
    return out;
  }

  async scrape(infoHashes: readonly Buffer[]): Promise<ScrapeCounts[]> {
    if (infoHashes.length === 0) return [];
    const keys: string[] = [];
    for (const h of infoHashes) {
      const [S, L, , D] = this.keys(h.toString('hex', 0, 20));
      keys.push(S, L, D);
    }
    const r = await this.redis.staScrape(keys.length, ...keys);
    const out: ScrapeCounts[] = [];
    for (let i = 0; i < infoHashes.length; i++) {
      out.push({ complete: Number(r[3 * i]), downloaded: Number(r[3 * i + 1]), incomplete: Number(r[3 * i + 2]) });
    }
    return out;
  }

  async listPeers(infoHash: Buffer, limit: number): Promise<SwarmPeer[]> {
    if (limit <= 0) return [];
    const [S, L, T] = this.keys(infoHash.toString('hex', 0, 20));
    const [seeders, leechers] = await Promise.all([this.hashSample(S, limit), this.hashSample(L, limit)]);
    const rows: { id: Buffer; addr: Buffer; seeder: boolean }[] = [];
    for (const [id, addr] of seeders) if (rows.length < limit) rows.push({ id, addr, seeder: true });
    for (const [id, addr] of leechers) if (rows.length < limit) rows.push({ id, addr, seeder: false });
    if (rows.length === 0) return [];
    const scores = await this.redis.zmscore(T, ...rows.map((r) => r.id));
    const out: SwarmPeer[] = [];
    rows.forEach((r, i) => {
      const len = r.addr.length;
      if (len !== 6 && len !== 18) return;
      out.push({
        ip: compactIpText(r.addr, 0, len),
        port: r.addr.readUInt16BE(len - 2),
        seeder: r.seeder,
        lastSeenMs: Number(scores[i] ?? 0),
        peerIdHex: r.id.toString('hex'),
      });
    });
    return out;
  }

  /** Up to `limit` [id, addr] pairs of a hash, read in bounded HSCAN steps. */
  private async hashSample(key: string, limit: number): Promise<[Buffer, Buffer][]> {
    const out: [Buffer, Buffer][] = [];
    let cursor = '0';
    for (let rounds = 0; rounds < 1000; rounds++) {
      const [next, flat] = await this.redis.hscanBuffer(key, cursor, 'COUNT', Math.min(1000, limit));
      for (let i = 0; i + 1 < flat.length && out.length < limit; i += 2) out.push([flat[i]!, flat[i + 1]!]);
      cursor = next.toString();
      if (cursor === '0' || out.length >= limit) break;
    }
    return out;
  }

  private async swarmSizes(): Promise<{ hex: string; complete: number; downloaded: number; incomplete: number }[]> {
    const r = await this.redis.staSwarms(this.idxKey, this.prefix);
    const out: { hex: string; complete: number; downloaded: number; incomplete: number }[] = [];
    for (let i = 0; i + 3 < r.length; i += 4) {
      out.push({ hex: String(r[i]), complete: Number(r[i + 1]), downloaded: Number(r[i + 2]), incomplete: Number(r[i + 3]) });
    }
    return out;
  }

  async stats(): Promise<StoreStats> {
    const now = Date.now();
    if (this.statsCache && now - this.statsCache.atMs < STATS_CACHE_MS) return this.statsCache.stats;
    const sizes = await this.swarmSizes();
    const stats: StoreStats = { torrents: sizes.length, seeders: 0, leechers: 0 };
    for (const s of sizes) {
      stats.seeders += s.complete;
      stats.leechers += s.incomplete;
    }
    this.statsCache = { atMs: now, stats };
    return stats;
  }

  async topSwarms(limit: number): Promise<SwarmSummary[]> {
    if (limit <= 0) return [];
    const sizes = await this.swarmSizes();
    sizes.sort((x, y) => y.complete + y.incomplete - (x.complete + x.incomplete));
    return sizes.slice(0, limit).map((s) => ({ infoHashHex: s.hex, complete: s.complete, downloaded: s.downloaded, incomplete: s.incomplete }));
  }

  async expire(nowMs: number): Promise<number> {
    const n = await this.redis.staExpire(this.idxKey, this.totalKey, this.prefix, Math.floor(nowMs), this.limits.peerTtlS * 1000);
    this.statsCache = undefined;
    return Number(n);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}

class RedisCatalogue implements Catalogue {
  constructor(
    private readonly redis: StaRedis,
    private readonly prefix: string,
  ) {}

  private k(name: string): string {
    return `${this.prefix}cat:${name}`;
  }

  async put(entry: CatalogueEntry, torrent: Uint8Array): Promise<'added' | 'exists'> {
    const hex = entry.infoHashHex.toLowerCase();
    if (!HEX40.test(hex)) throw new StoreError('BAD_INFO_HASH', 'catalogue entry needs a 40-hex info hash', 2);
    if ((await this.redis.zscore(this.k('idx'), hex)) !== null) return 'exists';
    if ((await this.redis.zcard(this.k('idx'))) >= MAX_CATALOGUE_TORRENTS) {
      throw new StoreError('CATALOGUE_FULL', `catalogue holds ${MAX_CATALOGUE_TORRENTS} torrents already`);
    }
    const text = [entry.name, ...entry.files.map((f) => f.path)].join('\n').toLowerCase();
    // SET NX decides a race between two trackers registering the same torrent.
    const set = await this.redis.set(this.k(`t:${hex}`), Buffer.from(torrent), 'NX');
    if (set === null) return 'exists';
    await this.redis
      .multi()
      .hset(this.k('e'), hex, JSON.stringify({ ...entry, infoHashHex: hex }))
      .hset(this.k('s'), hex, text)
      .zadd(this.k('idx'), entry.addedMs, hex)
      .exec();
    return 'added';
  }

  async get(infoHashHex: string): Promise<Uint8Array | undefined> {
    const hex = infoHashHex.toLowerCase();
    if (!HEX40.test(hex)) return undefined;
    return (await this.redis.getBuffer(this.k(`t:${hex}`))) ?? undefined;
  }

  async entry(infoHashHex: string): Promise<CatalogueEntry | undefined> {
    const hex = infoHashHex.toLowerCase();
    if (!HEX40.test(hex)) return undefined;
    const json = await this.redis.hget(this.k('e'), hex);
    return json === null ? undefined : (JSON.parse(json) as CatalogueEntry);
  }

  async search(q: string, limit: number): Promise<CatalogueEntry[]> {
    if (limit <= 0) return [];
    const words = q.toLowerCase().split(/\s+/).filter(Boolean).slice(0, 16);
    const hexes = await this.redis.staSearch(this.k('idx'), this.k('s'), limit, ...words);
    if (hexes.length === 0) return [];
    const jsons = await this.redis.hmget(this.k('e'), ...hexes);
    const out: CatalogueEntry[] = [];
    for (const j of jsons) if (j !== null) out.push(JSON.parse(j) as CatalogueEntry);
    return out;
  }

  async count(): Promise<number> {
    return this.redis.zcard(this.k('idx'));
  }
}

/**
 * Connects to `url` (`redis://HOST:PORT[/DB]`) and returns the store; throws StoreError
 * STORE_UNREACHABLE (exit code 1) when Redis does not answer within a few seconds, and
 * BAD_STORE_URL (exit code 2) for a URL that is not redis://.
 */
export async function createRedisStore(url: string, opts: RedisStoreOptions = {}): Promise<RedisStore> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StoreError('BAD_STORE_URL', `not a store URL: ${url}`, 2);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new StoreError('BAD_STORE_URL', `store URL must be redis://HOST:PORT[/DB], got ${url}`, 2);
  }
  // Imported here, not at the top: bundled (scripts/bundle.mjs), a top-level import of
  // ioredis would load it at every start of every command.
  const { Redis: RedisClient } = await import('ioredis');
  const redis = new RedisClient(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // Fail a command after a few reconnect attempts instead of queueing forever: the
    // tracker answers that announce with a failure reason and serves on.
    maxRetriesPerRequest: 2,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    // Announces arriving in one event-loop turn go to Redis in one write (fewer syscalls on
    // both sides); still one round trip each.
    enableAutoPipelining: true,
  });
  redis.on('error', () => {
    // Reported through the failing commands; without a listener ioredis would log.
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (e) {
    redis.disconnect();
    throw new StoreError('STORE_UNREACHABLE', `cannot reach Redis at ${url}: ${(e as Error).message}`, 1, { cause: e });
  }
  return new RedisStore(redis, opts);
}
