/**
 * 7. Soak (`npm run soak [-- --minutes N] [--abandon SHARE]`, default 10 minutes): mixed MCP traffic over
 * Streamable HTTP at a fixed rate for N minutes, 20 % of it injected faults, against the exai server in its
 * own process. Faults are models of a models file whose names pick a fake-provider mode (`fake-<spec>`), so
 * each call knows what it should get. With --abandon, that share of all calls is given up mid-job by the
 * client's own timer, as an MCP SDK's request timeout does: the job runs on for its grace period, then ends.
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
/** How long after the traffic a call or job may still run before it counts as leaked. */
const DRAIN_MS = 30_000;

interface Kind {
  /** A model of the models file (`fake-<spec>`) or a built-in; undefined for tools without a model. */
  model?: string;
  tool: 'chat' | 'status' | 'listmodels';
  weight: number;
  /** The error_kind the call must end with; undefined: it must succeed. */
  expect?: string;
  /** Which provider serves the model; default: Kimi for faults, GLM for healthy calls. */
  provider?: 'glm' | 'kimi';
  /** Given up by the client's timer mid-job (SDK_TIMEOUT_REASON): the job runs on alone for the grace period. */
  abandon?: boolean;
}

/** The reason an MCP SDK's cancel carries when its request timeout fired (src/jobs/cancel.ts). */
const SDK_TIMEOUT_REASON = 'SdkError: Request timed out';
/** With --abandon: the client gives up this long into the call, while its job runs. */
const PATIENCE_MS = 300;
/** EXAI_JOB_GRACE_SECS for the run: 120 s by default, which would keep every abandoned job for two minutes. */
const GRACE_SECS = 1;

/**
 * With --abandon (on GLM, beside the healthy traffic; the faults keep Kimi to themselves). Content every
 * 200 ms, so neither the first-token nor the idle watchdog ends them: one kind is done after ~0.8 s, within the
 * grace period, and its answer waits unclaimed; the other (~5 s) outlives the client's patience plus the grace
 * (1.3 s), whose end cancels it before its 2 s budget would.
 */
const ABANDONED: Kind[] = [
  `fake-slow,chunks=4,every=200,content=${'x'.repeat(40)}`,
  `fake-slow,chunks=25,every=200,content=${'x'.repeat(40)}`,
].map(model => ({ tool: 'chat', model, weight: 0, expect: 'abandoned', abandon: true, provider: 'glm' }));

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

interface ServerReport {
  /** Model jobs running (a job in its grace period included). */
  runningJobs: number;
  /** Per provider: the learned concurrency limit and the configured maximum. */
  limits: Array<{ provider: string; limit: number; max: number }>;
}

/** What the server's status tool says about its jobs and learned limits. */
async function serverReport(client: McpLoadClient): Promise<ServerReport> {
  const response = await client.callTool('status', {});
  const report = response.result?.structuredContent as
    | {
        content?: {
          jobs?: Array<{ phase: string }>;
          providers?: Array<{ provider: string; concurrency?: { limit: number; max: number } }>;
        };
      }
    | undefined;
  const jobs = report?.content?.jobs ?? [];
  return {
    runningJobs: jobs.filter(j => !['done', 'failed', 'cancelled'].includes(j.phase)).length,
    limits: (report?.content?.providers ?? []).flatMap(p =>
      p.concurrency ? [{ provider: p.provider, limit: p.concurrency.limit, max: p.concurrency.max }] : [],
    ),
  };
}

function outcomeOf(response: RpcResponse | undefined): string {
  // The client gave up and the server ended the stream without an answer, as MCP asks of a cancelled call.
  if (response === undefined) return 'abandoned';
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
  /** As the process runs. */
  rss: number;
  heapUsed: number;
  /** Right after a full collection: what is still referenced, and what the allocator keeps. */
  rssAfterGc: number;
  heapAfterGc: number;
  external: number;
  handles: Record<string, number>;
  inFlight: number;
}

const keyOf = (kind: Kind) => `${kind.tool}${kind.model ? ` ${kind.model}` : ''}`;

