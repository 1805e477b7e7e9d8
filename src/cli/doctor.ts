/**
 * `exai-mcp doctor`: checks the configuration, each provider (key present, one tiny live call under a short
 * deadline), the conversation store and the allowed roots, and says what to do about each failure.
 * Exit code 0 when everything needed to serve works, 1 when something is broken, 2 on bad usage/config.
 */
import { parseArgs } from 'node:util';
import { type Config, ConfigError, loadConfig } from '../config/load.js';
import { SETTINGS, type SettingKey } from '../config/settings.js';
import { toExaiError } from '../errors.js';
import type { FilePolicy } from '../files/policy.js';
import { defaultDataDir } from '../memory/data-dir.js';
import { nativeModuleMismatch } from '../memory/sqlite-schema.js';
import { createLogger } from '../observability/logger.js';
import { redactUrl, redactUrlsIn } from '../observability/redact.js';
import { GLM_CODING_PLAN_URL } from '../providers/error-mapping.js';
import { listUpstreamModels } from '../providers/model-list.js';
import type { ProviderName } from '../providers/types.js';
import { Deadline } from '../resilience/deadline.js';
import { createApp } from '../server/app.js';

export const DOCTOR_USAGE = `Usage: exai-mcp doctor [options]

Checks settings, provider keys and connectivity (one tiny call each), the conversation store and the
allowed roots, and prints what to do about anything that fails.

Options:
      --offline          skip the live provider calls
      --timeout <secs>   deadline for each live call (default 20)
      --json             print the report as JSON
  -h, --help             show this help`;

type Status = 'ok' | 'warn' | 'fail';
interface Check {
  name: string;
  status: Status;
  detail: string;
  next?: string;
  ms?: number;
}

const NEXT_STEP: Record<string, string> = {
  auth: 'the key was refused: check it, and that it belongs to this endpoint (the .cn and international platforms differ)',
  quota_exhausted: 'the account has no balance or quota left: recharge it',
  network: 'the endpoint cannot be reached: check the base URL, DNS, proxy and firewall',
  timeout: 'no answer within the deadline: check connectivity, or raise --timeout',
  stalled: 'the endpoint accepted the call but sent nothing: it may be overloaded; try again later',
  // A 404 on the probe is most often a base URL with a wrong or missing path, less often a model id.
  not_found:
    'the endpoint answered 404: check the base URL (GLM_API_URL ends in /api/paas/v4, KIMI_API_URL in /v1); if it is right, the probe model is unknown there: name the ids it serves in EXAI_MODELS_FILE',
  circuit_open: 'the provider failed repeatedly just now; try again after BREAKER_RESET_SECS',
};

