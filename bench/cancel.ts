/**
 * 5. Cancel latency: from the client's cancel to the upstream socket closed, as the fake provider counts it.
 * MCP: a `chat` call on a provider that never answers, cancelled with notifications/cancelled (how 2025-era
 * clients cancel) or by dropping the HTTP request. Baselines in the same run: the gateway aborted through its
 * AbortSignal, and a raw undici request aborted the same way. The fake's "socket closed" arrives over IPC,
 * so every figure includes one IPC hop (its round trip is shown).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { Deadline } from '../src/resilience/deadline.js';
import type { RemoteFake } from './lib/fake-process.js';
import { BENCH_ENV, BENCH_KEY, benchGateway, GLM_MODEL, user } from './lib/gateway.js';
import { McpLoadClient } from './lib/mcp-client.js';
import { startMcpProcess } from './lib/mcp-process.js';
import type { Goal, Scenario, ScenarioResult } from './lib/scenario.js';
import { median, ms, sleep, summarize } from './lib/stats.js';

const SAMPLES = 150;
const WAIT_MS = 2_000;

type Way = 'mcp-notify' | 'mcp-drop' | 'gateway' | 'raw';
const LABEL: Record<Way, string> = {
  'mcp-notify': 'MCP notifications/cancelled → exai server',
  'mcp-drop': 'MCP client drops the HTTP request',
  gateway: '(baseline) gateway.chat, AbortSignal',
  raw: '(baseline) raw undici request, AbortSignal',
};

/** Resolves once the fake holds a request (polled: the fake's waiters only wait for counts to fall). */
async function untilActive(fake: RemoteFake): Promise<void> {
  const started = performance.now();
  while ((await fake.stats()).activeRequests < 1) {
    if (performance.now() - started > WAIT_MS) throw new Error('cancel: the call never reached the provider');
    await sleep(1);
  }
}

/**
 * Starts a call, waits for it upstream, cancels it and times until the fake reports no open socket. Returns
 * NaN when the socket stayed open for WAIT_MS (the call was not cancelled upstream).
 */
async function sample(
  fake: RemoteFake,
  start: () => void,
  cancel: () => void | Promise<void>,
): Promise<number> {
  start();
  await untilActive(fake);
  const closed = fake.waitForOpenSockets(0, WAIT_MS).then(
    () => performance.now(),
    () => Number.NaN,
  );
  const t0 = performance.now();
  await cancel();
  return (await closed) - t0;
}

