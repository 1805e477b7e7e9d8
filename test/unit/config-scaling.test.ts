import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const load = (env: Record<string, string>) => loadConfig({ envFile: false, env });

function problems(env: Record<string, string>): string[] {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a configuration error');
}

describe('settings for several replicas', () => {
  it('accepts the Redis store with a redis:// or rediss:// URL', () => {
    expect(load({ EXAI_STORE: 'redis', REDIS_URL: 'redis://redis:6379' })).toMatchObject({
      store: 'redis',
      redisUrl: 'redis://redis:6379',
      redisKeyPrefix: 'exai:',
    });
    expect(load({ REDIS_URL: 'rediss://user:pw@cache.example:6380/1' }).redisUrl).toBe(
      'rediss://user:pw@cache.example:6380/1',
    );
  });

  it('refuses EXAI_STORE=redis without REDIS_URL, saying what to set', () => {
    expect(problems({ EXAI_STORE: 'redis' })).toEqual([
      expect.stringMatching(/EXAI_STORE=redis needs REDIS_URL/),
    ]);
  });

  it('refuses a REDIS_URL that is not a Redis URL, without echoing it (it may hold a password)', () => {
    const [problem] = problems({ REDIS_URL: 'http://user:hunter2@x' });
    expect(problem).toMatch(/REDIS_URL=<redacted>: must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(problem).not.toContain('hunter2');
  });

  it('leaves EXAI_HTTP_STATELESS unset (automatic) unless given', () => {
    expect(load({}).httpStateless).toBeUndefined();
    expect(load({ EXAI_HTTP_STATELESS: 'false' }).httpStateless).toBe(false);
    expect(load({ EXAI_HTTP_STATELESS: '1' }).httpStateless).toBe(true);
  });
});
