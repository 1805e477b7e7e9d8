/**
 * 3. Hang storm: 1,000 calls to a GLM that never answers and 1,000 to a healthy Kimi (200 ms) at once. GLM and
 * Kimi are separate fake instances (separate origins, as in life), with separate bulkheads. Baseline: the
 * same 1,000 healthy calls alone, in the same run.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { isExaiError } from '../src/errors.js';
import type { RemoteFake } from './lib/fake-process.js';
import { BENCH_KEY, benchGateway, GLM_MODEL, KIMI_MODEL, shownSettings, user } from './lib/gateway.js';
import { burst, type Outcome } from './lib/load.js';
import type { Goal, Scenario, ScenarioResult } from './lib/scenario.js';
import { median, medianBy, ms, ratio, summarize } from './lib/stats.js';

const N = 1_000;
const DEADLINE_MS = 2_000;
const HEALTHY_MS = 200;

interface RunResult {
  /** The same storm from a raw undici client (AbortController + setTimeout per hung call). */
  rawHealthyP99: number;
  rawLatenessMax: number;
  rawHungSocketsAfter: number;
  healthyOk: number;
  healthyP50: number;
  healthyP99: number;
  aloneP99: number;
  hungTimeouts: number;
  hungOther: string[];
  latenessP50: number;
  latenessP99: number;
  latenessMax: number;
  /** Sockets the hung provider still had open once every hung call had ended. */
  hungSocketsAfter: number;
  /** ms after the last hung call ended until the hung provider saw all its sockets closed. */
  socketsClosedAfterMs: number;
  /** Both providers' sockets after gateway.close(). */
  allSocketsAfterClose: number;
  loopDelayP99: number;
}

