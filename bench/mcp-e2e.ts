/**
 * 2. MCP end to end: the `chat` tool over Streamable HTTP, 64 concurrent clients (one session each), instant
 * provider, against a minimal MCP SDK server with an echo tool measured in the same run. Three processes:
 * this one generates the load (bench/lib/mcp-client.ts), the server under test, and the fake provider.
 * BENCH_MCP_COMPARE=/path/to/other/checkout/bench/mcp-server.ts adds that checkout's server (e.g. the previous
 * commit's) to the same alternation, for a before/after on a busy machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { BENCH_ENV, shownSettings } from './lib/gateway.js';
import { closedLoop } from './lib/load.js';
import { McpLoadClient } from './lib/mcp-client.js';
import { type McpProcess, startMcpProcess } from './lib/mcp-process.js';
import type { Goal, Scenario, ScenarioResult } from './lib/scenario.js';
import { median, ms, rate, ratio, summarize } from './lib/stats.js';

const CLIENTS = 64;
const DURATION_MS = 4_000;

type Target = 'exai' | 'exaiMemory' | 'echo' | 'compare';
const COMPARE = process.env.BENCH_MCP_COMPARE;
const TARGETS: Target[] = ['exai', 'exaiMemory', 'echo', ...(COMPARE ? (['compare'] as const) : [])];

interface Measured {
  throughput: number;
  p50: number;
  p99: number;
  errors: number;
  serverCpu: number;
  loadGenCpu: number;
}

async function measure(server: McpProcess, target: Target, durationMs: number): Promise<Measured> {
  const agent = new Agent({ connections: CLIENTS });
  try {
    const clients = Array.from({ length: CLIENTS }, () => new McpLoadClient(server.url, agent));
    await Promise.all(clients.map(c => c.initialize()));
    let next = 0;
    const call = async () => {
      const client = clients[next++ % CLIENTS] as McpLoadClient;
      const response =
        target === 'echo'
          ? await client.callTool('echo', { text: 'hello' })
          : await client.callTool('chat', { prompt: 'hello' });
      if (response.error || response.result?.isError) {
        throw new Error(JSON.stringify(response.error ?? response.result?.content).slice(0, 300));
      }
    };
    await closedLoop(call, { concurrency: CLIENTS, durationMs: 500, maxCalls: 50_000 });
    const s0 = await server.cpu();
    const c0 = process.cpuUsage();
    const load = await closedLoop(call, { concurrency: CLIENTS, durationMs, maxCalls: 1_000_000 });
    const c1 = process.cpuUsage(c0);
    const s1 = await server.cpu();
    const s = summarize(load.latencies);
    if (load.errors > 0) {
      throw new Error(
        `mcp ${target}: ${load.errors} calls failed, first: ${(load.firstError as Error).message}`,
      );
    }
    return {
      throughput: (load.calls / load.wallMs) * 1000,
      p50: s.p50,
      p99: s.p99,
      errors: load.errors,
      serverCpu: (s1.user + s1.system - s0.user - s0.system) / 1000 / load.wallMs,
      loadGenCpu: (c1.user + c1.system) / 1000 / load.wallMs,
    };
  } finally {
    await agent.close();
  }
}

export const mcpEndToEnd: Scenario = {
  name: 'mcp',
  title: '2. MCP end to end (chat over Streamable HTTP, 64 clients, instant provider)',
  defaultRuns: 3,
  async run(ctx): Promise<ScenarioResult> {
    const fake = await ctx.fake.start();
    const dataDir = mkdtempSync(join(tmpdir(), 'exai-bench-'));
    const env = {
      ...BENCH_ENV,
      GLM_API_URL: `${fake.url}/v1`,
      KIMI_API_URL: `${fake.url}/v1`,
      GLM_MAX_CONCURRENCY: String(CLIENTS),
      PROVIDER_MAX_CONNECTIONS: String(CLIENTS),
      EXAI_DATA_DIR: dataDir,
      EXAI_ALLOWED_ROOTS: dataDir,
    };
    const servers: Partial<Record<Target, McpProcess>> = {
      exai: await startMcpProcess('exai', env),
      exaiMemory: await startMcpProcess('exai', { ...env, EXAI_STORE: 'memory' }),
      echo: await startMcpProcess('echo', {}),
      ...(COMPARE && { compare: await startMcpProcess('exai', env, COMPARE) }),
    };
    const results: Record<Target, Measured[]> = { exai: [], exaiMemory: [], echo: [], compare: [] };
    try {
      for (let run = 0; run < ctx.runs; run++) {
        const order = TARGETS.map((_, i) => TARGETS[(i + run) % TARGETS.length] as Target);
        for (const target of order) {
          const server = servers[target] as McpProcess;
          results[target].push(await measure(server, target, DURATION_MS));
        }
        ctx.log(`mcp: run ${run + 1}/${ctx.runs} done`);
      }
    } finally {
      await Promise.all(Object.values(servers).map(s => s?.close()));
      rmSync(dataDir, { recursive: true, force: true });
    }

    const med = (t: Target, f: keyof Measured) => median(results[t].map(m => m[f]));
    const vsEcho = (t: Target) =>
      median(results[t].map((m, i) => m.throughput / (results.echo[i]?.throughput ?? Number.NaN)));
    const perRun = vsEcho('exai');
    /** Server CPU per call against the echo server's, per run (same alternation), median. */
    const cpuVsEcho = median(
      results.exai.map((m, i) => {
        const echo = results.echo[i];
        return echo ? m.serverCpu / m.throughput / (echo.serverCpu / echo.throughput) : Number.NaN;
      }),
    );
    const LABELS: Record<Target, string> = {
      exai: 'exai-mcp `chat` (SQLite store, the default)',
      exaiMemory: '(diagnostic) exai-mcp `chat`, EXAI_STORE=memory',
      echo: 'MCP SDK echo server',
      compare: '(comparison) `chat` on the BENCH_MCP_COMPARE checkout',
    };
    const rows = TARGETS.map(t => [
      LABELS[t],
      rate(med(t, 'throughput')),
      ms(med(t, 'p50'), 2),
      ms(med(t, 'p99'), 2),
      ratio(vsEcho(t)),
      `${Math.round((med(t, 'serverCpu') * 1e6) / med(t, 'throughput'))} µs`,
      `${Math.round(med(t, 'serverCpu') * 100)} %`,
      `${Math.round(med(t, 'loadGenCpu') * 100)} %`,
    ]);
    const goals: Goal[] = [
      {
        goal: '≥ 2,000 chat calls/s on 2 cores',
        measured: rate(med('exai', 'throughput')),
        met: med('exai', 'throughput') >= 2_000,
      },
      { goal: 'p99 ≤ 20 ms', measured: ms(med('exai', 'p99'), 2), met: med('exai', 'p99') <= 20 },
      { goal: 'ratio ≥ 0.6 of the echo server', measured: ratio(perRun), met: perRun >= 0.6 },
      {
        goal: 'throughput ≥ 0.45× the echo server',
        measured: ratio(perRun),
        met: perRun >= 0.45,
      },
      {
        goal: 'server CPU per call ≤ 2× the echo server’s',
        measured: ratio(cpuVsEcho),
        met: cpuVsEcho <= 2,
      },
    ];
    return {
      name: 'mcp',
      title: mcpEndToEnd.title,
      setup: [
        `exai: \`createApp\` + \`startHttpServer\` (what \`exai-mcp http\` runs) in its own process; ${shownSettings({ GLM_MAX_CONCURRENCY: env.GLM_MAX_CONCURRENCY, PROVIDER_MAX_CONNECTIONS: env.PROVIDER_MAX_CONNECTIONS, LOG_LEVEL: 'info' })} (logs to /dev/null), conversation store SQLite in a temp dir (the default store); GLM → fake \`ok\` (instant) in a third process`,
        'echo: `McpServer` with one echo tool, sessions on `NodeStreamableHTTPServerTransport`, plain node:http',
        `load: ${CLIENTS} clients, one 2025-06-18 session each, closed loop of \`tools/call\` for ${DURATION_MS / 1000} s after a 0.5 s warm-up; a lean undici JSON-RPC client (the SDK Client would need more CPU than the server it measures); ${ctx.runs} runs, alternating order, medians`,
        ...(COMPARE
          ? [`comparison: \`${COMPARE}\` (BENCH_MCP_COMPARE), the same settings, in the same alternation`]
          : []),
      ],
      tables: [
        {
          headers: [
            'server',
            'calls/s',
            'p50',
            'p99',
            'vs echo',
            'server CPU/call',
            'server CPU',
            'load-gen CPU',
          ],
          rows,
        },
      ],
      goals,
      notes: [
        'Orientation (brief): the bare SDK v2 echo server does ≈1,100 calls/s stateless, ≈3,200 calls/s with a session reused.',
        'Each `chat` call: tool input validation, a new conversation thread and two turns written to SQLite, the model call through the full provider stack (streamed), the answer formatted with its continuation_id.',
        'CPU columns: CPU time of that process over the wall time (100 % = one core). The fake provider takes the rest of the second core during `chat`.',
      ],
    };
  },
};
