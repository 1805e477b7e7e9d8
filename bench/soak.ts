/**
 * 7. Soak (`npm run soak [-- --minutes N]`, default 10): mixed MCP traffic over Streamable HTTP at a fixed rate
 * for N minutes, 20 % of it injected faults, against the exai server in its own process. Faults are models of
 * a models file whose names pick a fake-provider mode (`fake-<spec>`), so each call knows what it should get.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { BENCH_ENV, shownSettings } from './lib/gateway.js';
import { McpLoadClient, type RpcResponse } from './lib/mcp-client.js';
import { startMcpProcess } from './lib/mcp-process.js';
import type { Goal, Scenario, ScenarioResult } from './lib/scenario.js';
import { mb, median, ms, sleep, summarize } from './lib/stats.js';

const RATE = 40; // calls per second
const SESSIONS = 16;
const MAX_IN_FLIGHT = 400;
const TICK_MS = 25;

interface Kind {
  /** A model of the models file (`fake-<spec>`) or a built-in; undefined for tools without a model. */
  model?: string;
  tool: 'chat' | 'status' | 'listmodels';
  weight: number;
  /** The error_kind the call must end with; undefined: it must succeed. */
  expect?: string;
  /** Which provider serves the model; default: Kimi for faults, GLM for healthy calls. */
  provider?: 'glm' | 'kimi';
  /** Answered in_progress and never collected: the job runs on alone, then its answer waits unclaimed. */
  abandon?: boolean;
}

/** With --abandon: slower than the soft budget (0.5 s), within the provider budget (2 s). */
const ABANDONED: Kind = {
  tool: 'chat',
  model: 'fake-delay,ms=1500',
  weight: 0,
  expect: 'in_progress',
  abandon: true,
  // On GLM, beside the healthy traffic: on Kimi they would fill its concurrency slots and queue the faults.
  provider: 'glm',
};
const ABANDON_SETTINGS = { EXAI_SOFT_RETURN_SECS: '0.5', EXAI_JOB_GRACE_SECS: '1' };

// 80 % healthy traffic (four latencies, both providers, two cheap tools), 20 % faults (eight kinds, all on
// Kimi models).
const MIX: Kind[] = [
  { tool: 'chat', model: 'fake-ok', weight: 40 },
  { tool: 'chat', model: 'fake-ok,chunks=10,every=5', weight: 20 },
  { tool: 'chat', model: 'fake-delay,ms=200', weight: 7 },
  // Healthy Kimi traffic: it shares the Kimi breaker with the faults and resets its consecutive count.
  { tool: 'chat', model: 'fake-delay,ms=20', weight: 7, provider: 'kimi' },
  { tool: 'status', weight: 3 },
  { tool: 'listmodels', weight: 3 },
  {
    tool: 'chat',
    model: 'fake-status,code=503,flavor=kimi,type=engine_overloaded_error',
    weight: 3,
    expect: 'overloaded',
  },
  {
    tool: 'chat',
    model: 'fake-status,code=429,flavor=kimi,retryafterms=20',
    weight: 3,
    expect: 'rate_limited',
  },
  { tool: 'chat', model: 'fake-status,code=500,flavor=kimi', weight: 2, expect: 'upstream_error' },
  { tool: 'chat', model: 'fake-status,code=400,flavor=kimi', weight: 3, expect: 'bad_request' },
  { tool: 'chat', model: 'fake-malformed', weight: 3, expect: 'protocol' },
  // Headers and keep-alive comments, never content: the first-token watchdog (0.5 s) calls it stalled.
  { tool: 'chat', model: 'fake-drip,every=100', weight: 2, expect: 'stalled' },
  // No headers at all: also the first-token watchdog, which runs from the moment the attempt starts.
  { tool: 'chat', model: 'fake-hang', weight: 2, expect: 'stalled' },
  // Content every 300 ms (never stalled) for longer than the 2 s budget: the deadline ends it.
  // (40 characters, so each of the 20 chunks carries content: an empty one would not reset the watchdog.)
  {
    tool: 'chat',
    model: `fake-slow,chunks=20,every=300,content=${'x'.repeat(40)}`,
    weight: 2,
    expect: 'timeout',
  },
];
const FAULT_SHARE = MIX.filter(k => k.expect).reduce((s, k) => s + k.weight, 0) / 100;

function modelsFile(dir: string, mix: readonly Kind[]): string {
  const models = mix
    .filter(k => k.model)
    .map(k => ({
      name: k.model,
      provider: k.provider ?? (k.expect ? 'kimi' : 'glm'),
      contextWindow: 32_000,
      maxOutputTokens: 1_000,
      thinking: 'none',
    }));
  const path = join(dir, 'models.json');
  writeFileSync(path, JSON.stringify({ models }));
  return path;
}

