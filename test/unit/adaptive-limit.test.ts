import { describe, expect, test } from 'vitest';
import { ExaiError } from '../../src/errors.js';
import { concurrencyRefusal } from '../../src/providers/concurrency-refusal.js';
import { mapProviderError } from '../../src/providers/error-mapping.js';
import { createAdaptiveLimit } from '../../src/resilience/adaptive-limit.js';
import { createBulkhead } from '../../src/resilience/bulkhead.js';

type Step =
  | { ok: number; at?: number } // a success started with `ok` calls in flight
  | { refused: number; stale?: boolean; reported?: number; at?: number }; // a refusal at `refused` in flight

const PROBE_MS = 60_000;

/** Runs the steps on a limit with max `max` and returns the limit after each step. */
function run(max: number, steps: Step[]): number[] {
  let clock = 0;
  const limit = createAdaptiveLimit({ max, probeIntervalMs: PROBE_MS, now: () => clock });
  let epochBefore = limit.epoch;
  return steps.map(step => {
    if (step.at !== undefined) clock = step.at;
    if ('ok' in step) {
      limit.onSuccess({ inFlight: step.ok });
    } else {
      const epoch = step.stale ? epochBefore : limit.epoch;
      epochBefore = limit.epoch;
      limit.onLimited({ inFlight: step.refused, epoch, reported: step.reported });
    }
    return limit.limit;
  });
}

const saturated = (n: number, inFlight: number, at?: number): Step[] =>
  Array.from({ length: n }, (_, i) =>
    i === 0 && at !== undefined ? { ok: inFlight, at } : { ok: inFlight },
  );

describe('adaptive concurrency limit', () => {
  test.each<[string, number, Step[], number[]]>([
    ['starts at the configured maximum', 32, [{ ok: 1 }], [32]],
    ['a refusal halves the limit', 32, [{ refused: 32 }], [16]],
    ['a refusal caps the limit below the calls then in flight', 32, [{ refused: 4 }], [3]],
    ['a refusal that names the limit caps it there (Kimi)', 32, [{ refused: 20, reported: 1 }], [1]],
    ['never below 1', 4, [{ refused: 1 }, { refused: 1 }], [1, 1]],
    [
      'one burst halves once; the rest of the burst only lowers it to what each refusal proves',
      32,
      [{ refused: 10 }, { refused: 9, stale: true }, { refused: 8, stale: true }],
      [9, 8, 7],
    ],
    ['a fresh refusal after a decrease halves again', 32, [{ refused: 32 }, { refused: 16 }], [16, 8]],
    [
      'no increase within the probe interval of a refusal, however many successes',
      8,
      [{ refused: 4 }, ...saturated(20, 3, 1_000)],
      [3, ...Array(20).fill(3)],
    ],
    [
      'after the probe interval, +1 once `limit` successes used the whole limit',
      8,
      [{ refused: 4, at: 0 }, ...saturated(3, 3, PROBE_MS), ...saturated(4, 4)],
      [3, 3, 3, 4, 4, 4, 4, 5],
    ],
    [
      'successes below the limit never raise it',
      8,
      [{ refused: 4, at: 0 }, ...saturated(10, 2, PROBE_MS)],
      [3, ...Array(10).fill(3)],
    ],
    ['never above the maximum', 2, [...saturated(5, 2)], [2, 2, 2, 2, 2]],
  ])('%s', (_name, max, steps, expected) => {
    expect(run(max, steps)).toEqual(expected);
  });

  test('a refusal at the floor postpones the next probe', () => {
    let clock = 0;
    const limit = createAdaptiveLimit({ max: 4, probeIntervalMs: PROBE_MS, now: () => clock });
    limit.onLimited({ inFlight: 2, epoch: limit.epoch });
    clock = PROBE_MS - 1;
    limit.onLimited({ inFlight: 1, epoch: limit.epoch });
    clock = PROBE_MS + 10;
    limit.onSuccess({ inFlight: 1 });
    expect(limit.limit).toBe(1);
    clock = 2 * PROBE_MS;
    limit.onSuccess({ inFlight: 1 });
    expect(limit.limit).toBe(2);
    expect(limit.snapshot()).toMatchObject({ limit: 2, max: 4, decreases: 1 });
  });

  test('rejects a nonsensical maximum or factor', () => {
    expect(() => createAdaptiveLimit({ max: 0, probeIntervalMs: 1 })).toThrow(RangeError);
    expect(() => createAdaptiveLimit({ max: 2, probeIntervalMs: 1, decreaseFactor: 1 })).toThrow(RangeError);
  });
});

