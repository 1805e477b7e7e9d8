/**
 * 4. Burst: 10,000 calls started at once against a provider answering after 200 ms. Baseline: the same burst
 * from a raw undici client in the same run. Each client runs in a fresh process (bench/burst-child.ts), so
 * its RSS is its own; the figure per call is the growth from just before the burst to its peak.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BurstChildResult } from './burst-child.js';
import { shownSettings } from './lib/gateway.js';
import type { Goal, Scenario, ScenarioResult } from './lib/scenario.js';
import { kb, listenOverflows, mb, medianBy, ms, ratio } from './lib/stats.js';

function somaxconn(): string {
  try {
    return readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

const N = 10_000;
const LATENCY_MS = 200;
export const BURST_ENV = {
  GLM_MAX_CONCURRENCY: String(N),
  PROVIDER_MAX_CONNECTIONS: String(N),
  PROVIDER_MAX_QUEUE: String(N),
};

interface RunResult {
  ours: BurstChildResult;
  raw: BurstChildResult;
  connections: number;
  /** Kernel listen-queue overflows during each client's burst (SYN drops → 1 s retransmits). */
  oursOverflows: number;
  rawOverflows: number;
  /** CPU time the fake process used during each client's burst, ms. */
  oursFakeCpuMs: number;
  rawFakeCpuMs: number;
}

const CHILD = fileURLToPath(new URL('./burst-child.ts', import.meta.url));

function runChild(variant: 'ours' | 'raw', base: string): Promise<BurstChildResult> {
  const child = fork(CHILD, [variant, base, String(N)], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let result: BurstChildResult | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('message', (message: BurstChildResult) => {
      result = message;
    });
    child.on('exit', code => {
      clearTimeout(timer);
      if (result) resolve(result);
      else reject(new Error(`burst child (${variant}) exited with ${code} and no result`));
    });
  });
}

export const burst: Scenario = {
  name: 'burst',
  title: '4. Burst (10,000 concurrent calls, 200 ms provider)',
  defaultRuns: 3,
  async run(ctx): Promise<ScenarioResult> {
    const runs: RunResult[] = [];
    for (let run = 0; run < ctx.runs; run++) {
      // A fresh fake per run and a fresh process per client: RSS and connection counts are the burst's own.
      const fake = await ctx.fake.start();
      const base = `${fake.url}/mode/delay,ms=${LATENCY_MS}/v1`;
      const fakeCpu = async () => {
        const c = await ctx.fake.cpu();
        return (c.user + c.system) / 1000;
      };
      const f0 = await fakeCpu();
      const o0 = listenOverflows() ?? Number.NaN;
      const ours = await runChild('ours', base);
      const o1 = listenOverflows() ?? Number.NaN;
      const f1 = await fakeCpu();
      const connections = (await fake.stats()).connectionsTotal;
      await fake.waitForOpenSockets(0, 5_000).catch(() => undefined);
      const o2 = listenOverflows() ?? Number.NaN;
      const f2 = await fakeCpu();
      const raw = await runChild('raw', base);
      const o3 = listenOverflows() ?? Number.NaN;
      const f3 = await fakeCpu();
      runs.push({
        ours,
        raw,
        connections,
        oursOverflows: o1 - o0,
        rawOverflows: o3 - o2,
        oursFakeCpuMs: f1 - f0,
        rawFakeCpuMs: f3 - f2,
      });
      ctx.log(
        `burst: run ${run + 1}/${ctx.runs}: ${Math.round(ours.wallMs)} ms, raw ${Math.round(raw.wallMs)} ms`,
      );
    }

    const perCall = (r: BurstChildResult) => (r.rssPeak - r.rssBefore) / N;
    const rows = runs.flatMap((r, i) =>
      (['ours', 'raw'] as const).map(v => {
        const x = r[v];
        return [
          String(i + 1),
          v === 'ours' ? 'exai gateway' : 'raw undici',
          `${x.ok.toLocaleString('en-US')}/${N.toLocaleString('en-US')}`,
          ms(x.wallMs, 0),
          ms(x.cpuMs, 0),
          ms(v === 'ours' ? r.oursFakeCpuMs : r.rawFakeCpuMs, 0),
          mb(x.rssBefore),
          mb(x.rssPeak),
          kb(perCall(x)),
          kb((x.heapPeak - x.heapBefore) / N),
          ms(x.loopDelayMax, 0),
          v === 'ours' ? r.connections.toLocaleString('en-US') : '',
          String(v === 'ours' ? r.oursOverflows : r.rawOverflows),
        ];
      }),
    );
    const mid = medianBy(runs, r => r.ours.wallMs);
    const peak = Math.max(...runs.map(r => r.ours.rssPeak));
    const firstError = runs.find(r => r.ours.firstError)?.ours.firstError;
    const goals: Goal[] = [
      {
        goal: 'all 10,000 succeed',
        measured:
          runs.map(r => r.ours.ok.toLocaleString('en-US')).join(', ') +
          (firstError ? ` (first error: ${firstError})` : ''),
        met: runs.every(r => r.ours.ok === N),
      },
      {
        goal: 'wall ≤ 1.5 s (median run)',
        measured: `${ms(mid.ours.wallMs, 0)} (raw undici: ${ms(mid.raw.wallMs, 0)}, ${ratio(mid.ours.wallMs / mid.raw.wallMs)})`,
        met: mid.ours.wallMs <= 1_500,
      },
      {
        goal: 'peak RSS ≤ 300 MB (worst run)',
        measured: `${mb(peak)}; ${kb(perCall(mid.ours))} per in-flight call (raw undici: ${mb(mid.raw.rssPeak)}, ${kb(perCall(mid.raw))} per call)`,
        met: peak <= 300 * 1024 * 1024,
      },
      {
        goal: '≤ 22 KB per in-flight call (median run)',
        measured: `${kb(perCall(mid.ours))} (raw undici: ${kb(perCall(mid.raw))})`,
        met: perCall(mid.ours) <= 22 * 1024,
      },
    ];
    return {
      name: 'burst',
      title: burst.title,
      setup: [
        `fake \`delay,ms=${LATENCY_MS}\` (streams once the delay is over) in its own process, a fresh instance per run`,
        `exai: ${shownSettings(BURST_ENV)} (every call in flight at once, one connection each); deadlines and the rest default; info logs to /dev/null`,
        `${N.toLocaleString('en-US')} calls started in one tick; RSS and heap sampled every 5 ms; baseline: the same burst from raw undici (default Agent), same run`,
        'Each client runs in a fresh `node --import tsx` process (the in-memory TypeScript loader is part of "RSS before")',
      ],
      tables: [
        {
          headers: [
            'run',
            'client',
            'ok',
            'wall',
            'client CPU',
            'fake CPU',
            'RSS before',
            'RSS peak',
            'RSS / call',
            'heap / call',
            'max loop delay',
            'connections',
            'SYN drops',
          ],
          rows,
        },
      ],
      goals,
      notes: [
        '"client CPU" and "fake CPU" are the CPU time each process used during the burst (the fake\'s includes the 200 ms timers and the child start-up is excluded): with 2 cores, a wall time well above max(client, fake) CPU means other processes had the cores.',
        `"SYN drops" is the kernel's ListenOverflows counter during that burst (machine-wide): each drop costs a 1 s SYN retransmit. The fake listens with a backlog of 65,535, capped by net.core.somaxconn (${somaxconn()} here).`,
        '"RSS / call" and "heap / call" are the growth from just before the burst (after one warm-up call and a GC) to the peak, divided by the 10,000 calls in flight.',
      ],
    };
  },
};