function pick(mix: readonly Kind[]): Kind {
  let r = Math.random() * mix.reduce((sum, k) => sum + k.weight, 0);
  for (const k of mix) {
    r -= k.weight;
    if (r < 0) return k;
  }
  return mix[0] as Kind;
}

/** Model jobs the server reports as running (its status tool). */
async function runningJobs(client: McpLoadClient): Promise<number> {
  const response = await client.callTool('status', {});
  const report = response.result?.structuredContent as
    | { content?: { jobs?: Array<{ phase: string }> } }
    | undefined;
  const jobs = report?.content?.jobs ?? [];
  return jobs.filter(j => !['done', 'failed', 'cancelled'].includes(j.phase)).length;
}

function outcomeOf(response: RpcResponse): string {
  if (response.error) return `rpc_error ${response.error.code}`;
  const result = response.result ?? {};
  if ((result.structuredContent as { status?: string } | undefined)?.status === 'in_progress')
    return 'in_progress';
  if (!result.isError) return 'ok';
  const meta = (result.structuredContent as { metadata?: { error_kind?: string } } | undefined)?.metadata;
  return meta?.error_kind ?? 'error';
}

interface Sample {
  atMs: number;
  rss: number;
  heapUsed: number;
  handles: Record<string, number>;
  inFlight: number;
}