export const soak: Scenario = {
  name: 'soak',
  title: '7. Soak (mixed MCP traffic at a fixed rate, 20 % injected faults)',
  defaultRuns: 1,
  async run(ctx): Promise<ScenarioResult> {
    const minutes = Number(ctx.flags.minutes ?? 10);
    // The share of all calls abandoned mid-job: MIX's weights sum to 100, so these weights make it that share.
    const abandonShare = Math.min(0.9, Math.max(0, Number(ctx.flags.abandon ?? 0)));
    const abandonWeight = (100 * abandonShare) / (1 - abandonShare) / ABANDONED.length;
    const mix: Kind[] =
      abandonShare > 0 ? [...MIX, ...ABANDONED.map(k => ({ ...k, weight: abandonWeight }))] : MIX;
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
      ...(abandonShare > 0 && { EXAI_JOB_GRACE_SECS: String(GRACE_SECS) }),
    };
    const server = await startMcpProcess(
      'exai',
      {
        ...BENCH_ENV,
        ...settings,
        GLM_API_URL: `${fake.url}/v1`,
        KIMI_API_URL: `${fake.url}/v1`,
        EXAI_MODELS_FILE: modelsFile(dir, mix),
        EXAI_DATA_DIR: dir,
        EXAI_ALLOWED_ROOTS: dir,
        // BENCH_LOG_FILE=/tmp/soak.log keeps the server's info log, to see where a call spent its time.
        ...(process.env.BENCH_LOG_FILE && { BENCH_LOG_FILE: process.env.BENCH_LOG_FILE }),
      },
      undefined,
      { exposeGc: true },
    );
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
      // As it runs first, then after a full collection (which the next sample's first reading follows).
      const cpu = await server.cpu();
      const [after, resources] = await Promise.all([server.memoryAfterGc(), server.resources()]);
      samples.push({
        atMs: performance.now() - startedAt,
        rss: cpu.rss,
        heapUsed: cpu.heapUsed,
        rssAfterGc: after.rss,
        heapAfterGc: after.heapUsed,
        external: after.external,
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
        const key = keyOf(kind);
        const client = clients[issued++ % SESSIONS] as McpLoadClient;
        inFlight++;
        const t0 = performance.now();
        // An abandoned question is asked once: the same prompt would join the job of an earlier one.
        const prompt = kind.abandon ? `abandoned ${issued}` : 'hello';
        const args = kind.tool === 'chat' ? { prompt, model: kind.model } : {};
        const answered = kind.abandon
          ? client.callToolWithTimeout(kind.tool, args, PATIENCE_MS, SDK_TIMEOUT_REASON)
          : client.callTool(kind.tool, args);
        const call = answered
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

      const cpuBefore = await server.cpu();
      const fakeCpuBefore = await ctx.fake.cpu();
      const clientCpuBefore = process.cpuUsage();
      const startedAt = performance.now();
      let nextSampleAt = 0;
      let sampling: Promise<void> | undefined;
      ctx.log(`soak: ${minutes} min at ${RATE} calls/s`);
      while (performance.now() - startedAt < durationMs) {
        const elapsed = performance.now() - startedAt;
        // Open loop on the clock, not on ticks: a late tick (a loaded machine) issues what fell due meanwhile,
        // so the rate is the one set. Sampling runs beside it for the same reason.
        const due = Math.floor((elapsed * RATE) / 1000);
        while (issued + skipped < due) {
          if (inFlight >= MAX_IN_FLIGHT) skipped++;
          else issue();
        }
        if (elapsed >= nextSampleAt && sampling === undefined) {
          nextSampleAt += Math.min(10_000, durationMs / 30);
          sampling = sampleNow(startedAt).finally(() => {
            sampling = undefined;
          });
          if (samples.length % 6 === 5) ctx.log(`soak: ${Math.round(elapsed / 1000)} s, ${issued} calls`);
        }
        await sleep(TICK_MS);
      }
      await sampling;
      const cpuAfter = await server.cpu();
      const trafficS = (performance.now() - startedAt) / 1000;
      const serverCpuS = (cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system) / 1e6;
      const fakeCpuAfter = await ctx.fake.cpu();
      const fakeCpuS =
        (fakeCpuAfter.user + fakeCpuAfter.system - fakeCpuBefore.user - fakeCpuBefore.system) / 1e6;
      const clientCpu = process.cpuUsage(clientCpuBefore);
      const clientCpuS = (clientCpu.user + clientCpu.system) / 1e6;
      // Drain: every call is bounded by its deadline (2 s) plus the MCP round trip, and every job by its budget
      // (2 s) or its grace period (1 s after its call gave up). What still runs 30 s later, when on a loaded
      // machine the server has long caught up, leaked.
      const trafficEnded = performance.now();
      const leakedAfter = trafficEnded + DRAIN_MS;
      while (calls.size > 0 && performance.now() < leakedAfter) await sleep(20);
      const stuck = calls.size;
      const callsEndedAfterS = (performance.now() - trafficEnded) / 1000;
      let report = await serverReport(clients[0] as McpLoadClient);
      while (report.runningJobs > 0 && performance.now() < leakedAfter) {
        await sleep(250);
        report = await serverReport(clients[0] as McpLoadClient);
      }
      const jobsEndedAfterS = (performance.now() - trafficEnded) / 1000;
      await agent.close();
      await sleep(1_000);
      await sampleNow(startedAt);
      const end = samples[samples.length - 1] as Sample;
      const fakeAfterTraffic = await fake.stats();
      await server.close();
      const fakeAfterClose = await fake.waitForOpenSockets(0, 5_000).catch(() => fake.stats());

      // Results.
      // Memory: the warm-up (JIT, pools, caches, SQLite pages, the first sessions) is left out; the baseline
      // is the median of the first third of the samples after it and the end the median of the last third,
      // not two single points, as RSS saws with the collector. Heap after a forced full collection tells
      // memory still referenced (a leak grows it) from garbage and pages the allocator keeps.
      const afterWarmup = samples.filter(s => s.atMs >= warmupMs && s !== end);
      const third = Math.max(1, Math.floor(afterWarmup.length / 3));
      const growthOf = (pick: (s: Sample) => number) => {
        const early = median(afterWarmup.slice(0, third).map(pick));
        const late = median(afterWarmup.slice(-third).map(pick));
        return { early, late, growth: (late - early) / early, peak: Math.max(...afterWarmup.map(pick)) };
      };
      const rss = growthOf(s => s.rss);
      const rssGc = growthOf(s => s.rssAfterGc);
      const heapGc = growthOf(s => s.heapAfterGc);
      const unexpected: string[] = [];
      const rows: string[][] = [];
      let faults = 0;
      let faultsCorrect = 0;
      let abandoned = 0;
      for (const kind of mix) {
        const key = keyOf(kind);
        const entry = byKind.get(key);
        if (!entry) continue;
        const want = kind.expect ?? 'ok';
        let correct = 0;
        for (const [outcome, n] of entry.outcomes) {
          // An open breaker is a correct answer to a fault too (it is held closed here; it should not open).
          // An abandoned call may have had its answer before its client's timer fired.
          const fine =
            outcome === want ||
            (kind.expect && !kind.abandon && outcome === 'circuit_open') ||
            (kind.abandon && outcome === 'ok');
          if (fine) correct += n;
          else unexpected.push(`${key}: ${outcome} ×${n}`);
        }
        if (kind.abandon) abandoned += entry.calls;
        else if (kind.expect) {
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
        .reduce((n, k) => n + (byKind.get(keyOf(k))?.calls ?? 0), 0);
      const idleTimers = end.handles.Timeout ?? 0;
      const idleSockets = end.handles.TCPSocketWrap ?? 0;
      const limits = report.limits.map(l => `${l.provider} ${l.limit} of ${l.max}`).join(', ');
      const limitsKept = report.limits.every(l => l.limit === l.max);
      const growthText = (g: ReturnType<typeof growthOf>) =>
        `${(g.growth * 100).toFixed(1)} % (${mb(g.early)} → ${mb(g.late)}, peak ${mb(g.peak)})`;
      const goals: Goal[] = [
        {
          goal: 'RSS growth ≤ 10 % after warm-up',
          measured: `${growthText(rss)}; after a forced full collection: RSS ${growthText(rssGc)}, heap ${growthText(heapGc)}`,
          met: rss.growth <= 0.1,
        },
        {
          goal: 'no leaked sockets',
          measured: `after the traffic: upstream requests in flight ${fakeAfterTraffic.activeRequests}, upstream sockets open ${fakeAfterTraffic.openSockets} (idle keep-alive, ≤ PROVIDER_MAX_CONNECTIONS per origin), server sockets holding the loop ${idleSockets}; after the server closed: ${fakeAfterClose.openSockets}`,
          met: fakeAfterTraffic.activeRequests === 0 && fakeAfterClose.openSockets === 0 && idleSockets === 0,
        },
        {
          goal: 'no leaked jobs, handles or timers',
          measured: `server once idle: ${handleRow(end)}; calls running ${callsEndedAfterS.toFixed(1)} s after the traffic stopped: ${stuck}; model jobs running ${jobsEndedAfterS.toFixed(1)} s after it: ${report.runningJobs} (either still running ${DRAIN_MS / 1000} s after it would be a leak)`,
          met: stuck === 0 && idleTimers === 0 && report.runningJobs === 0,
        },
        {
          goal: 'no errors other than the injected ones, each classified correctly',
          measured: `${healthyCalls.toLocaleString('en-US')} healthy calls, ${faults.toLocaleString('en-US')} faults (${faultsCorrect.toLocaleString('en-US')} classified as injected)${abandonShare > 0 ? `, ${abandoned.toLocaleString('en-US')} abandoned` : ''}; unexpected: ${unexpected.length ? unexpected.join('; ') : 'none'}; client errors ${clientErrors}${firstClientError ? ` (${firstClientError})` : ''}; skipped (over ${MAX_IN_FLIGHT} in flight) ${skipped}; learned concurrency at the end: ${limits || 'not reported'}`,
          met:
            unexpected.length === 0 &&
            clientErrors === 0 &&
            skipped === 0 &&
            faultsCorrect === faults &&
            limitsKept,
        },
      ];
      const timeline = samples.map(s => [
        `${Math.round(s.atMs / 1000)} s`,
        mb(s.rss),
        mb(s.heapUsed),
        mb(s.rssAfterGc),
        mb(s.heapAfterGc),
        String(s.inFlight),
        handleRow(s),
      ]);
      return {
        name: 'soak',
        title: soak.title,
        setup: [
          `${minutes} min at ${RATE} calls/s (open loop, ${SESSIONS} sessions), ${Math.round(FAULT_SHARE * 100)} % faults${abandonShare > 0 ? ` plus ${Math.round(abandonShare * 100)} % of all calls abandoned mid-job (the client's timer gives up after ${PATIENCE_MS} ms and sends notifications/cancelled with the MCP SDK's timeout reason; half the jobs end within the ${GRACE_SECS} s grace, unclaimed, half are cancelled when it ends)` : ''}; warm-up ${Math.round(warmupMs / 1000)} s; exai server in its own process (SQLite store, info logs to /dev/null), fake in another`,
          `${shownSettings(settings)}; fallback off; faults run on Kimi models, healthy chat on GLM models (separate breakers), the breaker held closed so every fault reaches the error mapping (it is measured in scenario 6)`,
          'RSS and active handles (process.getActiveResourcesInfo()) of the server sampled during the run, each sample read as the process runs and again right after a forced full collection (--expose-gc); the last sample is taken 1 s after the traffic drained, the jobs ended and the clients closed',
        ],
        tables: [
          {
            caption: 'Calls by kind',
            headers: ['call', 'expected', 'calls', 'outcomes', 'p50', 'p99'],
            rows,
          },
          {
            caption: 'Server over time',
            headers: [
              't',
              'RSS',
              'heap used',
              'RSS after GC',
              'heap after GC',
              'in flight',
              'active handles',
            ],
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
          "Expected outcomes: 503 engine_overloaded_error → overloaded, 429 (retry-after-ms 20) → rate_limited, 500 server_error → upstream_error, 400 → bad_request, a malformed stream chunk → protocol, keep-alive comments without content or no answer at all → stalled (first-token timeout 0.5 s), content every 300 ms past the 2 s budget → timeout; abandoned: no answer (the server ends a cancelled call's stream without one).",
          `Server CPU during the traffic: ${serverCpuS.toFixed(1)} s in ${trafficS.toFixed(0)} s (${Math.round((100 * serverCpuS) / trafficS)} % of one core), ${Math.round((1e6 * serverCpuS) / Math.max(1, issued))} µs per call; the fake's ${fakeCpuS.toFixed(1)} s, this client's ${clientCpuS.toFixed(1)} s; the machine's load average as the run started is in the header: on a loaded machine, calls that miss the first-token watchdog (0.5 s) or the 2 s budget while the server waits for a core end as stalled or timeout on either provider.`,
          'The fake refuses no call for concurrency, so the learned limits must end where they started (GLM_MAX_CONCURRENCY, KIMI_MAX_CONCURRENCY): a lower one means a 429 was taken for a concurrency refusal, and the calls behind it queued into timeouts.',
        ],
      };
    } finally {
      await agent.close().catch(() => undefined);
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