async function rawStorm(
  hung: RemoteFake,
  healthyUrl: string,
): Promise<{ rawHealthyP99: number; rawLatenessMax: number; rawHungSocketsAfter: number }> {
  const hungUrl = hung.url;
  const agent = new Agent();
  const body = JSON.stringify({ model: KIMI_MODEL, messages: user('hello'), stream: true });
  const post = async (base: string, signal?: AbortSignal) => {
    const res = await request(`${base}/chat/completions`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` },
      body,
      ...(signal && { signal }),
    });
    return res.body.text();
  };
  const hungCall = () => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), DEADLINE_MS);
    return post(`${hungUrl}/mode/hang/v1`, controller.signal).finally(() => clearTimeout(timer));
  };
  const healthyBase = `${healthyUrl}/mode/delay,ms=${HEALTHY_MS}/v1`;
  try {
    await burst(N, () => post(healthyBase));
    const outcomes = await burst(2 * N, i => (i % 2 === 0 ? hungCall() : post(healthyBase)));
    const dur = (o: Outcome<unknown>) => o.endedAt - o.startedAt;
    // pool.ts chose node:http over undici because aborted undici requests were seen to leave sockets open.
    const after = await hung.waitForOpenSockets(0, 2_000).catch(() => hung.stats());
    return {
      rawHealthyP99: summarize(outcomes.filter((_, i) => i % 2 === 1).map(dur)).p99,
      rawLatenessMax: summarize(outcomes.filter((_, i) => i % 2 === 0).map(o => dur(o) - DEADLINE_MS)).max,
      rawHungSocketsAfter: after.openSockets,
    };
  } finally {
    await agent.destroy();
  }
}

export const hangStorm: Scenario = {
  name: 'hang',
  title: '3. Hang storm (1,000 hung + 1,000 healthy calls at once)',
  defaultRuns: 3,
  async run(ctx): Promise<ScenarioResult> {
    const hung = await ctx.fake.start();
    const healthy = await ctx.fake.start();
    const env = {
      GLM_API_URL: `${hung.url}/mode/hang/v1`,
      KIMI_API_URL: `${healthy.url}/mode/delay,ms=${HEALTHY_MS}/v1`,
      GLM_TIMEOUT_SECS: String(DEADLINE_MS / 1000),
      KIMI_TIMEOUT_SECS: String(DEADLINE_MS / 1000),
      GLM_MAX_CONCURRENCY: String(N),
      KIMI_MAX_CONCURRENCY: String(N),
      PROVIDER_MAX_CONNECTIONS: String(N),
    };
    const runs: RunResult[] = [];
    for (let run = 0; run < ctx.runs; run++) {
      const g = benchGateway(env);
      const ask = (model: string) => g.gateway.chat({ model, messages: user('hello') });
      try {
        // Warm-up (fills the Kimi keep-alive pool) and baseline: the healthy calls alone.
        await burst(N, () => ask(KIMI_MODEL));
        const alone = await burst(N, () => ask(KIMI_MODEL));
        if (alone.some(o => !o.ok)) throw new Error('hang: a healthy call failed without the storm');

        const loop = monitorEventLoopDelay({ resolution: 10 });
        loop.enable();
        const calls = burst(2 * N, i => ask(i % 2 === 0 ? GLM_MODEL : KIMI_MODEL));
        const outcomes = await calls;
        loop.disable();
        const lastHungEnd = Math.max(...outcomes.filter((_, i) => i % 2 === 0).map(o => o.endedAt));
        const stats = await hung.waitForOpenSockets(0, 2_000).catch(() => hung.stats());
        const socketsClosedAfterMs = Math.max(0, performance.now() - lastHungEnd);
        const hungStats = await hung.stats();
        g.close();
        const [a, b] = await Promise.all([
          hung.waitForOpenSockets(0, 2_000).catch(() => hung.stats()),
          healthy.waitForOpenSockets(0, 2_000).catch(() => healthy.stats()),
        ]);

        const healthyOutcomes = outcomes.filter((_, i) => i % 2 === 1);
        const hungOutcomes = outcomes.filter((_, i) => i % 2 === 0);
        const dur = (o: Outcome<unknown>) => o.endedAt - o.startedAt;
        const healthyLat = summarize(healthyOutcomes.filter(o => o.ok).map(dur));
        const lateness = summarize(hungOutcomes.map(o => dur(o) - DEADLINE_MS));
        const hungOther = hungOutcomes
          .filter(o => !(isExaiError(o.error) && o.error.kind === 'timeout'))
          .map(o => (o.ok ? 'answered' : isExaiError(o.error) ? o.error.kind : String(o.error)));
        const raw = await rawStorm(hung, healthy.url);
        runs.push({
          ...raw,
          healthyOk: healthyOutcomes.filter(o => o.ok).length,
          healthyP50: healthyLat.p50,
          healthyP99: healthyLat.p99,
          aloneP99: summarize(alone.map(dur)).p99,
          hungTimeouts: hungOutcomes.length - hungOther.length,
          hungOther,
          latenessP50: lateness.p50,
          latenessP99: lateness.p99,
          latenessMax: lateness.max,
          hungSocketsAfter: stats.openSockets === 0 ? 0 : hungStats.openSockets,
          socketsClosedAfterMs,
          allSocketsAfterClose: a.openSockets + b.openSockets,
          loopDelayP99: loop.percentile(99) / 1e6,
        });
        ctx.log(`hang: run ${run + 1}/${ctx.runs} done`);
      } finally {
        g.close();
      }
    }

    const rows = runs.map((r, i) => [
      String(i + 1),
      `${r.healthyOk}/${N}`,
      ms(r.healthyP50),
      ms(r.healthyP99),
      ms(r.aloneP99),
      ms(r.rawHealthyP99),
      ratio(r.healthyP99 / r.rawHealthyP99),
      `${r.hungTimeouts}/${N}`,
      `+${ms(r.latenessP50)} / +${ms(r.latenessP99)} / +${ms(r.latenessMax)}`,
      String(r.hungSocketsAfter),
      String(r.allSocketsAfterClose),
      ms(r.loopDelayP99),
    ]);
    const worst = <K extends keyof RunResult>(key: K) => Math.max(...runs.map(r => Number(r[key])));
    const mid = medianBy(runs, r => r.healthyP99);
    const allOk = runs.every(r => r.healthyOk === N);
    const goals: Goal[] = [
      {
        goal: '100 % of healthy calls succeed',
        measured: runs.map(r => `${((r.healthyOk / N) * 100).toFixed(1)} %`).join(', '),
        met: allOk,
      },
      {
        goal: 'healthy p99 ≤ 300 ms (median run)',
        measured: `${ms(mid.healthyP99)} (raw undici in the same storm: ${ms(mid.rawHealthyP99)}; the same calls alone: ${ms(mid.aloneP99)})`,
        met: mid.healthyP99 <= 300,
      },
      {
        goal: `every hung call ends at its deadline (${DEADLINE_MS / 1000} s) + ≤ 50 ms`,
        measured: `worst +${ms(worst('latenessMax'))}; all timeouts: ${
          runs.every(r => r.hungOther.length === 0)
            ? 'yes'
            : `no (${runs
                .flatMap(r => r.hungOther)
                .slice(0, 3)
                .join(', ')})`
        }`,
        met: worst('latenessMax') <= 50 && runs.every(r => r.hungOther.length === 0),
      },
      {
        goal: 'zero upstream sockets left open afterwards',
        measured: `hung provider: ${worst('hungSocketsAfter')} open once the hung calls ended (closed ≤ ${ms(worst('socketsClosedAfterMs'))} after the last); both: ${worst('allSocketsAfterClose')} after gateway.close()`,
        met: worst('hungSocketsAfter') === 0 && worst('allSocketsAfterClose') === 0,
      },
    ];
    return {
      name: 'hang',
      title: hangStorm.title,
      setup: [
        `GLM → fake \`hang\` (never sends headers), Kimi → fake \`delay,ms=${HEALTHY_MS}\`, two fake instances (two origins) in one separate process`,
        `${shownSettings(env)}; other settings default (3 retries, breaker threshold 5, info logs to /dev/null)`,
        `${N} GLM + ${N} Kimi calls started in the same tick, interleaved, after ${N} Kimi calls that fill the keep-alive pool; baselines: the ${N} Kimi calls alone (same gateway, just before), and the same storm sent by a raw undici client (default Agent, an AbortController + setTimeout(${DEADLINE_MS} ms) per hung call)`,
      ],
      tables: [
        {
          headers: [
            'run',
            'healthy ok',
            'healthy p50',
            'healthy p99',
            'alone p99',
            'raw undici p99',
            'vs raw',
            'hung → timeout',
            'hung lateness p50 / p99 / max',
            'hung sockets after',
            'sockets after close',
            'loop delay p99',
          ],
          rows,
        },
      ],
      goals,
      notes: [
        'Lateness = time from the call start to its rejection, minus the deadline.',
        `"hung sockets after" is the hung fake's open-socket count once every hung call has ended (no gateway.close() yet): the gateway must have destroyed every abandoned socket by itself.`,
        'The breaker opens on the first hung timeouts (5 consecutive); the hung calls already in flight still end at their own deadline.',
        `Median healthy p99 across runs: ${ms(median(runs.map(r => r.healthyP99)))}; raw undici: ${ms(median(runs.map(r => r.rawHealthyP99)))} (its hung calls ended up to +${ms(Math.max(...runs.map(r => r.rawLatenessMax)))} late, and left ${Math.max(...runs.map(r => r.rawHungSocketsAfter))} sockets open on the hung provider).`,
        'Both clients issue 2,000 requests from one event loop in one tick; the healthy answers can only be read once that is done, so the healthy p99 is set by the CPU cost of issuing the storm (see the overhead section for the cost per call), not by the hung calls holding anything.',
      ],
    };
  },
};