export const soak: Scenario = {
  name: 'soak',
  title: '7. Soak (mixed MCP traffic at a fixed rate, 20 % injected faults)',
  defaultRuns: 1,
  async run(ctx): Promise<ScenarioResult> {
    const minutes = Number(ctx.flags.minutes ?? 10);
    // The share of all calls abandoned mid-job: MIX's weights sum to 100, so this weight makes it that share.
    const abandonShare = Math.min(0.9, Math.max(0, Number(ctx.flags.abandon ?? 0)));
    const mix: Kind[] =
      abandonShare > 0 ? [...MIX, { ...ABANDONED, weight: (100 * abandonShare) / (1 - abandonShare) }] : MIX;
    const durationMs = Math.max(0.25, minutes) * 60_000;
    const warmupMs = Math.min(60_000, durationMs * 0.2);
    const fake = await ctx.fake.start();
    const dir = mkdtempSync(join(tmpdir(), 'exai-soak-'));
    const settings = {
      GLM_TIMEOUT_SECS: '2',
      KIMI_TIMEOUT_SECS: '2',
      PROVIDER_FIRST_TOKEN_TIMEOUT_SECS: '0.5',
      PROVIDER_MAX_RETRIES: '1',
      PROVIDER_RETRY_BASE_MS: '10',
      PROVIDER_RETRY_CAP_MS: '50',
      BREAKER_FAILURE_THRESHOLD: '1000',
      // The fake takes any number of calls at once; the defaults (2 and 1) fit a small account and would make
      // the soak measure queueing behind them, not the server: its calls would time out waiting for a slot.
      GLM_MAX_CONCURRENCY: '64',
      KIMI_MAX_CONCURRENCY: '64',
      ...(abandonShare > 0 && ABANDON_SETTINGS),
    };
    const server = await startMcpProcess('exai', {
      ...BENCH_ENV,
      ...settings,
      GLM_API_URL: `${fake.url}/v1`,
      KIMI_API_URL: `${fake.url}/v1`,
      EXAI_MODELS_FILE: modelsFile(dir, mix),
      EXAI_DATA_DIR: dir,
      EXAI_ALLOWED_ROOTS: dir,
    });
    const agent = new Agent({ connections: SESSIONS * 4 });
    const byKind = new Map<string, { calls: number; outcomes: Map<string, number>; latencies: number[] }>();
    const samples: Sample[] = [];
    let inFlight = 0;
    let issued = 0;
    let skipped = 0;
    let clientErrors = 0;
    let firstClientError = '';
    const counts = (list: string[]) =>
      list.reduce<Record<string, number>>((acc, name) => {
        acc[name] = (acc[name] ?? 0) + 1;
        return acc;
      }, {});
    const sampleNow = async (startedAt: number) => {
      const [cpu, resources] = await Promise.all([server.cpu(), server.resources()]);
      samples.push({
        atMs: performance.now() - startedAt,
        rss: cpu.rss,
        heapUsed: cpu.heapUsed,
        handles: counts(resources),
        inFlight,
      });
    };

    try {
      const clients = Array.from({ length: SESSIONS }, () => new McpLoadClient(server.url, agent));
      await Promise.all(clients.map(c => c.initialize()));
      const calls = new Set<Promise<void>>();
      const issue = () => {
        const kind = pick(mix);
        const key = `${kind.tool}${kind.model ? ` ${kind.model}` : ''}`;
        const client = clients[issued++ % SESSIONS] as McpLoadClient;
        inFlight++;
        const t0 = performance.now();
        // An abandoned question is asked once: the same prompt would join the job of an earlier one.
        const prompt = kind.abandon ? `abandoned ${issued}` : 'hello';
        const args = kind.tool === 'chat' ? { prompt, model: kind.model } : {};
        const call = client
          .callTool(kind.tool, args)
          .then(
            response => {
              let entry = byKind.get(key);
              if (!entry) {
                entry = { calls: 0, outcomes: new Map(), latencies: [] };
                byKind.set(key, entry);
              }
              const outcome = outcomeOf(response);
              entry.calls++;
              entry.outcomes.set(outcome, (entry.outcomes.get(outcome) ?? 0) + 1);
              entry.latencies.push(performance.now() - t0);
            },
            (error: unknown) => {
              clientErrors++;
              firstClientError ||= String((error as Error)?.message ?? error);
            },
          )
          .finally(() => {
            inFlight--;
            calls.delete(call);
          });
        calls.add(call);
      };

      const startedAt = performance.now();
      let nextSampleAt = 0;
      let due = 0;
      ctx.log(`soak: ${minutes} min at ${RATE} calls/s`);
      while (performance.now() - startedAt < durationMs) {
        due += (RATE * TICK_MS) / 1000;
        while (due >= 1) {
          due--;
          if (inFlight >= MAX_IN_FLIGHT) skipped++;
          else issue();
        }
        const elapsed = performance.now() - startedAt;
        if (elapsed >= nextSampleAt) {
          await sampleNow(startedAt);
          nextSampleAt += Math.min(10_000, durationMs / 30);
          if (samples.length % 6 === 0) ctx.log(`soak: ${Math.round(elapsed / 1000)} s, ${issued} calls`);
        }
        await sleep(TICK_MS);
      }
      // Drain: every call is bounded by its deadline (2 s) plus the MCP round trip.
      const drainStarted = performance.now();
      while (calls.size > 0 && performance.now() - drainStarted < 10_000) await sleep(20);
      const stuck = calls.size;
      // Abandoned jobs run on after their calls: past the longest (the 2 s provider budget) and the grace.
      if (abandonShare > 0) await sleep(3_500);
      const jobsLeft = await runningJobs(clients[0] as McpLoadClient);
      await agent.close();
      await sleep(1_000);
      await sampleNow(startedAt);
      const end = samples[samples.length - 1] as Sample;
      const fakeAfterTraffic = await fake.stats();
      await server.close();
      const fakeAfterClose = await fake.waitForOpenSockets(0, 5_000).catch(() => fake.stats());

      // Results.
      // RSS saws up and down with the collector: compare the median of the first and of the last third of
      // the samples after the warm-up rather than two single points.
      const afterWarmup = samples.filter(s => s.atMs >= warmupMs && s !== end);
      const third = Math.max(1, Math.floor(afterWarmup.length / 3));
      const early = median(afterWarmup.slice(0, third).map(s => s.rss));
      const late = median(afterWarmup.slice(-third).map(s => s.rss));
      const peakAfter = Math.max(...afterWarmup.map(s => s.rss));
      const growth = (late - early) / early;
      const unexpected: string[] = [];
      const rows: string[][] = [];
      let faults = 0;
      let faultsCorrect = 0;
      for (const kind of mix) {
        const key = `${kind.tool}${kind.model ? ` ${kind.model}` : ''}`;
        const entry = byKind.get(key);
        if (!entry) continue;
        const want = kind.expect ?? 'ok';
        let correct = 0;
        for (const [outcome, n] of entry.outcomes) {
          // An open breaker is a correct answer to a fault too (it is held closed here; it should not open).
          // With soft return on, a fault slower than the soft budget answers in_progress before it fails.
          const late =
            abandonShare > 0 && (want === 'timeout' || want === 'stalled') && outcome === 'in_progress';
          if (outcome === want || late || (kind.expect && outcome === 'circuit_open')) correct += n;
          else unexpected.push(`${key}: ${outcome} ×${n}`);
        }
        if (kind.expect && !kind.abandon) {
          faults += entry.calls;
          faultsCorrect += correct;
        }
        const s = summarize(entry.latencies);
        rows.push([
          key,
          want,
          entry.calls.toLocaleString('en-US'),
          [...entry.outcomes].map(([o, n]) => `${o} ×${n}`).join(', '),
          ms(s.p50, 1),
          ms(s.p99, 1),
        ]);
      }
      const handleKeys = [...new Set(samples.flatMap(s => Object.keys(s.handles)))].sort();
      const handleRow = (s: Sample) => handleKeys.map(k => `${k} ${s.handles[k] ?? 0}`).join(', ');
      const healthyCalls = mix
        .filter(k => !k.expect)
        .reduce((n, k) => {
          const key = `${k.tool}${k.model ? ` ${k.model}` : ''}`;
          return n + (byKind.get(key)?.calls ?? 0);
        }, 0);
      const idleTimers = end.handles.Timeout ?? 0;
      const idleSockets = end.handles.TCPSocketWrap ?? 0;
      const goals: Goal[] = [
        {
          goal: 'RSS growth ≤ 10 % after warm-up',
          measured: `${(growth * 100).toFixed(1)} % (median of the first third after the warm-up ${mb(early)} → of the last third ${mb(late)}; peak ${mb(peakAfter)})`,
          met: growth <= 0.1,
        },
        {
          goal: 'no leaked sockets',
          measured: `after the traffic: upstream requests in flight ${fakeAfterTraffic.activeRequests}, upstream sockets open ${fakeAfterTraffic.openSockets} (idle keep-alive, ≤ PROVIDER_MAX_CONNECTIONS per origin), server sockets holding the loop ${idleSockets}; after the server closed: ${fakeAfterClose.openSockets}`,
          met: fakeAfterTraffic.activeRequests === 0 && fakeAfterClose.openSockets === 0 && idleSockets === 0,
        },
        {
          goal: 'no leaked handles or timers',
          measured: `server once idle: ${handleRow(end)}; calls still running 10 s after the traffic stopped: ${stuck}; model jobs still running after the grace periods: ${jobsLeft}`,
          met: stuck === 0 && idleTimers <= 5 && jobsLeft === 0,
        },
        {
          goal: 'no errors other than the injected ones, each classified correctly',
          measured: `${healthyCalls.toLocaleString('en-US')} healthy calls, ${faults.toLocaleString('en-US')} faults (${faultsCorrect.toLocaleString('en-US')} classified as injected); unexpected: ${unexpected.length ? unexpected.join('; ') : 'none'}; client errors ${clientErrors}${firstClientError ? ` (${firstClientError})` : ''}; skipped (over ${MAX_IN_FLIGHT} in flight) ${skipped}`,
          met: unexpected.length === 0 && clientErrors === 0 && skipped === 0 && faultsCorrect === faults,
        },
      ];
      const timeline = samples.map(s => [
        `${Math.round(s.atMs / 1000)} s`,
        mb(s.rss),
        mb(s.heapUsed),
        String(s.inFlight),
        handleRow(s),
      ]);
      return {
        name: 'soak',
        title: soak.title,
        setup: [
          `${minutes} min at ${RATE} calls/s (open loop, ${SESSIONS} sessions), ${Math.round(FAULT_SHARE * 100)} % faults${abandonShare > 0 ? ` plus ${Math.round(abandonShare * 100)} % of all calls abandoned mid-job (in_progress at the 0.5 s soft budget, never collected)` : ''}; warm-up ${Math.round(warmupMs / 1000)} s; exai server in its own process (SQLite store, info logs to /dev/null), fake in another`,
          `${shownSettings(settings)}; fallback off; faults run on Kimi models, healthy chat on GLM models (separate breakers), the breaker held closed so every fault reaches the error mapping (it is measured in scenario 6)`,
          'RSS and active handles (process.getActiveResourcesInfo()) of the server sampled during the run; the last sample is taken 1 s after the traffic drained and the clients closed',
        ],
        tables: [
          {
            caption: 'Calls by kind',
            headers: ['call', 'expected', 'calls', 'outcomes', 'p50', 'p99'],
            rows,
          },
          {
            caption: 'Server over time',
            headers: ['t', 'RSS', 'heap used', 'in flight', 'active handles'],
            rows:
              timeline.length > 16
                ? timeline.filter(
                    (_, i) => i % Math.ceil(timeline.length / 16) === 0 || i === timeline.length - 1,
                  )
                : timeline,
          },
        ],
        goals,
        notes: [
          'Expected outcomes: 503 engine_overloaded_error → overloaded, 429 (retry-after-ms 20) → rate_limited, 500 server_error → upstream_error, 400 → bad_request, a malformed stream chunk → protocol, keep-alive comments without content or no answer at all → stalled (first-token timeout 0.5 s), content every 300 ms past the 2 s budget → timeout.',
        ],
      };
    } finally {
      await agent.close().catch(() => undefined);
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
