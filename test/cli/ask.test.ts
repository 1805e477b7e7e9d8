import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry } from '../../src/providers/registry.js';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';

const BIN = new URL('../../dist/cli/main.js', import.meta.url).pathname;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function ask(args: string[], env: Record<string, string>, stdin?: string): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'ask', ...args], {
      cwd: new URL('../fixtures/', import.meta.url).pathname,
      env: {
        PATH: process.env.PATH ?? '',
        GLM_API_KEY: 'test-key',
        KIMI_API_KEY: 'test-key',
        GLM_API_URL: 'http://127.0.0.1:9/unset',
        KIMI_API_URL: 'http://127.0.0.1:9/unset',
        FALLBACK_ON_FAILURE: 'false',
        PROVIDER_RETRY_BASE_MS: '10',
        PROVIDER_RETRY_CAP_MS: '50',
        ...env,
      },
      stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (stdin !== undefined) child.stdin?.end(stdin);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', d => {
      stdout += d;
    });
    child.stderr?.on('data', d => {
      stderr += d;
    });
    child.once('error', reject);
    child.once('close', code => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

let fake: FakeProvider;
beforeAll(async () => {
  if (!existsSync(BIN))
    throw new Error('dist/cli/main.js is missing: run `npm run build` first (npm test does)');
  fake = await startFakeProvider();
});
afterAll(() => fake.close());

describe('exai-mcp ask', () => {
  it('streams the answer to stdout and exits 0', async () => {
    const run = await ask(['hello there', '--model', 'glm-4.6'], { GLM_API_URL: `${fake.url}/v1` });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('echo: hello there\n');
    expect(run.stderr).toMatch(/✓ glm-4\.6 in .* 1 attempt/);
  });

  it('--json prints the answer with the metadata names the tools use', async () => {
    const run = await ask(['hi', '--json', '-m', 'kimi-k2'], { KIMI_API_URL: `${fake.url}/v1` });
    expect(run.code).toBe(0);
    const answer = JSON.parse(run.stdout) as { metadata: Record<string, unknown> };
    expect(answer).toMatchObject({
      status: 'success',
      content: 'echo: hi',
      content_type: 'text',
      metadata: {
        model_used: 'kimi-k2.6',
        provider_used: 'kimi',
        model_requested: 'kimi-k2',
        attempts: 1,
        finish_reason: 'stop',
        thinking: false,
        use_websearch: false,
        usage: { input_tokens: expect.any(Number), output_tokens: expect.any(Number) },
      },
    });
    expect(answer.metadata.elapsed_ms).toBeGreaterThanOrEqual(0);
    // Every key, nested ones included, is snake_case, as in a tool answer's metadata.
    const keys = JSON.stringify(answer).match(/"[^"]+":/g) ?? [];
    expect(keys.filter(k => /[A-Z]/.test(k))).toEqual([]);
  });

  it('without any key exits 2 naming both keys', async () => {
    const run = await ask(['hi'], { GLM_API_KEY: '', KIMI_API_KEY: '' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no API key is set: set GLM_API_KEY \(GLM\) or KIMI_API_KEY \(Kimi\)/);
    expect(run.stdout).toBe('');
  });

  it('a Kimi model without a Kimi key fails naming the key, unless --fallback asks for GLM', async () => {
    fake.reset();
    const refused = await ask(['hi', '-m', 'kimi-k2.6'], { KIMI_API_KEY: '', GLM_API_URL: `${fake.url}/v1` });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /kimi-k2\.6 is a Kimi model and KIMI_API_KEY or MOONSHOT_API_KEY is not set: set it, or pass --fallback to answer with glm-/,
    );
    expect(fake.requests).toHaveLength(0);

    const fellBack = await ask(['hi', '-m', 'kimi-k2.6', '--fallback'], {
      KIMI_API_KEY: '',
      GLM_API_URL: `${fake.url}/v1`,
    });
    expect(fellBack.code).toBe(0);
    expect(fellBack.stdout).toBe('echo: hi\n');
    expect(fellBack.stderr).toMatch(/✓ glm-\S+ \(fallback from kimi-k2\.6: not_configured\)/);
  });

  it('a Kimi key alone answers a prompt on the default model', async () => {
    const run = await ask(['hi'], { GLM_API_KEY: '', KIMI_API_URL: `${fake.url}/v1` });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('echo: hi\n');
    expect(run.stderr).toMatch(/✓ kimi-/);
  });

  it('reads the prompt from stdin when nothing else gives one, and from `-`', async () => {
    const piped = await ask(['-m', 'glm-4.6'], { GLM_API_URL: `${fake.url}/v1` }, 'from a pipe\n');
    expect(piped.code).toBe(0);
    expect(piped.stdout).toBe('echo: from a pipe\n');
    const dash = await ask(['-', '-m', 'glm-4.6'], { GLM_API_URL: `${fake.url}/v1` }, 'from a file');
    expect(dash.stdout).toBe('echo: from a file\n');
    const empty = await ask(['-'], {}, '  \n');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/the prompt read from stdin is empty/);
  });

  it('--thinking shows the reasoning on stderr, apart from the answer', async () => {
    const run = await ask(['hi', '-m', 'glm-4.7', '--thinking'], {
      GLM_API_URL: `${fake.url}/mode/reasoning,chunks=2/v1`,
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('echo: hi\n');
    expect(run.stderr).toContain('thinking: thinking...thinking...\n');
    expect(run.stderr).toMatch(/✓ glm-4\.7 in .*, thinking on$/m);
  });

  it('--thinking says so when the model sent no reasoning text', async () => {
    const run = await ask(['hi', '-m', 'glm-4.7', '--thinking'], { GLM_API_URL: `${fake.url}/v1` });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/thinking on, no reasoning text returned$/m);
  });

  it('--websearch lists the sources after the answer', async () => {
    const run = await ask(['tides', '-m', 'glm-4.7', '--websearch'], {
      GLM_API_URL: `${fake.url}/mode/glmsearch/v1`,
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      'echo: tides\n\nSources:\n' +
        '  1. Fake result 1 for tides <https://example.com/fake-search/1> (2025-01-01)\n' +
        '  2. Fake result 2 for tides <https://example.com/fake-search/2> (2025-01-02)\n',
    );
    expect(run.stderr).toMatch(/2 web sources$/m);
  });

  it('on a terminal, logs in words without being told to (LOG_FORMAT=auto)', async () => {
    // script(1) runs the command on a pseudo-terminal, as a person's shell would. Asynchronously: the fake
    // provider answers from this process.
    const command = [process.execPath, BIN, 'ask', 'hi', '-m', 'kimi-k2.6', '--fallback'].join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: new URL('../fixtures/', import.meta.url).pathname,
      env: {
        PATH: process.env.PATH ?? '',
        LOG_LEVEL: 'warn',
        GLM_API_KEY: 'k',
        GLM_API_URL: `${fake.url}/v1`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', d => {
      output += d;
    });
    const code = await new Promise(resolve => child.once('close', resolve));
    expect(code, output).toBe(0);
    expect(output).toMatch(/\d\d:\d\d:\d\d warning: falling back to glm-/);
    expect(output).not.toContain('{"level"');
    expect(output).toContain('echo: hi');
  });

  it('logs in words, never JSON lines, between its own lines', async () => {
    const quiet = await ask(['hi', '-m', 'kimi-k2.6', '--fallback'], {
      KIMI_API_KEY: '',
      GLM_API_URL: `${fake.url}/v1`,
    });
    expect(quiet.code).toBe(0);
    expect(quiet.stderr.split('\n').filter(line => line.startsWith('{'))).toEqual([]);
    const verbose = await ask(['hi', '-m', 'kimi-k2.6', '--fallback'], {
      KIMI_API_KEY: '',
      GLM_API_URL: `${fake.url}/v1`,
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'text',
    });
    expect(verbose.stderr).toMatch(/^\d\d:\d\d:\d\d warning: falling back to glm-/m);
    expect(verbose.stderr.split('\n').filter(line => line.startsWith('{'))).toEqual([]);
  });

  it('a hanging provider with GLM_TIMEOUT_SECS=1 exits non-zero in about 1 s with a timeout message', async () => {
    const run = await ask(['hi', '-m', 'glm-4.6'], {
      GLM_API_URL: `${fake.url}/mode/hang/v1`,
      GLM_TIMEOUT_SECS: '1',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/timeout: GLM glm-4\.6 call timed out after 1 s/);
    expect(run.ms).toBeGreaterThanOrEqual(950);
    expect(run.ms).toBeLessThan(5_000);
    await fake.waitForActive(0, 2_000);
  });

  it('a dripping provider ends by its idle timeout', async () => {
    const run = await ask(['hi', '-m', 'glm-4.6'], {
      GLM_API_URL: `${fake.url}/mode/drip,every=50/v1`,
      PROVIDER_FIRST_TOKEN_TIMEOUT_SECS: '0.5',
      PROVIDER_MAX_RETRIES: '0',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/stalled: GLM glm-4\.6: no content arrived for 0\.5 s/);
  });

  it('429 with Retry-After is retried and answers', async () => {
    const run = await ask(['hi', '-m', 'glm-4.6'], {
      GLM_API_URL: `${fake.url}/mode/ratelimit,secs=1,key=cli/v1`,
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/rate_limited; retrying in 1\.0 s/);
    expect(run.stderr).toMatch(/2 attempt/);
  });

  it('401 is not retried', async () => {
    fake.reset();
    const run = await ask(['hi', '-m', 'glm-4.6'], { GLM_API_URL: `${fake.url}/mode/status,code=401/v1` });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/✗ auth: GLM glm-4\.6: HTTP 401/);
    expect(fake.requests).toHaveLength(1);
    expect(run.stderr).not.toContain('test-key');
  });

  it('bad usage exits 2 with a clear message', async () => {
    const run = await ask(['--frobnicate'], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Unknown option '--frobnicate'/);
  });

  it('an unknown model lists the available ones', async () => {
    const run = await ask(['hi', '-m', 'gpt-9'], {});
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Unknown model "gpt-9"\. Available models:/);
  });
});

describe('exai-mcp ask on every model of the catalogue', () => {
  const models = createRegistry().list();
  type Case = { model: (typeof models)[number]; thinking: boolean; search: boolean };
  // Two processes per model (each is a full Node start-up): thinking on, and thinking off, searching too
  // where the model can search (every model without search support is already covered by the first).
  const cases: Case[] = models.flatMap(model => [
    { model, thinking: true, search: false },
    { model, thinking: false, search: model.webSearch },
  ]);

  /** Each run gets its own base path, so its requests can be told apart in fake.requests. */
  async function run(c: Case, i: number) {
    const mode = c.search ? (c.model.provider === 'glm' ? 'glmsearch' : 'kimisearch') : 'ok';
    const url = `${fake.url}/mode/${mode},run=${i}/v1`;
    const result = await ask(
      [
        'hi',
        '--json',
        '-m',
        c.model.name,
        ...(c.thinking ? ['--thinking'] : []),
        ...(c.search ? ['--websearch'] : []),
      ],
      c.model.provider === 'glm' ? { GLM_API_URL: url } : { KIMI_API_URL: url },
    );
    const bodies = fake.requests
      .filter(r => r.path.includes(`run=${i}/`))
      .map(r => r.body as Record<string, unknown>);
    return { result, bodies };
  }

  it(`answers on each of the ${models.length} models with thinking off and on, and with web search where the model has it`, async () => {
    const results: Array<Awaited<ReturnType<typeof run>>> = [];
    // A few CLI processes at a time: each is a full Node start-up.
    for (let i = 0; i < cases.length; i += 6) {
      results.push(...(await Promise.all(cases.slice(i, i + 6).map((c, j) => run(c, i + j)))));
    }
    cases.forEach((c, i) => {
      const { result, bodies } = results[i] as Awaited<ReturnType<typeof run>>;
      const label = `${c.model.name} thinking=${c.thinking} search=${c.search}`;
      expect(result.code, `${label}: ${result.stderr}`).toBe(0);
      expect(JSON.parse(result.stdout).metadata.model_used, label).toBe(c.model.name);
      const body = bodies[0] as Record<string, unknown>;
      expect(body.model, label).toBe(c.model.name);
      // Thinking on exactly when asked for (or on a model that always thinks, which gets no thinking field).
      if (c.model.thinking === 'toggle')
        expect(body.thinking, label).toEqual({ type: c.thinking ? 'enabled' : 'disabled' });
      else expect(body, label).not.toHaveProperty('thinking');
      if (c.model.effort.length > 0 && (c.thinking || c.model.thinking === 'always'))
        expect(c.model.effort, label).toContain(body.reasoning_effort);
      else expect(body, label).not.toHaveProperty('reasoning_effort');
      // The provider's own output field, within the model's ceiling; the other field never.
      const [field, other] =
        c.model.provider === 'glm'
          ? ['max_tokens', 'max_completion_tokens']
          : ['max_completion_tokens', 'max_tokens'];
      expect(body[field], label).toBeGreaterThan(0);
      expect(body[field] as number, label).toBeLessThanOrEqual(c.model.maxOutputTokens);
      expect(body, label).not.toHaveProperty(other);
      // No sampling parameters for models that fix their own.
      if (c.model.temperature === 'omit') {
        for (const key of ['temperature', 'top_p', 'n', 'presence_penalty', 'frequency_penalty'])
          expect(body, label).not.toHaveProperty(key);
      }
      if (c.search) {
        expect(body.tools, label).toBeDefined();
        if (c.model.provider === 'kimi') {
          // The $web_search round trip: the assistant tool-call turn carries reasoning_content.
          expect(bodies, label).toHaveLength(2);
          const assistant = ((bodies[1]?.messages ?? []) as Array<Record<string, unknown>>).find(
            m => m.tool_calls,
          );
          expect(assistant?.reasoning_content, label).toBe(' ');
          expect(bodies[1]?.thinking, label).toEqual({ type: 'disabled' });
        }
      } else expect(body, label).not.toHaveProperty('tools');
    });
  }, 400_000);

  it('a retired id fails before any request, naming its successor', async () => {
    fake.reset();
    const run = await ask(['hi', '-m', 'kimi-k2-0905-preview'], { KIMI_API_URL: `${fake.url}/v1` });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/kimi-k2-0905-preview was retired by Moonshot .*; use kimi-k2\.6/);
    expect(fake.requests).toHaveLength(0);
  });
});
