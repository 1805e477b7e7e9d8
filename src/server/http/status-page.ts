/**
 * The live status page: GET / serves a static shell (no data, no build step); its script polls
 * GET /status.json, which carries the numbers and follows the same rules as /mcp (Host/Origin checks and the
 * bearer token, which the page takes from the URL fragment — never sent to the server in the URL).
 */

import type { Activity } from '../../observability/activity.js';
import type { App } from '../app.js';

export function statusSnapshot(app: App, activity: Activity) {
  return {
    version: app.version,
    uptimeSecs: Math.round((Date.now() - app.startedAt) / 1000),
    deadlines: {
      workflowSecs: app.config.workflowTimeoutSecs,
      expertSecs: app.config.expertTimeoutSecs,
      glmSecs: app.config.glmTimeoutSecs,
      kimiSecs: app.config.kimiTimeoutSecs,
    },
    providers: app.gateway.status().map(p => ({
      provider: p.provider,
      label: p.label,
      configured: p.configured,
      breaker: {
        state: p.breaker.state,
        retryAt: p.breaker.retryAt,
        consecutiveFailures: p.breaker.consecutiveFailures,
      },
      inFlight: p.inFlight,
      queued: p.queued,
      maxConcurrency: p.maxConcurrency,
      // Lower than maxConcurrency once the key refused calls for concurrency (learned per key).
      concurrencyLimit: p.concurrency.limit,
      calls: p.stats.calls,
      outcomes: p.stats.outcomes,
      latencyMs: p.stats.latencyMs,
      retries: p.stats.retries,
      stalls: p.stats.stalls,
      fallbacks: p.stats.fallbacks,
      lastErrors: p.stats.lastErrors.slice(0, 5),
    })),
    series: activity.series(),
    bucketMs: activity.bucketMs,
    recentCalls: activity.recent(),
    jobs: app.jobs.list(),
  };
}

/**
 * The page's icon, served at /favicon.ico and /favicon.svg and inlined in the page as a data: URL: browsers
 * ask for /favicon.ico unless the page names an icon, and a 404 there is noise in every devtools console.
 */
export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#171a21"/>' +
  '<path d="M4 18h6l3-8 5 14 3-6h7" fill="none" stroke="#3fb950" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/></svg>';

