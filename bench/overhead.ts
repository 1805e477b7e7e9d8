/**
 * 1. Overhead per call: the full provider stack (gateway.chat: deadline, bulkhead, breaker, retry, stats,
 * info logging to /dev/null) against a raw undici request parsed with the same SSE parser, and against the
 * bare openai SDK with default settings. Instant streaming provider (mode ok: 3 content chunks, usage, DONE).
 */
import { setMaxListeners } from 'node:events';
import { createParser } from 'eventsource-parser';
import OpenAI from 'openai';
import { Agent, request } from 'undici';
import { createHttpPool } from '../src/http/pool.js';
import { runAttempt } from '../src/providers/attempt.js';
import type { FakeProcess } from './lib/fake-process.js';
import { BENCH_KEY, benchGateway, GLM_MODEL, shownSettings, user } from './lib/gateway.js';
import { closedLoop, type LoadResult } from './lib/load.js';
import type { Goal, Scenario, ScenarioResult } from './lib/scenario.js';
import { median, ms, rate, ratio, summarize, us } from './lib/stats.js';

type Client = () => Promise<string>;
type Variant = 'raw' | 'ours' | 'sdk' | 'wire';
const VARIANTS: Variant[] = ['raw', 'ours', 'sdk', 'wire'];
const LABEL: Record<Variant, string> = {
  raw: 'raw undici + eventsource-parser',
  ours: 'exai gateway.chat (full stack)',
  sdk: 'openai SDK 6 (defaults)',
  wire: '(diagnostic) exai wire only',
};
const EXPECTED = 'echo: hello';

interface Measured {
  throughput: number;
  /** Client CPU time per call, µs: steadier than throughput on a shared machine. */
  cpuPerCall: number;
  p50: number;
  p99: number;
  fakeCpu: number;
}

const C1 = { concurrency: 1, durationMs: 1_500, maxCalls: 6_000 };
const C256 = { concurrency: 256, durationMs: 2_500, maxCalls: 200_000 };

function rawClient(baseUrl: string): { call: Client; close(): Promise<void> } {
  const agent = new Agent();
  const url = `${baseUrl}/chat/completions`;
  const body = JSON.stringify({
    model: GLM_MODEL,
    messages: user('hello'),
    max_tokens: 8192,
    thinking: { type: 'disabled' },
    stream: true,
    stream_options: { include_usage: true },
  });
  const call = async () => {
    const res = await request(url, {
      method: 'POST',
      dispatcher: agent,
      headers: {
        authorization: `Bearer ${BENCH_KEY}`,
        'content-type': 'application/json',
        accept: 'text/event-stream',
      },
      body,
    });
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
    let content = '';
    const parser = createParser({
      onEvent(event) {
        if (event.data === '[DONE]') return;
        const json = JSON.parse(event.data) as { choices?: Array<{ delta?: { content?: string } }> };
        content += json.choices?.[0]?.delta?.content ?? '';
      },
    });
    // undici's body ignores setEncoding: decode with a streaming decoder (a UTF-8 char may span chunks).
    const decoder = new TextDecoder();
    for await (const chunk of res.body) parser.feed(decoder.decode(chunk as Buffer, { stream: true }));
    return content;
  };
  return { call, close: () => agent.close() };
}

function sdkClient(baseUrl: string): Client {
  const client = new OpenAI({ apiKey: BENCH_KEY, baseURL: baseUrl });
  return async () => {
    const stream = await client.chat.completions.create({
      model: GLM_MODEL,
      messages: user('hello'),
      stream: true,
    });
    let content = '';
    for await (const chunk of stream) content += chunk.choices[0]?.delta?.content ?? '';
    return content;
  };
}

async function measure(
  fake: FakeProcess,
  call: Client,
  shape: typeof C1,
): Promise<{ load: LoadResult; fakeCpu: number; cpuPerCall: number }> {
  const before = await fake.cpu();
  const cpu = process.cpuUsage();
  const load = await closedLoop(call, shape);
  const used = process.cpuUsage(cpu);
  const after = await fake.cpu();
  const fakeCpu = (after.user + after.system - before.user - before.system) / 1000 / load.wallMs;
  if (load.errors > 0) throw new Error(`overhead: ${load.errors} calls failed: ${String(load.firstError)}`);
  return { load, fakeCpu, cpuPerCall: (used.user + used.system) / load.calls };
}