describe('concurrency refusals', () => {
  const err = (provider: string, code: string, message: string) =>
    new ExaiError('rate_limited', message, { provider, code });
  // As the error mapping builds them from Kimi's bodies (texts as in test/fakes/provider-modes.ts): the
  // message holds the provider's words and our hint, so the test must see both.
  const kimi = (message: string, type = 'rate_limit_reached_error') =>
    mapProviderError({
      provider: 'kimi',
      model: 'kimi-k2.6',
      status: 429,
      body: { error: { type, message } },
    });

  test.each<[string, ExaiError, ReturnType<typeof concurrencyRefusal>]>([
    ['GLM 1302', err('glm', '1302', 'GLM glm-4.6: HTTP 429 [1302]: Rate limit reached for requests'), {}],
    ['GLM 1303 (frequency) is not one', err('glm', '1303', 'frequency'), undefined],
    [
      'Kimi concurrency, with the limit it names',
      kimi(
        'Your account org-x request reached max organization concurrency: 1, please try again after 1 seconds',
      ),
      { reported: 1 },
    ],
    [
      // Its hint says "lower KIMI_MAX_CONCURRENCY": still not a refusal for concurrency.
      'Kimi RPM is not one',
      kimi('Your account org-x request reached organization max RPM: 3, please try again after 1 seconds'),
      undefined,
    ],
    [
      'Kimi TPM is not one',
      kimi('Your account org-x request reached project TPM rate limit, current: 1410, limit: 100'),
      undefined,
    ],
    ['a Kimi 429 with no words is not one', kimi('fake kimi error (HTTP 429)'), undefined],
    [
      'Kimi overload is not one',
      kimi('The engine is currently overloaded, please try again later', 'engine_overloaded_error'),
      undefined,
    ],
    ['a plain Error is not one', new Error('concurrency: 3') as ExaiError, undefined],
  ])('%s', (_name, error, expected) => {
    expect(concurrencyRefusal(error)).toEqual(expected);
  });
});

describe('bulkhead with a learned limit', () => {
  const refusal = new ExaiError('rate_limited', 'GLM: HTTP 429 [1302]', { provider: 'glm', code: '1302' });

  test('a refusal lowers the limit, queued callers wait for it, and a raised limit starts them at once', async () => {
    const clock = 0;
    const learned = createAdaptiveLimit({ max: 4, probeIntervalMs: 1_000, now: () => clock });
    const bulkhead = createBulkhead({
      name: 'GLM',
      limit: 4,
      maxQueue: 100,
      adaptive: { limit: learned, refusal: concurrencyRefusal },
    });
    const signal = new AbortController().signal;
    const releases: Array<() => void> = [];
    const hold = () => new Promise<void>(resolve => releases.push(resolve));
    // Four in flight, the fourth refused: the key allows three.
    const held = [0, 1, 2].map(() => bulkhead.run(hold, signal));
    await expect(bulkhead.run(() => Promise.reject(refusal), signal)).rejects.toBe(refusal);
    expect(bulkhead.limit).toBe(2); // half of 4, below the 3 the refusal proved
    expect(bulkhead.max).toBe(4);
    let started = 0;
    const waiting = [0, 1].map(() =>
      bulkhead.run(async () => {
        started++;
      }, signal),
    );
    expect([bulkhead.active, bulkhead.queued, started]).toEqual([3, 2, 0]);
    releases[0]?.();
    await held[0];
    expect(started).toBe(0); // 2 still in flight: the limit is full
    releases[1]?.();
    releases[2]?.();
    await Promise.all([...held, ...waiting]);
    expect(started).toBe(2);
    expect([bulkhead.active, bulkhead.queued]).toEqual([0, 0]);
  });

  test('failures that are not concurrency refusals leave the limit alone', async () => {
    const learned = createAdaptiveLimit({ max: 3, probeIntervalMs: 1_000 });
    const bulkhead = createBulkhead({
      name: 'GLM',
      limit: 3,
      maxQueue: 1,
      adaptive: { limit: learned, refusal: concurrencyRefusal },
    });
    const signal = new AbortController().signal;
    await expect(
      bulkhead.run(() => Promise.reject(new ExaiError('overloaded', 'busy', { provider: 'glm' })), signal),
    ).rejects.toThrow('busy');
    expect(bulkhead.limit).toBe(3);
  });
});