export const cancelLatency: Scenario = {
  name: 'cancel',
  title: '5. Cancel latency (cancel → upstream socket closed)',
  defaultRuns: 1,
  async run(ctx): Promise<ScenarioResult> {
    const fake = await ctx.fake.start();
    const hangUrl = `${fake.url}/mode/hang/v1`;
    const samples: Record<Way, number[]> = { 'mcp-notify': [], 'mcp-drop': [], gateway: [], raw: [] };
    const n = SAMPLES * ctx.runs;

    // IPC round trip to the fake process: the floor under every figure here.
    const ipc: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      await ctx.fake.ping();
      ipc.push(performance.now() - t0);
    }

    const g = benchGateway({ GLM_API_URL: hangUrl });
    for (let i = 0; i < n; i++) {
      const controller = new AbortController();
      let call: Promise<unknown> = Promise.resolve();
      samples.gateway.push(
        await sample(
          fake,
          () => {
            call = g.gateway
              .chat({
                model: GLM_MODEL,
                messages: user('hello'),
                budget: Deadline.open({ parents: [controller.signal] }),
              })
              .catch(() => undefined);
          },
          () => controller.abort(new Error('bench cancel')),
        ),
      );
      await call;
    }
    g.close();

    const agent = new Agent();
    for (let i = 0; i < n; i++) {
      const controller = new AbortController();
      let call: Promise<unknown> = Promise.resolve();
      samples.raw.push(
        await sample(
          fake,
          () => {
            call = request(`${hangUrl}/chat/completions`, {
              method: 'POST',
              dispatcher: agent,
              headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` },
              body: JSON.stringify({ model: GLM_MODEL, messages: user('hello'), stream: true }),
              signal: controller.signal,
            }).catch(() => undefined);
          },
          () => controller.abort(),
        ),
      );
      await call;
    }
    await agent.close();

    const dataDir = mkdtempSync(join(tmpdir(), 'exai-bench-'));
    try {
      for (const way of ['mcp-notify', 'mcp-drop'] as const) {
        // A server per way: closing it aborts whatever a way left running upstream.
        const server = await startMcpProcess('exai', {
          ...BENCH_ENV,
          GLM_API_URL: hangUrl,
          EXAI_DATA_DIR: dataDir,
          EXAI_ALLOWED_ROOTS: dataDir,
        });
        const mcpAgent = new Agent();
        try {
          const client = new McpLoadClient(server.url, mcpAgent);
          await client.initialize();
          for (let i = 0; i < n; i++) {
            const http = new AbortController();
            let id = -1;
            let call: Promise<unknown> = Promise.resolve();
            const latency = await sample(
              fake,
              () => {
                call = client
                  .callTool(
                    'chat',
                    { prompt: 'hello', model: GLM_MODEL },
                    { signal: http.signal, onId: x => (id = x) },
                  )
                  .catch(() => undefined);
              },
              () => (way === 'mcp-notify' ? client.cancel(id, 'bench cancel') : http.abort()),
            );
            samples[way].push(latency);
            http.abort();
            await call;
            // Not cancelled upstream: the call runs on to its deadline; one such sample says it all.
            if (Number.isNaN(latency)) break;
          }
        } finally {
          await mcpAgent.close();
          await server.close();
          await fake.waitForOpenSockets(0, 5_000).catch(() => undefined);
        }
        ctx.log(`cancel: ${way} done`);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }

    const ways: Way[] = ['mcp-notify', 'mcp-drop', 'gateway', 'raw'];
    const rows = ways.map(way => {
      const closed = samples[way].filter(Number.isFinite);
      const s = summarize(closed);
      return [
        LABEL[way],
        `${closed.length}/${samples[way].length}${closed.length < samples[way].length ? ` (stopped at the first still open after ${WAIT_MS / 1000} s)` : ''}`,
        ms(s.p50, 2),
        ms(s.p99, 2),
        ms(s.max, 2),
      ];
    });
    const notify = samples['mcp-notify'].filter(Number.isFinite);
    const s = summarize(notify);
    const goals: Goal[] = [
      {
        goal: 'MCP cancel → upstream socket closed, p99 ≤ 20 ms',
        measured: `${ms(s.p99, 2)} (notifications/cancelled; ${notify.length}/${samples['mcp-notify'].length} closed within ${WAIT_MS / 1000} s)`,
        met: notify.length === samples['mcp-notify'].length && s.p99 <= 20,
      },
    ];
    return {
      name: 'cancel',
      title: cancelLatency.title,
      setup: [
        'GLM → fake `hang` (headers never come) in its own process; one call at a time, each cancelled once the fake holds it',
        'MCP: the exai server (createApp + startHttpServer) in its own process, one 2025-06-18 session, `chat` with model glm-4.6; cancelled by POSTing notifications/cancelled for its request id, or by aborting the HTTP request',
        `${n} samples per way; settings default (info logs to /dev/null); "closed" = the fake saw the socket close within ${WAIT_MS / 1000} s`,
      ],
      tables: [{ headers: ['cancel by', 'closed', 'p50', 'p99', 'max'], rows }],
      goals,
      notes: [
        `Every figure includes one IPC hop from the fake process (round trip median ${ms(median(ipc), 3)}, p99 ${ms(summarize(ipc).p99, 3)}), so they are upper bounds.`,
      ],
    };
  },
};