/** The wire layer alone (node:http pool + SSE parsing + stall timers), no deadline/breaker/bulkhead/retry/log. */
function wireClient(baseUrl: string): { call: Client; close(): void } {
  const pool = createHttpPool({ maxSocketsPerOrigin: 256 });
  const url = new URL(`${baseUrl}/chat/completions`);
  // One signal shared by every call in flight (256 listeners): say that is intended.
  const never = new AbortController().signal;
  setMaxListeners(0, never);
  const call = async () =>
    (
      await runAttempt({
        provider: 'glm',
        model: GLM_MODEL,
        url,
        apiKey: BENCH_KEY,
        payload: {
          model: GLM_MODEL,
          messages: user('hello'),
          max_tokens: 8192,
          thinking: { type: 'disabled' },
        },
        stream: true,
        pool,
        connectTimeoutMs: 10_000,
        firstTokenMs: 120_000,
        idleMs: 60_000,
        signal: never,
      })
    ).content;
  return { call, close: () => pool.destroy() };
}

export const overhead: Scenario = {
  name: 'overhead',
  title: '1. Overhead per call (instant streaming provider)',
  defaultRuns: 5,
  async run(ctx): Promise<ScenarioResult> {
    const fake = await ctx.fake.start();
    const baseUrl = `${fake.url}/v1`;
    const env = {
      GLM_API_URL: baseUrl,
      GLM_MAX_CONCURRENCY: '256',
      PROVIDER_MAX_CONNECTIONS: '256',
    };
    const ours = benchGateway(env);
    const raw = rawClient(baseUrl);
    const wire = wireClient(baseUrl);
    const clients: Record<Variant, Client> = {
      raw: raw.call,
      wire: wire.call,
      ours: async () => (await ours.gateway.chat({ model: GLM_MODEL, messages: user('hello') })).content,
      sdk: sdkClient(baseUrl),
    };
    for (const variant of VARIANTS) {
      const content = await clients[variant]();
      if (content !== EXPECTED) throw new Error(`overhead: ${variant} answered ${JSON.stringify(content)}`);
    }

    const results: Record<'c1' | 'c256', Record<Variant, Measured[]>> = {
      c1: { raw: [], ours: [], sdk: [], wire: [] },
      c256: { raw: [], ours: [], sdk: [], wire: [] },
    };
    try {
      // Warm-up: JIT, connection pools at full size.
      for (const variant of VARIANTS) {
        await closedLoop(clients[variant], { concurrency: 1, durationMs: 300, maxCalls: 1_000 });
        await closedLoop(clients[variant], { concurrency: 256, durationMs: 500, maxCalls: 20_000 });
      }
      for (let run = 0; run < ctx.runs; run++) {
        // Rotate the order so no variant always runs first after a GC-heavy one.
        const order = VARIANTS.map((_, i) => VARIANTS[(i + run) % VARIANTS.length] as Variant);
        for (const [key, shape] of [
          ['c1', C1],
          ['c256', C256],
        ] as const) {
          for (const variant of order) {
            const { load, fakeCpu, cpuPerCall } = await measure(ctx.fake, clients[variant], shape);
            const s = summarize(load.latencies);
            results[key][variant].push({
              throughput: (load.calls / load.wallMs) * 1000,
              cpuPerCall,
              p50: s.p50,
              p99: s.p99,
              fakeCpu,
            });
          }
        }
        ctx.log(`overhead: run ${run + 1}/${ctx.runs} done`);
      }
    } finally {
      ours.close();
      wire.close();
      await raw.close();
    }

    const med = (key: 'c1' | 'c256', v: Variant, f: keyof Measured) => median(results[key][v].map(m => m[f]));
    // Ratios per run (same run, same conditions), then the median of those.
    const perRunRatio = (key: 'c1' | 'c256', a: Variant, b: Variant) =>
      median(results[key][a].map((m, i) => m.throughput / (results[key][b][i]?.throughput ?? Number.NaN)));
    const rows: string[][] = [];
    for (const key of ['c1', 'c256'] as const) {
      for (const v of VARIANTS) {
        rows.push([
          key === 'c1' ? '1' : '256',
          LABEL[v],
          rate(med(key, v, 'throughput')),
          key === 'c1' ? us(med(key, v, 'p50')) : ms(med(key, v, 'p50'), 2),
          key === 'c1' ? us(med(key, v, 'p99')) : ms(med(key, v, 'p99'), 2),
          ratio(perRunRatio(key, v, 'raw')),
          `${Math.round(med(key, v, 'cpuPerCall'))} µs`,
          `${Math.round(med(key, v, 'fakeCpu') * 100)} %`,
        ]);
      }
    }
    const addedP50 = median(results.c1.ours.map((m, i) => m.p50 - (results.c1.raw[i]?.p50 ?? Number.NaN)));
    const addedP99 = median(results.c1.ours.map((m, i) => m.p99 - (results.c1.raw[i]?.p99 ?? Number.NaN)));
    const cpu = (v: Variant) => Math.round(med('c256', v, 'cpuPerCall'));
    const goals: Goal[] = [];
    for (const key of ['c1', 'c256'] as const) {
      const c = key === 'c1' ? 1 : 256;
      const vsRaw = perRunRatio(key, 'ours', 'raw');
      const vsSdk = perRunRatio(key, 'ours', 'sdk');
      goals.push(
        { goal: `throughput ≥ 0.8× raw at concurrency ${c}`, measured: ratio(vsRaw), met: vsRaw >= 0.8 },
        { goal: `throughput ≥ 2.5× bare SDK at concurrency ${c}`, measured: ratio(vsSdk), met: vsSdk >= 2.5 },
      );
    }
    goals.push({
      goal: '≤ 100 µs added at p50 over raw, concurrency 1',
      measured: us(addedP50),
      met: addedP50 <= 0.1,
    });
    goals.push({
      goal: '≤ 300 µs added at p99 over raw, concurrency 1',
      measured: us(addedP99),
      met: addedP99 <= 0.3,
    });

    return {
      name: 'overhead',
      title: overhead.title,
      setup: [
        `fake provider in its own process, mode \`ok\` (instant; SSE: role+3 content chunks, usage chunk, [DONE])`,
        `exai: ${shownSettings(env)} (raised so the bulkhead and pool are not the limit at 256), LOG_LEVEL=info to /dev/null (pino async)`,
        'raw: undici 7 `request()` on a default Agent, body parsed with eventsource-parser + JSON.parse per event',
        'SDK: `new OpenAI({ apiKey, baseURL })`, defaults (global fetch), `chat.completions.create({ stream: true })`',
        `concurrency 1: up to ${C1.maxCalls} sequential calls / ${C1.durationMs} ms; concurrency 256: closed loop for ${C256.durationMs} ms; after a warm-up; ${ctx.runs} runs, variants interleaved, medians shown`,
      ],
      tables: [
        {
          headers: ['conc.', 'client', 'throughput', 'p50', 'p99', 'vs raw', 'client CPU/call', 'fake CPU'],
          rows,
        },
      ],
      goals,
      notes: [
        `Where the client's CPU goes (median µs per call at concurrency 256): raw undici ${cpu('raw')}; exai wire alone (node:http keep-alive agent, SSE parsing, stall timers) ${cpu('wire')} (+${cpu('wire') - cpu('raw')}); full stack ${cpu('ours')} (+${cpu('ours') - cpu('wire')} for two deadlines, breaker, bulkhead, retry loop, stats and one info log line per attempt).`,
        'Client CPU per call is the steadier figure on a shared machine: throughput moves with whatever else runs, CPU per call much less.',
        '"fake CPU" is the fake-provider process\'s CPU time over the wall time of the measurement: near 100 % means the fake, not the client, was the limit.',
      ],
    };
  },
};
