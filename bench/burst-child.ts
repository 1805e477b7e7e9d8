/**
 * One burst in a fresh process, so its RSS is its own: `burst-child.ts <ours|raw> <baseUrl> <calls>`.
 * Started by bench/burst.ts; sends one BurstChildResult over IPC and exits.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { BURST_ENV } from './burst.js';
import { BENCH_KEY, benchGateway, GLM_MODEL, user } from './lib/gateway.js';
import { burst } from './lib/load.js';

export interface BurstChildResult {
  ok: number;
  firstError?: string;
  wallMs: number;
  rssBefore: number;
  rssPeak: number;
  heapBefore: number;
  heapPeak: number;
  loopDelayMax: number;
  /** CPU time this process used during the burst, ms. */
  cpuMs: number;
}

const [variant = 'ours', base = '', countArg = '10000'] = process.argv.slice(2);
const n = Number(countArg); // BURST_ENV's limits are sized for the scenario's 10,000

let call: () => Promise<unknown>;
let close: () => Promise<void> | void;
if (variant === 'ours') {
  const g = benchGateway({ ...BURST_ENV, GLM_API_URL: base });
  call = () => g.gateway.chat({ model: GLM_MODEL, messages: user('hello') });
  close = () => g.close();
} else {
  const agent = new Agent();
  const body = JSON.stringify({ model: GLM_MODEL, messages: user('hello'), stream: true });
  call = async () => {
    const res = await request(`${base}/chat/completions`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` },
      body,
    });
    return res.body.text();
  };
  close = () => agent.destroy();
}

await call(); // loads and compiles the whole call path once
globalThis.gc?.();
const rssBefore = process.memoryUsage.rss();
const heapBefore = process.memoryUsage().heapUsed;
let rssPeak = rssBefore;
let heapPeak = heapBefore;
const sampler = setInterval(() => {
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
}, 5);
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
const cpu = process.cpuUsage();
const started = performance.now();
const outcomes = await burst(n, () => call());
const wallMs = performance.now() - started;
const used = process.cpuUsage(cpu);
clearInterval(sampler);
loop.disable();
rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
await close();
const failed = outcomes.find(o => !o.ok);
const result: BurstChildResult = {
  ok: outcomes.filter(o => o.ok).length,
  ...(failed && { firstError: String((failed.error as Error)?.message ?? failed.error) }),
  wallMs,
  rssBefore,
  rssPeak,
  heapBefore,
  heapPeak,
  loopDelayMax: loop.max / 1e6,
  cpuMs: (used.user + used.system) / 1000,
};
process.send?.(result, () => process.exit(0));
