import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpPool } from '../../src/http/pool.js';
import { createLogger } from '../../src/observability/logger.js';
import { glmDialect } from '../../src/providers/glm.js';
import { createProvider, type ProviderRuntime } from '../../src/providers/provider.js';
import { createRegistry } from '../../src/providers/registry.js';
import { fakeProviderSuite, rejection, TEST_KEY, user } from '../helpers/gateway.js';

const suite = fakeProviderSuite();

/** About 10,000 prompt tokens (4 characters each). */
const BIG_PROMPT = 'word '.repeat(8_000);

describe('slow but alive is not a stall', () => {
  it('a thinking model that streams reasoning for longer than the first-token timeout completes', async () => {
    suite.gateway({
      GLM_API_URL: `${suite.fake.url}/mode/reasoning,chunks=6,every=200/v1`,
      PROVIDER_FIRST_TOKEN_TIMEOUT_SECS: '0.3',
      PROVIDER_MAX_RETRIES: '0',
    });
    const started = performance.now();
    const response = await suite.t.gateway.chat({ model: 'glm-4.6', messages: user('hi'), thinking: true });
    expect(performance.now() - started).toBeGreaterThan(600);
    expect(response.content).toBe('echo: hi');
    expect(response.reasoningContent).toContain('thinking...');
    expect(response.attempts).toBe(1);
  });

  it('a long silence before the first byte is allowed more time the bigger the prompt', async () => {
    const env = {
      GLM_API_URL: `${suite.fake.url}/mode/delay,ms=900/v1`,
      PROVIDER_FIRST_TOKEN_TIMEOUT_SECS: '0.3',
      PROVIDER_MAX_RETRIES: '0',
    };
    suite.gateway(env);
    const small = await rejection(suite.t.gateway.chat({ model: 'glm-4.6', messages: user('hi') }));
    expect(small.kind).toBe('stalled');
    expect(small.message).toMatch(/no content arrived for 0\.3 s/);

    suite.gateway(env);
    const response = await suite.t.gateway.chat({ model: 'glm-4.6', messages: user(BIG_PROMPT) });
    expect(response.attempts).toBe(1);
    expect(response.content.startsWith('echo: word')).toBe(true);
  });

  it.each(['hang', 'drip,every=50'])(
    'a dead provider (%s) given a big prompt still ends at the call deadline',
    async mode => {
      suite.gateway({
        GLM_API_URL: `${suite.fake.url}/mode/${mode}/v1`,
        PROVIDER_FIRST_TOKEN_TIMEOUT_SECS: '0.3',
        GLM_TIMEOUT_SECS: '1',
      });
      const started = performance.now();
      const error = await rejection(suite.t.gateway.chat({ model: 'glm-4.6', messages: user(BIG_PROMPT) }));
      const elapsed = performance.now() - started;
      expect(error.kind).toBe('timeout');
      expect(elapsed).toBeGreaterThanOrEqual(950);
      expect(elapsed).toBeLessThan(3_000);
      await suite.fake.waitForActive(0, 2_000);
    },
  );
});

describe('the per-1K-token allowance is a setting', () => {
  let provider: ProviderRuntime | undefined;
  const pool = createHttpPool({ maxSocketsPerOrigin: 4 });
  afterEach(() => {
    provider?.dispose();
    provider = undefined;
    pool.destroy();
  });

  const make = (msPer1k: number) =>
    createProvider(
      glmDialect,
      {
        baseUrl: `${suite.fake.url}/mode/delay,ms=900/v1`,
        apiKey: TEST_KEY,
        timeoutMs: 5_000,
        firstTokenMs: 300,
        firstTokenMsPer1kPromptTokens: msPer1k,
        idleMs: 5_000,
        connectTimeoutMs: 1_000,
        retry: { maxRetries: 0, baseMs: 10, capMs: 50 },
        maxConcurrency: 4,
        maxQueue: 10,
        concurrencyProbeMs: 60_000,
        maxRequestBytes: 1_048_576,
        breakerThreshold: 5,
        breakerResetMs: 1_000,
        toolLoopMaxIterations: 3,
        stream: true,
      },
      {
        pool,
        logger: createLogger({
          level: 'silent',
          destination: new Writable({ write: (_c, _e, done) => done() }),
        }),
      },
    );
  const model = createRegistry().byProvider('glm')[0];

  it('0 turns the allowance off: the floor alone decides, whatever the prompt', async () => {
    provider = make(0);
    const error = await rejection(
      provider.call({ model: model!, messages: user(BIG_PROMPT), thinking: false, webSearch: false }),
    );
    expect(error.kind).toBe('stalled');
  });

  it('a larger allowance lets the same slow start through', async () => {
    provider = make(1_000);
    const response = await provider.call({
      model: model!,
      messages: user(BIG_PROMPT),
      thinking: false,
      webSearch: false,
    });
    expect(response.attempts).toBe(1);
  });
});