export const STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>exai-mcp status</title>
<link rel="icon" type="image/svg+xml" href="data:image/svg+xml,${encodeURIComponent(FAVICON_SVG)}">
<style>
  :root { --bg:#0f1115; --panel:#171a21; --line:#262b36; --text:#e6e6e6; --muted:#8b93a1; --ok:#3fb950; --warn:#d29922; --bad:#f85149; --glm:#58a6ff; --kimi:#bc8cff; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.45 system-ui, sans-serif; background:var(--bg); color:var(--text); }
  header { padding:16px 24px; display:flex; flex-wrap:wrap; gap:4px 16px; align-items:baseline; border-bottom:1px solid var(--line); }
  header h1 { font-size:18px; margin:0; }
  .meta { color:var(--muted); }
  main { padding:16px 24px; display:grid; gap:16px; }
  /* The provider cards share the whole row (two cards: half each) and stack when the window is narrow. */
  #providers { display:grid; gap:16px; grid-template-columns: repeat(auto-fit, minmax(min(100%, 320px), 1fr)); }
  section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:14px 16px; min-width:0; }
  h2 { font-size:15px; margin:0 0 10px; display:flex; justify-content:space-between; gap:8px; }
  .kv { display:grid; grid-template-columns: auto 1fr; gap:2px 12px; }
  .kv span:nth-child(odd) { color:var(--muted); }
  .kv span:nth-child(even) { overflow-wrap:anywhere; }
  .pill { padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; white-space:nowrap; }
  .closed { background:#1f3a26; color:var(--ok); } .open { background:#4a1f1f; color:var(--bad); } .half_open { background:#4a3a1a; color:var(--warn); }
  .off { background:#2a2f3a; color:var(--muted); }
  .scroll { overflow-x:auto; }
  table { width:100%; border-collapse:collapse; font-size:13px; }
  td, th { text-align:left; padding:3px 6px; border-bottom:1px solid var(--line); vertical-align:top; }
  td[data-field="model"] { overflow-wrap:anywhere; }
  th { color:var(--muted); font-weight:500; }
  #chart { display:block; width:100%; height:200px; }
  #chart text { fill:var(--muted); font-size:11px; }
  #chart .grid { stroke:var(--line); stroke-width:1; }
  .ok { color:var(--ok); } .err { color:var(--bad); }
  #error { color:var(--bad); padding:0 24px; }
  @media (max-width: 520px) { header, main { padding-left:12px; padding-right:12px; } #error { padding:0 12px; } }
</style>
</head>
<body>
<header><h1>exai-mcp</h1><span class="meta" id="meta">connecting…</span></header>
<div id="error"></div>
<main>
  <div id="providers"></div>
  <section><h2>Latency, p50 solid and p95 dashed</h2><svg id="chart" role="img" aria-label="Latency per provider over the last minutes"></svg><div id="legend" class="meta"></div></section>
  <section><h2>Model jobs</h2><div class="scroll"><table><thead><tr><th>started</th><th>tool</th><th>model</th><th>phase</th><th>elapsed</th><th>collected</th><th>cost</th></tr></thead><tbody id="jobs"></tbody></table></div></section>
  <section><h2>Recent calls</h2><div class="scroll"><table><thead><tr><th>time</th><th>tool</th><th>model</th><th>duration</th><th>outcome</th></tr></thead><tbody id="calls"></tbody></table></div></section>
</main>
<script>
const token = new URLSearchParams(location.hash.slice(1)).get('token');
const headers = token ? { authorization: 'Bearer ' + token } : {};
const colors = { glm: 'var(--glm)', kimi: 'var(--kimi)' };
const esc = s => String(s ?? '').replace(/[&<>"']/g, c => ({ '&':'&amp;', '<':'&lt;', '>':'&gt;', '"':'&quot;', "'":'&#39;' }[c]));
const clock = (t, seconds) => new Date(t).toLocaleTimeString([], seconds ? { hour:'2-digit', minute:'2-digit', second:'2-digit' } : { hour:'2-digit', minute:'2-digit' });
function provider(p) {
  const state = p.configured ? p.breaker.state : 'off';
  const outcomes = Object.entries(p.outcomes).filter(([k]) => k !== 'ok').map(([k, v]) => esc(k) + ' ' + v).join(', ') || 'none';
  const last = p.lastErrors[0] ? esc(p.lastErrors[0].kind + ': ' + p.lastErrors[0].message) : '—';
  const limit = p.concurrencyLimit < p.maxConcurrency ? p.concurrencyLimit + ' (learned; max ' + p.maxConcurrency + ')' : p.maxConcurrency;
  return '<section data-provider="' + esc(p.provider) + '"><h2>' + esc(p.label) + ' <span class="pill ' + state + '" data-field="breaker">' + (p.configured ? state.replace('_', '-') : 'no key') + '</span></h2>' +
    '<div class="kv">' +
    '<span>in flight</span><span data-field="inflight">' + p.inFlight + ' / ' + limit + (p.queued ? ' (+' + p.queued + ' queued)' : '') + '</span>' +
    '<span>calls</span><span data-field="calls">' + p.calls + '</span>' +
    '<span>ok</span><span data-field="ok">' + (p.outcomes.ok || 0) + '</span>' +
    '<span>latency</span><span data-field="latency">p50 ' + p.latencyMs.p50 + ' ms · p95 ' + p.latencyMs.p95 + ' ms · p99 ' + p.latencyMs.p99 + ' ms</span>' +
    '<span>errors</span><span data-field="errors">' + outcomes + '</span>' +
    '<span>retries / stalls / fallbacks</span><span>' + p.retries + ' / ' + p.stalls + ' / ' + p.fallbacks + '</span>' +
    '<span>last error</span><span>' + last + '</span>' +
    (p.breaker.retryAt && state !== 'closed' ? '<span>probe at</span><span>' + clock(p.breaker.retryAt, true) + '</span>' : '') +
    '</div></section>';
}
// Time axis steps: the smallest that leaves each label room (a 24-hour clock, so a label is 5 or 8 digits
// wide in any locale); the window is whole steps ending at or after the last bucket, so both ends are labelled.
const STEPS = [5, 10, 15, 30, 60, 120, 300, 600].map(s => s * 1000);
const axisClock = (t, seconds) => new Date(t).toLocaleTimeString([], { hour:'2-digit', minute:'2-digit', hourCycle:'h23', ...(seconds && { second:'2-digit' }) });
function timeAxis(series, bucketMs, plotW) {
  const end = series.length ? series[series.length - 1].t + bucketMs : Date.now();
  const start = Math.min(series.length ? series[0].t : end, end - 60000);
  for (const step of STEPS) {
    const room = Math.max(1, Math.floor(plotW / (step < 60000 ? 100 : 70)));
    const t1 = Math.ceil(end / step) * step, n = Math.max(1, Math.ceil((t1 - start) / step));
    if (n <= room || step === STEPS[STEPS.length - 1]) return { t0: t1 - n * step, t1, step, n };
  }
}
let last;
function chart(series, names, bucketMs) {
  const svg = document.getElementById('chart');
  // Drawn in CSS pixels (viewBox = the rendered size), so labels keep their size at any width instead of
  // being squeezed with the lines.
  const W = Math.max(200, Math.round(svg.getBoundingClientRect().width)), H = 200;
  const L = 56, R = 12, T = 10, B = 24, plotW = W - L - R, plotH = H - T - B;
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  const { t0, t1, step, n } = timeAxis(series, bucketMs, plotW);
  const max = Math.max(10, ...series.flatMap(s => Object.values(s.providers).map(v => v.p95)));
  const x = t => L + plotW * (t - t0) / (t1 - t0), y = v => T + plotH - plotH * v / max;
  let out = '<g class="y-axis">';
  for (const v of [0, max / 2, max]) {
    out += '<line class="grid" x1="' + L + '" x2="' + (W - R) + '" y1="' + y(v).toFixed(1) + '" y2="' + y(v).toFixed(1) + '"/>' +
      '<text x="' + (L - 6) + '" y="' + (y(v) + 4).toFixed(1) + '" text-anchor="end">' + Math.round(v) + ' ms</text>';
  }
  out += '</g><g class="x-axis">';
  for (let k = 0; k <= n; k++) {
    const t = t0 + k * step, at = x(t).toFixed(1);
    const anchor = k === 0 ? 'start' : k === n ? 'end' : 'middle';
    out += '<line class="grid" x1="' + at + '" x2="' + at + '" y1="' + T + '" y2="' + (T + plotH + 4) + '"/>' +
      '<text x="' + at + '" y="' + (H - 6) + '" text-anchor="' + anchor + '">' + axisClock(t, step < 60000) + '</text>';
  }
  out += '</g>';
  for (const name of names) {
    for (const [key, dash] of [['p50', ''], ['p95', '6 4']]) {
      const pts = series.filter(s => s.providers[name]).map(s => [x(s.t + bucketMs / 2).toFixed(1), y(s.providers[name][key]).toFixed(1)]);
      if (!pts.length) continue;
      out += '<polyline fill="none" stroke="' + colors[name] + '" stroke-width="2" stroke-dasharray="' + dash + '" points="' + pts.map(p => p.join(',')).join(' ') + '"/>';
      if (!dash) out += pts.map(p => '<circle r="3" fill="' + colors[name] + '" cx="' + p[0] + '" cy="' + p[1] + '"/>').join('');
    }
  }
  svg.innerHTML = out;
  document.getElementById('legend').innerHTML = names.map(n => '<span style="color:' + colors[n] + '">■ ' + esc(n) + '</span>').join(' &nbsp; ');
}
function draw() {
  if (last) chart(last.series, last.providers.map(p => p.provider), last.bucketMs);
}
async function refresh() {
  try {
    const res = await fetch('/status.json', { headers, cache: 'no-store' });
    if (!res.ok) throw new Error(res.status === 401 ? 'unauthorized: open this page as /#token=<EXAI_HTTP_TOKEN>' : 'HTTP ' + res.status);
    const s = await res.json();
    last = s;
    document.getElementById('error').textContent = '';
    document.getElementById('meta').textContent = 'v' + s.version + ' · up ' + s.uptimeSecs + ' s · deadlines workflow ' + s.deadlines.workflowSecs + ' s ⊃ expert ' + s.deadlines.expertSecs + ' s ⊃ GLM ' + s.deadlines.glmSecs + ' s / Kimi ' + s.deadlines.kimiSecs + ' s';
    document.getElementById('providers').innerHTML = s.providers.map(provider).join('');
    draw();
    document.getElementById('jobs').innerHTML = s.jobs.map(j => '<tr><td>' + clock(j.started_at, true) + '</td><td>' + esc(j.tool) + '</td><td>' + esc(j.model) + '</td><td class="' + (j.phase === 'failed' || j.phase === 'cancelled' ? 'err' : 'ok') + '">' + esc(j.phase) + (j.note ? ' · ' + esc(j.note) : '') + '</td><td>' + j.elapsed_s + ' s</td><td>' + (j.collected ? 'yes' : 'no') + '</td><td>' + (j.cost_usd === undefined ? '—' : '$' + j.cost_usd) + '</td></tr>').join('') || '<tr><td colspan="7">none</td></tr>';
    document.getElementById('calls').innerHTML = s.recentCalls.map(c => '<tr><td>' + clock(c.at, true) + '</td><td data-field="tool">' + esc(c.tool) + '</td><td data-field="model">' + esc(c.model || '—') + '</td><td>' + c.ms + ' ms</td><td class="' + (c.outcome === 'ok' ? 'ok' : 'err') + '">' + esc(c.outcome) + '</td></tr>').join('');
  } catch (e) {
    document.getElementById('error').textContent = 'status unavailable: ' + e.message;
  }
}
addEventListener('resize', draw);
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
`;
