/**
 * The live status page: GET / serves a static shell (no data, no build step); its script polls
 * GET /status.json, which carries the numbers and follows the same rules as /mcp (Host/Origin checks and the
 * bearer token, which the page takes from the URL fragment — never sent to the server in the URL).
 */

import type { Activity } from '../observability/activity.js';
import type { App } from './app.js';

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
      calls: p.stats.calls,
      outcomes: p.stats.outcomes,
      latencyMs: p.stats.latencyMs,
      retries: p.stats.retries,
      stalls: p.stats.stalls,
      fallbacks: p.stats.fallbacks,
      lastErrors: p.stats.lastErrors.slice(0, 5),
    })),
    series: activity.series(),
    recentCalls: activity.recent(),
    jobs: app.jobs.list(),
  };
}

export const STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>exai-mcp status</title>
<style>
  :root { --bg:#0f1115; --panel:#171a21; --text:#e6e6e6; --muted:#8b93a1; --ok:#3fb950; --warn:#d29922; --bad:#f85149; --glm:#58a6ff; --kimi:#bc8cff; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.45 system-ui, sans-serif; background:var(--bg); color:var(--text); }
  header { padding:16px 24px; display:flex; gap:16px; align-items:baseline; border-bottom:1px solid #262b36; }
  header h1 { font-size:18px; margin:0; }
  header .meta { color:var(--muted); }
  main { padding:16px 24px; display:grid; gap:16px; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); }
  section { background:var(--panel); border:1px solid #262b36; border-radius:8px; padding:14px 16px; }
  h2 { font-size:15px; margin:0 0 10px; display:flex; justify-content:space-between; }
  .kv { display:grid; grid-template-columns: auto 1fr; gap:2px 12px; }
  .kv span:nth-child(odd) { color:var(--muted); }
  .pill { padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; }
  .closed { background:#1f3a26; color:var(--ok); } .open { background:#4a1f1f; color:var(--bad); } .half_open { background:#4a3a1a; color:var(--warn); }
  .off { background:#2a2f3a; color:var(--muted); }
  table { width:100%; border-collapse:collapse; font-size:13px; }
  td, th { text-align:left; padding:3px 6px; border-bottom:1px solid #262b36; }
  th { color:var(--muted); font-weight:500; }
  .wide { grid-column: 1 / -1; }
  svg { width:100%; height:180px; }
  .ok { color:var(--ok); } .err { color:var(--bad); }
  #error { color:var(--bad); padding:0 24px; }
</style>
</head>
<body>
<header><h1>exai-mcp</h1><span class="meta" id="meta">connecting…</span></header>
<div id="error"></div>
<main>
  <div id="providers" style="display:contents"></div>
  <section class="wide"><h2>Latency (p50 solid, p95 dashed), last minutes</h2><svg id="chart" viewBox="0 0 1000 180" preserveAspectRatio="none"></svg><div id="legend" class="meta"></div></section>
  <section class="wide"><h2>Model jobs</h2><table><thead><tr><th>started</th><th>tool</th><th>model</th><th>phase</th><th>elapsed</th><th>collected</th><th>cost</th></tr></thead><tbody id="jobs"></tbody></table></section>
  <section class="wide"><h2>Recent calls</h2><table><thead><tr><th>time</th><th>tool</th><th>model</th><th>duration</th><th>outcome</th></tr></thead><tbody id="calls"></tbody></table></section>
</main>
<script>
const token = new URLSearchParams(location.hash.slice(1)).get('token');
const headers = token ? { authorization: 'Bearer ' + token } : {};
const colors = { glm: 'var(--glm)', kimi: 'var(--kimi)' };
const esc = s => String(s ?? '').replace(/[&<>"']/g, c => ({ '&':'&amp;', '<':'&lt;', '>':'&gt;', '"':'&quot;', "'":'&#39;' }[c]));
function provider(p) {
  const state = p.configured ? p.breaker.state : 'off';
  const outcomes = Object.entries(p.outcomes).filter(([k]) => k !== 'ok').map(([k, v]) => esc(k) + ' ' + v).join(', ') || 'none';
  const last = p.lastErrors[0] ? esc(p.lastErrors[0].kind + ': ' + p.lastErrors[0].message) : '—';
  return '<section data-provider="' + p.provider + '"><h2>' + esc(p.label) + ' <span class="pill ' + state + '" data-field="breaker">' + (p.configured ? state.replace('_', '-') : 'no key') + '</span></h2>' +
    '<div class="kv">' +
    '<span>in flight</span><span data-field="inflight">' + p.inFlight + ' / ' + p.maxConcurrency + (p.queued ? ' (+' + p.queued + ' queued)' : '') + '</span>' +
    '<span>calls</span><span data-field="calls">' + p.calls + '</span>' +
    '<span>ok</span><span data-field="ok">' + (p.outcomes.ok || 0) + '</span>' +
    '<span>latency</span><span data-field="latency">p50 ' + p.latencyMs.p50 + ' ms · p95 ' + p.latencyMs.p95 + ' ms · p99 ' + p.latencyMs.p99 + ' ms</span>' +
    '<span>errors</span><span data-field="errors">' + outcomes + '</span>' +
    '<span>retries / stalls / fallbacks</span><span>' + p.retries + ' / ' + p.stalls + ' / ' + p.fallbacks + '</span>' +
    '<span>last error</span><span>' + last + '</span>' +
    (p.breaker.retryAt && state !== 'closed' ? '<span>probe at</span><span>' + new Date(p.breaker.retryAt).toLocaleTimeString() + '</span>' : '') +
    '</div></section>';
}
function chart(series, names) {
  const svg = document.getElementById('chart');
  const max = Math.max(10, ...series.flatMap(s => Object.values(s.providers).map(v => v.p95)));
  const t0 = series.length ? series[0].t : 0, t1 = series.length ? series[series.length - 1].t : 1;
  const x = t => t1 === t0 ? 990 : 10 + 980 * (t - t0) / (t1 - t0), y = v => 175 - 165 * v / max;
  let out = '<text x="4" y="12" fill="#8b93a1" font-size="11">' + Math.round(max) + ' ms</text>';
  for (const name of names) {
    for (const [key, dash] of [['p50', ''], ['p95', '6 4']]) {
      const pts = series.filter(s => s.providers[name]).map(s => [x(s.t).toFixed(1), y(s.providers[name][key]).toFixed(1)]);
      if (!pts.length) continue;
      out += '<polyline fill="none" stroke="' + colors[name] + '" stroke-width="2" stroke-dasharray="' + dash + '" points="' + pts.map(p => p.join(',')).join(' ') + '"/>';
      if (!dash) out += pts.map(p => '<circle r="3" fill="' + colors[name] + '" cx="' + p[0] + '" cy="' + p[1] + '"/>').join('');
    }
  }
  svg.innerHTML = out;
  document.getElementById('legend').innerHTML = names.map(n => '<span style="color:' + colors[n] + '">■ ' + n + '</span>').join(' &nbsp; ');
}
async function refresh() {
  try {
    const res = await fetch('/status.json', { headers, cache: 'no-store' });
    if (!res.ok) throw new Error(res.status === 401 ? 'unauthorized: open this page as /#token=<EXAI_HTTP_TOKEN>' : 'HTTP ' + res.status);
    const s = await res.json();
    document.getElementById('error').textContent = '';
    document.getElementById('meta').textContent = 'v' + s.version + ' · up ' + s.uptimeSecs + ' s · deadlines workflow ' + s.deadlines.workflowSecs + ' s ⊃ expert ' + s.deadlines.expertSecs + ' s ⊃ GLM ' + s.deadlines.glmSecs + ' s / Kimi ' + s.deadlines.kimiSecs + ' s';
    document.getElementById('providers').innerHTML = s.providers.map(provider).join('');
    chart(s.series, s.providers.map(p => p.provider));
    document.getElementById('jobs').innerHTML = s.jobs.map(j => '<tr><td>' + new Date(j.started_at).toLocaleTimeString() + '</td><td>' + esc(j.tool) + '</td><td>' + esc(j.model) + '</td><td class="' + (j.phase === 'failed' || j.phase === 'cancelled' ? 'err' : 'ok') + '">' + esc(j.phase) + (j.note ? ' · ' + esc(j.note) : '') + '</td><td>' + j.elapsed_s + ' s</td><td>' + (j.collected ? 'yes' : 'no') + '</td><td>' + (j.cost_usd === undefined ? '—' : '$' + j.cost_usd) + '</td></tr>').join('') || '<tr><td colspan="7">none</td></tr>';
    document.getElementById('calls').innerHTML = s.recentCalls.map(c => '<tr><td>' + new Date(c.at).toLocaleTimeString() + '</td><td>' + esc(c.tool) + '</td><td>' + esc(c.model || '—') + '</td><td>' + c.ms + ' ms</td><td class="' + (c.outcome === 'ok' ? 'ok' : 'err') + '">' + esc(c.outcome) + '</td></tr>').join('');
  } catch (e) {
    document.getElementById('error').textContent = 'status unavailable: ' + e.message;
  }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
`;
