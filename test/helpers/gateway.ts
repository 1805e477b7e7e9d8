import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { createGateway, type ModelGateway } from '../../src/providers/gateway.js';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';

export interface TestGateway {
  gateway: ModelGateway;
  /** Every log record written, parsed. */
  logs: Array<Record<string, unknown>>;
  /** The raw log text, to check nothing secret was written. */
  logText(): string;
  close(): void;
}

export const TEST_KEY = 'sk-test-SECRET-0123456789';

/** A gateway wired to the fake provider, with fast defaults a test can override with env-style settings. */
export function testGateway(env: Record<string, string>, options: { stream?: boolean } = {}): TestGateway {
  const config = loadConfig({
    envFile: false,
    env: {
      // Never the real hosts: an unset provider points at a closed loopback port.
      GLM_API_URL: 'http://127.0.0.1:9/unset',
      KIMI_API_URL: 'http://127.0.0.1:9/unset',
      FALLBACK_ON_FAILURE: 'false',
      GLM_API_KEY: TEST_KEY,
      KIMI_API_KEY: TEST_KEY,
      PROVIDER_RETRY_BASE_MS: '10',
      PROVIDER_RETRY_CAP_MS: '50',
      GLM_TIMEOUT_SECS: '5',
      KIMI_TIMEOUT_SECS: '5',
      LOG_LEVEL: 'debug',
      ...env,
    },
  });
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ level: config.logLevel, destination });
  const gateway = createGateway(config, {
    logger,
    ...(options.stream !== undefined && { stream: options.stream }),
  });
  return {
    gateway,
    get logs() {
      return chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map(line => JSON.parse(line) as Record<string, unknown>);
    },
    logText: () => chunks.join(''),
    close: () => gateway.close(),
  };
}

export const user = (text: string) => [{ role: 'user' as const, content: text }];

/** Resolves with the rejection of a promise that must fail. */
export async function rejection(promise: Promise<unknown>): Promise<Record<string, unknown> & Error> {
  try {
    await promise;
  } catch (error) {
    return error as Record<string, unknown> & Error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** Handles this process holds that a finished test must not leave behind (sockets, servers, timers). */
export function liveHandles(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter(name => name === 'TCPSocketWrap' || name === 'TCPServerWrap' || name === 'Timeout');
}

/**
 * One fake provider per test file and the gateway of the current test: `suite.gateway(env)` builds it, and
 * after each test it is closed, the fake's in-flight requests are awaited and its counters reset.
 */
export interface FakeSuite {
  readonly fake: FakeProvider;
  /** The gateway built by the running test. */
  readonly t: TestGateway;
  gateway(env: Record<string, string>, options?: { stream?: boolean }): TestGateway;
}

export function fakeProviderSuite(): FakeSuite {
  let fake: FakeProvider | undefined;
  let current: TestGateway | undefined;
  let before: string[] = [];
  beforeAll(async () => {
    before = liveHandles();
    fake = await startFakeProvider();
  });
  afterEach(async () => {
    current?.close();
    current = undefined;
    await fake?.waitForActive(0, 2_000);
    fake?.reset();
  });
  afterAll(async () => {
    await fake?.close();
    // Every gateway closed and the fake gone: no socket, server or timer of ours may be left running.
    // (libuv releases a closed handle a few ticks after its close callback, so allow it a moment.)
    const leftOver = () =>
      [...before].reduce((list, handle) => {
        const i = list.indexOf(handle);
        return i < 0 ? list : [...list.slice(0, i), ...list.slice(i + 1)];
      }, liveHandles());
    for (let i = 0; i < 50 && leftOver().length > 0; i++)
      await new Promise(resolve => setTimeout(resolve, 10));
    const left = leftOver();
    if (left.length > 0) throw new Error(`open handles after the suite: ${left.join(', ')}`);
  });
  return {
    get fake() {
      if (!fake) throw new Error('the fake provider starts in beforeAll');
      return fake;
    },
    get t() {
      if (!current) throw new Error('no gateway yet: call suite.gateway(env) first');
      return current;
    },
    gateway(env, options = {}) {
      current?.close();
      current = testGateway(env, options);
      return current;
    },
  };
}
