/**
 * 6. Breaker: a provider that fails (503) until the breaker opens, then recovers. While open, calls must fail
 * fast; once the reset time is over, the next call is the probe and must close it. Baseline: the same call
 * to a healthy instant provider, same gateway settings, same run.
 */
import { isExaiError } from '../src/errors.js';
import { benchGateway, GLM_MODEL, KIMI_MODEL, shownSettings, user } from './lib/gateway.js';
import type { Goal, Scenario, ScenarioResult } from './lib/scenario.js';
import { medianBy, ms, ratio, sleep, summarize, us } from './lib/stats.js';

const THRESHOLD = 5;
const RESET_MS = 1_000;
const FAST_FAIL_CALLS = 5_000;
const POLL_MS = 5;

interface RunResult {
  failuresToOpen: number;
  fastP50: number;
  fastP99: number;
  fastMax: number;
  fastKinds: string;
  /** 1,000 calls started at once while open: until the last one failed. */
  concurrentWall: number;
  healthyP50: number;
  /** From the call that opened the breaker ending to the first successful call ending. */
  recoveredMs: number;
  probeMs: number;
  transitions: string;
}

export const breakerRecovery: Scenario = {
  name: 'breaker',
  title: '6. Breaker (failing provider, then recovering)',
  defaultRuns: 3,
  async run(ctx): Promise<ScenarioResult> {
    const fake = await ctx.fake.start();
    const runs: RunResult[] = [];
    const env = {
      BREAKER_FAILURE_THRESHOLD: String(THRESHOLD),
      BREAKER_RESET_SECS: String(RESET_MS / 1000),
      PROVIDER_MAX_RETRIES: '0',
    };
    for (let run = 0; run < ctx.runs; run++) {
      // flaky: the first THRESHOLD requests with this key answer 503, every later one answers.
      const g = benchGateway({
        ...env,
        GLM_API_URL: `${fake.url}/mode/flaky,fail=${THRESHOLD},code=503,key=run${run}-${Date.now()}/v1`,
        KIMI_API_URL: `${fake.url}/v1`,
      });
      const glm = () => g.gateway.chat({ model: GLM_MODEL, messages: user('hello') });
      try {
        // Baseline: a healthy call on the other provider (same fake, same process).
        for (let i = 0; i < 200; i++) await g.gateway.chat({ model: KIMI_MODEL, messages: user('hello') });
        const healthy: number[] = [];
        for (let i = 0; i < 1_000; i++) {
          const t0 = performance.now();
          await g.gateway.chat({ model: KIMI_MODEL, messages: user('hello') });
          healthy.push(performance.now() - t0);
        }

        let failuresToOpen = 0;
        let openedAt = 0;
        while (failuresToOpen < 50) {
          failuresToOpen++;
          await glm().catch(() => undefined);
          if (g.gateway.status().find(s => s.provider === 'glm')?.breaker.state === 'open') {
            openedAt = performance.now();
            break;
          }
        }
        if (!openedAt) throw new Error(`breaker: still closed after ${failuresToOpen} failures`);

        const fast: number[] = [];
        const kinds = new Map<string, number>();
        for (let i = 0; i < FAST_FAIL_CALLS && performance.now() - openedAt < RESET_MS / 2; i++) {
          const t0 = performance.now();
          const error = await glm().then(
            () => undefined,
            (e: unknown) => e,
          );
          fast.push(performance.now() - t0);
          const kind = isExaiError(error) ? error.kind : 'answered';
          kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        }
        // 1,000 at once while open: the fast path under concurrency.
        const t0 = performance.now();
        await Promise.all(Array.from({ length: 1_000 }, () => glm().catch(() => undefined)));
        const concurrentWall = performance.now() - t0;

        let recoveredMs = Number.NaN;
        let probeMs = Number.NaN;
        while (performance.now() - openedAt < RESET_MS + 2_000) {
          const s = performance.now();
          const ok = await glm().then(
            () => true,
            () => false,
          );
          if (ok) {
            probeMs = performance.now() - s;
            recoveredMs = performance.now() - openedAt;
            break;
          }
          await sleep(POLL_MS);
        }
        const fs = summarize(fast);
        runs.push({
          failuresToOpen,
          fastP50: fs.p50,
          fastP99: fs.p99,
          fastMax: fs.max,
          fastKinds: [...kinds].map(([k, n]) => `${k} ×${n}`).join(', '),
          concurrentWall,
          healthyP50: summarize(healthy).p50,
          recoveredMs,
          probeMs,
          transitions:
            g.gateway
              .status()
              .find(s => s.provider === 'glm')
              ?.breaker.transitions.map(t => t.to)
              .join(' → ') ?? '',
        });
        ctx.log(`breaker: run ${run + 1}/${ctx.runs} done`);
      } finally {
        g.close();
      }
    }

    const rows = runs.map((r, i) => [
      String(i + 1),
      String(r.failuresToOpen),
      `${us(r.fastP50)} / ${us(r.fastP99)} / ${us(r.fastMax)}`,
      ms(r.concurrentWall, 1),
      us(r.healthyP50),
      ratio(r.healthyP50 / r.fastP50),
      ms(r.recoveredMs, 0),
      ms(r.probeMs, 2),
      r.transitions,
    ]);
    const mid = medianBy(runs, r => r.fastP99);
    const worstRecovery = Math.max(...runs.map(r => r.recoveredMs - r.probeMs));
    const goals: Goal[] = [
      {
        goal: 'fast-fail p99 ≤ 1 ms while open (median run)',
        measured: `${us(mid.fastP99)} (${mid.fastKinds}); a healthy instant call: ${us(mid.healthyP50)} p50`,
        met: mid.fastP99 <= 1,
      },
      {
        goal: 'healthy again within the reset time plus one probe',
        measured: `worst: recovered ${ms(Math.max(...runs.map(r => r.recoveredMs)), 0)} after opening = reset ${RESET_MS} ms + ${ms(worstRecovery - RESET_MS, 1)} (poll every ${POLL_MS} ms) + probe`,
        met: runs.every(r => Number.isFinite(r.recoveredMs)) && worstRecovery <= RESET_MS + POLL_MS + 5,
      },
    ];
    return {
      name: 'breaker',
      title: breakerRecovery.title,
      setup: [
        `GLM → fake \`flaky,fail=${THRESHOLD},code=503\` (503 for the first ${THRESHOLD} requests, then answers at once), fresh key per run; Kimi → fake \`ok\` for the baseline`,
        `exai: ${shownSettings(env)}, fallback off, info logs to /dev/null`,
        `sequential GLM calls until the breaker opens; then up to ${FAST_FAIL_CALLS.toLocaleString('en-US')} sequential calls for ${RESET_MS / 2} ms while open, then 1,000 at once; then a call every ${POLL_MS} ms until one succeeds`,
      ],
      tables: [
        {
          headers: [
            'run',
            'calls to open',
            'fast-fail p50 / p99 / max',
            '1,000 at once: all failed in',
            'healthy call p50',
            'healthy / fast-fail',
            'recovered after',
            'probe',
            'transitions',
          ],
          rows,
        },
      ],
      goals,
      notes: [
        '"recovered after" runs from the moment the failing call that opened the breaker returned to the end of the first successful call (the probe).',
        'The half-open transition is lazy (cockatiel): the first call after the reset time is the probe; callers arriving while it runs fail fast.',
      ],
    };
  },
};
