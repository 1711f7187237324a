// Which address a peer is announced at. The socket's address, always, except when the
// request comes from a source we trust (loopback, or a configured --trusted-proxy): then
// X-Forwarded-For is walked from the right past trusted hops, and the `ip` parameter is
// honoured only if the client so found is itself trusted. An untrusted client can never
// make the tracker hand out someone else's address (a DDoS amplifier otherwise).
import { normalizeIp } from './options.js';

/** Bounds on X-Forwarded-For: a real chain has a few hops. */
const MAX_XFF_LENGTH = 1024;
const MAX_XFF_HOPS = 8;

export function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}

export function isTrusted(ip: string, proxies: ReadonlySet<string>): boolean {
  return isLoopback(ip) || (proxies.size > 0 && proxies.has(ip));
}

const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const IPV6 = /^[0-9a-fA-F:.]{2,45}$/;

/** An IP literal (no host names: the tracker never resolves names a client gives). */
export function isIpLiteral(s: string): boolean {
  return IPV4.test(s) ? s.split('.').every((p) => Number(p) <= 255) : s.includes(':') && IPV6.test(s);
}

/** The peer's IP for an HTTP announce. */
export function resolvePeerIp(socketIp: string, xff: string | undefined, ipParam: string | undefined, proxies: ReadonlySet<string>): string {
  let ip = normalizeIp(socketIp);
  if (!isTrusted(ip, proxies)) return ip;
  if (xff !== undefined && xff.length <= MAX_XFF_LENGTH) {
    const hops = xff.split(',');
    for (let i = hops.length - 1, n = 0; i >= 0 && n < MAX_XFF_HOPS; i--, n++) {
      const hop = normalizeIp(hops[i]!.trim());
      if (!isIpLiteral(hop)) break;
      ip = hop;
      if (!isTrusted(hop, proxies)) return ip;
    }
  }
  if (ipParam !== undefined) {
    const p = normalizeIp(ipParam);
    if (isIpLiteral(p)) ip = p;
  }
  return ip;
}
