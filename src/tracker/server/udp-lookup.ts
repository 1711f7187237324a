// The UDP socket's address lookup, shared by every thread that sends from it.
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/** The tracker only ever sends to a packet's source address, an IP literal, which Node's
 *  default (dns.lookup) also answers without a query, but through process.nextTick: a
 *  closure and a tick per reply. This answers literals at once, so send() reaches the
 *  kernel synchronously; anything else goes to dns.lookup as before. */
export function literalLookup(address: string, options: unknown, callback: LookupCallback): void {
  const family = isIP(address);
  if (family !== 0) callback(null, address, family);
  else dnsLookup(address, options as never, callback as never);
}