export async function runDoctor(argv: string[]): Promise<number> {
  let values: { offline?: boolean; timeout?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        offline: { type: 'boolean' },
        timeout: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    process.stderr.write(`exai-mcp doctor: ${(error as Error).message}\n\n${DOCTOR_USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${DOCTOR_USAGE}\n`);
    return 0;
  }
  const timeoutSecs = Number(values.timeout ?? 20);
  if (!Number.isFinite(timeoutSecs) || timeoutSecs <= 0) {
    process.stderr.write(
      `exai-mcp doctor: --timeout ${values.timeout} ${Number.isFinite(timeoutSecs) ? 'is out of range' : 'is not a number'}: use a number of seconds greater than 0 (default 20).\n`,
    );
    return 2;
  }

  let settings: Config;
  let config: Config;
  try {
    // The probe must test each provider on its own: no fallback, no retries hiding a failure.
    settings = loadConfig();
    config = loadConfig({ overrides: { fallbackOnFailure: false, maxRetries: 0 } });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const logger = createLogger({ level: 'silent' });
  const checks: Check[] = [];
  let app: ReturnType<typeof createApp> | undefined;
  try {
    app = createApp(config, { logger });
    await app.store.ready?.();
    checks.push({
      name: 'store',
      status: 'ok',
      detail: `${config.store} store opened${config.store === 'sqlite' ? ` in ${config.dataDir ?? defaultDataDir(process.env)}` : ''}${app.store.health ? ` at ${redactUrl(app.store.health().url)}` : ''}`,
    });
  } catch (error) {
    const mismatch = nativeModuleMismatch((error as { cause?: unknown }).cause ?? error);
    checks.push({
      name: 'store',
      status: 'fail',
      detail: redactUrlsIn(toExaiError(error).message),
      next: mismatch
        ? 'run `npm rebuild better-sqlite3` with this Node, or set EXAI_STORE=memory'
        : config.store === 'redis'
          ? 'check REDIS_URL and that Redis is running and reachable from here'
          : 'set EXAI_DATA_DIR to a writable folder, or EXAI_STORE=memory',
    });
    await app?.close();
    // The providers and folders do not depend on the store: check them on an in-memory one.
    app = createApp(loadConfig({ overrides: { fallbackOnFailure: false, maxRetries: 0, store: 'memory' } }), {
      logger,
    });
  }

  if (app) {
    for (const provider of ['glm', 'kimi'] as const)
      checks.push(...(await checkProvider(app, provider, !values.offline, timeoutSecs)));
    if (!values.offline && app.gateway.isConfigured('kimi'))
      checks.push(await checkKimiCatalogue(app, config, timeoutSecs));
    checks.push(rootsCheck(app.files));
    const usable = checks.filter(c => c.name.endsWith('live call') && c.status === 'ok').length;
    const keys = (['glm', 'kimi'] as const).filter(p => app?.gateway.isConfigured(p)).length;
    if (keys === 0)
      checks.push({
        name: 'providers',
        status: 'fail',
        detail: 'no provider has a key: model-backed tools cannot answer',
        next: 'set GLM_API_KEY and/or KIMI_API_KEY',
      });
    else if (!values.offline && usable === 0)
      checks.push({ name: 'providers', status: 'fail', detail: 'no configured provider answered' });
    await app.close();
  }

  const report = { version: app?.version, node: process.version, settings: settingsReport(settings), checks };
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(render(report.settings, checks));
  return checks.some(c => c.status === 'fail') ? 1 : 0;
}

async function checkProvider(
  app: ReturnType<typeof createApp>,
  provider: ProviderName,
  live: boolean,
  timeoutSecs: number,
): Promise<Check[]> {
  const label = provider === 'glm' ? 'GLM' : 'Kimi';
  const status = app.gateway.status().find(s => s.provider === provider);
  if (!status?.configured) {
    return [
      {
        name: `${label} key`,
        status: 'warn',
        detail: 'not set',
        next: `set ${status?.keyVariables.join(' or ')} to use ${label} models`,
      },
    ];
  }
  const checks: Check[] = [
    { name: `${label} key`, status: 'ok', detail: `set (${redactUrl(status.baseUrl)})` },
  ];
  if (!live) return checks;
  const started = performance.now();
  // The registry's cheap, fast probe model of this provider, thinking off (the default).
  const probe = app.gateway.registry.defaultFor(provider, 'probe').name;
  const budget = Deadline.start(timeoutSecs * 1000, { label: `${label} ${probe} call` });
  try {
    const response = await app.gateway.chat({
      model: probe,
      messages: [{ role: 'user', content: 'Reply with the single word OK.' }],
      maxOutputTokens: 16,
      budget,
    });
    const ms = Math.round(performance.now() - started);
    checks.push({
      name: `${label} live call`,
      status: 'ok',
      detail: `${response.model} answered in ${ms} ms`,
      ms,
    });
  } catch (thrown) {
    const error = toExaiError(thrown);
    const ms = Math.round(performance.now() - started);
    // 1113 on the general endpoint is most often a Coding Plan key in the wrong place, not an empty balance.
    const codingPlanKey = error.code === '1113' && !app.config.glmApiUrl.includes('/coding/');
    const next = codingPlanKey
      ? `a GLM Coding Plan key? set GLM_API_URL=${GLM_CODING_PLAN_URL}; otherwise recharge the account`
      : NEXT_STEP[error.kind];
    checks.push({
      name: `${label} live call`,
      status: 'fail',
      detail: `${error.kind}: ${redactUrlsIn(error.message)}`,
      ms,
      ...(next && { next }),
    });
  } finally {
    budget.dispose();
  }
  return checks;
}

/**
 * Kimi lists the ids it serves (GLM has no such endpoint): every Kimi id of the configured catalogue that it
 * does not list would answer 404, so name them.
 */
async function checkKimiCatalogue(
  app: ReturnType<typeof createApp>,
  config: Config,
  timeoutSecs: number,
): Promise<Check> {
  const name = 'Kimi catalogue';
  const ours = app.gateway.registry.byProvider('kimi').map(m => m.name);
  const started = performance.now();
  let served: string[];
  try {
    served = await listUpstreamModels(config.kimiApiUrl, config.kimiApiKey ?? '', timeoutSecs * 1000);
  } catch (thrown) {
    const error = toExaiError(thrown);
    return {
      name,
      status: 'warn',
      detail: `could not list Kimi's models (GET /models): ${error.message}`,
      next: 'the catalogue could not be checked; calls still work for ids Kimi serves',
      ms: Math.round(performance.now() - started),
    };
  }
  const ms = Math.round(performance.now() - started);
  const known = new Set(served);
  const unknown = ours.filter(id => !known.has(id));
  if (unknown.length === 0)
    return { name, status: 'ok', detail: `all ${ours.length} Kimi models are served upstream`, ms };
  return {
    name,
    status: 'warn',
    detail: `unknown upstream (calls to them would fail): ${unknown.join(', ')}; Kimi serves: ${served.join(', ')}`,
    next: 'correct or retire these ids in EXAI_MODELS_FILE, or leave them out with KIMI_ALLOWED_MODELS',
    ms,
  };
}

/** No shared folder is a failure: every file-taking tool would refuse its files. */
function rootsCheck(files: FilePolicy): Check {
  const problems = files.rootProblems.join('; ');
  if (files.unshared) {
    return {
      name: 'allowed roots',
      status: 'fail',
      detail: `no folder is shared: ${files.unshared}`,
      next: 'set EXAI_ALLOWED_ROOTS to your project folder(s), absolute paths separated by the path delimiter',
    };
  }
  const denied =
    files.deniedPatterns.length > 0
      ? `; secret files refused: ${files.deniedPatterns.join(', ')}`
      : '; no secret-file patterns (EXAI_DENIED_FILES=none)';
  if (problems) {
    return {
      name: 'allowed roots',
      status: 'warn',
      detail: `${files.roots.join(', ')}${denied}; but ${problems}`,
      next: 'fix EXAI_ALLOWED_ROOTS: absolute, existing folders separated by the path delimiter',
    };
  }
  return { name: 'allowed roots', status: 'ok', detail: `${files.roots.join(', ')}${denied}` };
}

function settingsReport(config: Config): Array<{ name: string; value: string; source: string }> {
  return (Object.keys(SETTINGS) as SettingKey[]).map(key => {
    const spec = SETTINGS[key];
    const source = config.sources[key];
    const raw = config[key];
    const value =
      raw === undefined
        ? '(unset)'
        : spec.unit === 'url'
          ? redactUrl(String(raw))
          : spec.secret
            ? 'set (redacted)'
            : String(raw);
    return {
      name: source.from === 'default' ? (spec.env[0] ?? key) : source.name,
      value,
      source: source.from,
    };
  });
}

function render(settings: ReturnType<typeof settingsReport>, checks: Check[]): string {
  const mark: Record<Status, string> = { ok: '✓', warn: '!', fail: '✗' };
  const width = Math.max(...settings.map(s => s.name.length));
  const valueWidth = Math.min(48, Math.max(...settings.map(s => s.value.length)));
  const lines = [
    'Settings',
    ...settings.map(
      s => `  ${s.name.padEnd(width)}  ${s.value.slice(0, 48).padEnd(valueWidth)}  ${s.source}`,
    ),
    '',
    'Checks',
  ];
  const nameWidth = Math.max(...checks.map(c => c.name.length));
  for (const c of checks) {
    lines.push(`  ${mark[c.status]} ${c.name.padEnd(nameWidth)}  ${c.detail}`);
    if (c.next) lines.push(`    ${' '.repeat(nameWidth)}  → ${c.next}`);
  }
  const failed = checks.filter(c => c.status === 'fail').length;
  lines.push('', failed ? `${failed} check(s) failed.` : 'All checks passed.', '');
  return lines.join('\n');
}
