// `GET /`: a small, readable HTML page with the tracker's totals and its busiest swarms.
// Everything inserted is escaped; the page needs no scripts.
import type { TrackerContext, TrackerStats } from './context.js';

const TOP_SWARMS = 20;

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function n(x: number): string {
  return x.toLocaleString('en-US');
}

export async function renderStatusPage(ctx: TrackerContext, s: TrackerStats): Promise<string> {
  const top = await ctx.store.topSwarms(TOP_SWARMS);
  const names = await Promise.all(top.map((t) => ctx.store.catalogue.entry(t.infoHashHex)));
  const rows = top
    .map((t, i) => {
      const name = names[i]?.name;
      const label = name ? `${esc(name)}<br><code>${t.infoHashHex}</code>` : `<code>${t.infoHashHex}</code>`;
      return `<tr><td>${label}</td><td>${n(t.complete)}</td><td>${n(t.incomplete)}</td><td>${n(t.downloaded)}</td><td><a href="/api/peers?info_hash=${t.infoHashHex}">peers</a></td></tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sta tracker</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}td,th{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left}
th{background:#f4f4f4}code{font-size:.85em;color:#555}.totals td:first-child{width:14rem;color:#555}
</style></head><body>
<h1>sta tracker</h1>
<table class="totals">
<tr><td>Torrents</td><td>${n(s.torrents)}</td></tr>
<tr><td>Seeders</td><td>${n(s.seeders)}</td></tr>
<tr><td>Leechers</td><td>${n(s.leechers)}</td></tr>
<tr><td>Announces/s (HTTP / UDP)</td><td>${s.announcesPerSecond.http} / ${s.announcesPerSecond.udp}</td></tr>
<tr><td>Announces since start (HTTP / UDP)</td><td>${n(s.announces.http)} / ${n(s.announces.udp)}</td></tr>
<tr><td>Catalogue</td><td>${n(s.catalogue)} torrents (<a href="/api/torrents">list</a>)</td></tr>
<tr><td>Store</td><td>${esc(s.store)}</td></tr>
<tr><td>UDP I/O</td><td>${s.udp.io === 'batch' ? 'batched (recvmmsg/sendmmsg, native addon)' : s.udp.io === 'dgram' ? 'node:dgram (native addon not in use)' : 'off'}</td></tr>
<tr><td>HTTP I/O</td><td>${s.http.io === 'batch' ? 'native (accept/read/write in the addon, batched to JS)' : s.http.io === 'node' ? 'node (net.Server; native addon not in use)' : 'off'}</td></tr>
<tr><td>UDP threads</td><td>${s.udp.threads}${s.udp.threads > 1 ? ` (${n(s.udp.forwarded)} packets queued to the store's thread, ${n(s.udp.dropped)} dropped)` : ''}</td></tr>
<tr><td>Announce interval</td><td>${ctx.opts.intervalS} s</td></tr>
<tr><td>Up</td><td>${n(s.uptimeS)} s</td></tr>
</table>
<h2>Busiest swarms</h2>
${top.length ? `<table><tr><th>Torrent</th><th>Seeders</th><th>Leechers</th><th>Completed</th><th></th></tr>\n${rows}\n</table>` : '<p>No swarms yet.</p>'}
<p><small>Announce: <code>/announce</code> (HTTP) or <code>udp://</code> on the same port. JSON: <a href="/api/stats">/api/stats</a>.</small></p>
</body></html>
`;
}
