/**
 * The full provider stack as the server builds it, pointed at fake providers, logging at info to /dev/null
 * through pino's async destination (a real write path, not a silent logger).
 */
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { createGateway, type ModelGateway } from '../../src/providers/gateway.js';

export const BENCH_KEY = 'sk-bench-0123456789';
export const GLM_MODEL = 'glm-4.6';
export const KIMI_MODEL = 'kimi-k2.6';

/** Settings every bench gateway starts from; a scenario overrides what it measures. */
export const BENCH_ENV: Record<string, string> = {
  // Never a real host: an unset provider points at a closed loopback port.
  GLM_API_URL: 'http://127.0.0.1:9/unset',
  KIMI_API_URL: 'http://127.0.0.1:9/unset',
  GLM_API_KEY: BENCH_KEY,
  KIMI_API_KEY: BENCH_KEY,
  FALLBACK_ON_FAILURE: 'false',
  LOG_LEVEL: 'info',
};

export interface BenchGateway {
  gateway: ModelGateway;
  env: Record<string, string>;
  close(): void;
}

export function benchGateway(env: Record<string, string>, logPath = '/dev/null'): BenchGateway {
  const merged = { ...BENCH_ENV, ...env };
  const config = loadConfig({ env: merged, envFile: false });
  const destination = pino.destination({ dest: logPath, sync: false });
  const logger = createLogger({ level: config.logLevel, destination });
  const gateway = createGateway(config, { logger });
  let closed = false;
  return {
    gateway,
    env: merged,
    close: () => {
      if (closed) return;
      closed = true;
      gateway.close();
      try {
        destination.flushSync();
      } catch {
        // Not open yet (a very short run): nothing was buffered that matters for a benchmark.
      }
      destination.end();
    },
  };
}

export const user = (text: string) => [{ role: 'user' as const, content: text }];

/** Only the settings a scenario changed, for the report. */
export function shownSettings(env: Record<string, string>): string {
  return Object.entries(env)
    .filter(([key]) => !/_API_(KEY|URL)$/.test(key))
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');
}
