/**
 * Spending caps from the user's side: a shared server must not run up a bill. Through the real MCP client
 * over stdio and through `exai-mcp ask`, a call over EXAI_MAX_COST_PER_CALL, or one that would take a
 * provider past EXAI_MAX_COST_PER_DAY, is refused before anything is sent, with the figures and the setting
 * to change, and is not held against the provider nor handed to the other one.
 */
import { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli-run.js';
import { fakeAndWorkDir, outputOf, reportOf, serverEnv } from './harness.js';
import { RecordingStdioTransport } from './stdio-transport.js';

const shared = fakeAndWorkDir();

describe('spending caps over stdio', () => {
  let client: Client;

  beforeAll(async () => {
    client = new Client({ name: 'e2e-spend', version: '0' });
    const env = serverEnv(shared.dir, {
      fakeUrl: shared.fake.url,
      extra: {
        // The fake echoes the prompt by default: a short answer keeps the cost to what the prompt brings.
        GLM_API_URL: `${shared.fake.url}/mode/ok,content=done/v1`,
        EXAI_MAX_COST_PER_CALL: '0.2',
        EXAI_MAX_COST_PER_DAY: '0.18',
        FALLBACK_ON_FAILURE: 'true',
        BREAKER_FAILURE_THRESHOLD: '1',
      },
    });
    await client.connect(new RecordingStdioTransport({ env, cwd: shared.dir.path }));
  });

  afterAll(async () => {
    await client?.close();
  });

  const chat = async (model: string, prompt: string) => {
    const result = await client.callTool(
      { name: 'chat', arguments: { prompt, model, use_websearch: false } },
      { timeout: 30_000 },
    );
    return { output: outputOf(result), isError: result.isError === true };
  };
  const providerStatus = async (provider: string) => {
    const report = reportOf(await client.callTool({ name: 'status', arguments: {} }));
    return report.data.providers.find((p: { provider: string }) => p.provider === provider);
  };

  it('refuses a call whose worst case is over EXAI_MAX_COST_PER_CALL, naming the figures, sending nothing', async () => {
    shared.fake.reset();
    // kimi-k3 always thinks with a 32,768-token output budget at 15 USD per million: about 0.49 USD at worst.
    const refused = await chat('kimi-k3', 'hi');
    expect(refused.isError).toBe(true);
    expect(refused.output.metadata).toMatchObject({
      error_kind: 'local',
      retryable: false,
      model_used: 'kimi-k3',
      provider_used: 'kimi',
    });
    expect(refused.output.content).toMatch(
      /^kimi-k3 call not sent: it may cost up to \$0\.49\d* \([\d,]+ input and up to 32,768 output tokens\), over EXAI_MAX_COST_PER_CALL=\$0\.2\. Send less context, pick a cheaper model, or raise the cap/,
    );
    // Neither Kimi nor the fallback (GLM) was asked, and the breaker (threshold 1) did not count it.
    expect(shared.fake.requests).toHaveLength(0);
    expect((await providerStatus('kimi')).breaker).toMatchObject({
      state: 'closed',
      consecutive_failures: 0,
    });
  });

  it('refuses a GLM call once today would pass EXAI_MAX_COST_PER_DAY, while a free model still answers', async () => {
    shared.fake.reset();
    // At worst about 114,000 prompt tokens (estimated at 3.5 characters each) at 0.60 USD per million plus
    // glm-4.7's 32,768 output tokens at 2.20: 0.14 USD. The first call fits under 0.18 and costs about 0.06
    // (the provider counts 100,000 prompt tokens); the second (0.06 spent + 0.14) does not.
    const big = 'x'.repeat(400_000);
    const first = await chat('glm-4.7', big);
    expect(first.isError, first.output.content ?? '').toBe(false);
    const spent = first.output.metadata.cost_usd as number;
    expect(spent).toBeGreaterThan(0.05);
    expect(spent).toBeLessThan(0.07);

    const second = await chat('glm-4.7', big);
    expect(second.isError).toBe(true);
    expect(second.output.metadata).toMatchObject({ error_kind: 'local', retryable: false });
    expect(second.output.content).toMatch(
      /^glm-4\.7 call not sent: GLM calls cost \$0\.06\d* today \(UTC\) and this one may cost up to \$0\.14\d* \([\d,]+ input and up to 32,768 output tokens\), over EXAI_MAX_COST_PER_DAY=\$0\.18\. The day turns in \d+(\.\d)? h; raise the cap to go on sooner/,
    );
    // The agent is told when trying again can help: the next UTC midnight.
    const midnight = new Date(Math.ceil(Date.now() / 86_400_000) * 86_400_000).toISOString();
    expect(second.output.metadata.retry_at).toBe(midnight);
    expect(shared.fake.requests).toHaveLength(1);

    // A call that fits what is left of the day is still sent.
    const free = await chat('glm-4.7-flash', 'hello');
    expect(free.isError).toBe(false);
    expect(free.output.content).toBe('done');
    expect(shared.fake.requests).toHaveLength(2);

    const glm = await providerStatus('glm');
    expect(glm.cost_usd).toBe(spent);
    expect(glm.breaker).toMatchObject({ state: 'closed', consecutive_failures: 0 });
  }, 60_000);
});

describe('spending caps in exai-mcp ask', () => {
  it('refuses before sending, exits 1 and prints the figures and the setting', async () => {
    shared.fake.reset();
    const env = serverEnv(shared.dir, {
      fakeUrl: shared.fake.url,
      extra: { EXAI_MAX_COST_PER_CALL: '0.01', FALLBACK_ON_FAILURE: 'true' },
    });
    const run = await runCli(['ask', 'hi', '-m', 'glm-4.7'], env, shared.dir.path);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /✗ local: glm-4\.7 call not sent: it may cost up to \$0\.07\d* \([\d,]+ input and up to 32,768 output tokens\), over EXAI_MAX_COST_PER_CALL=\$0\.01/,
    );
    expect(run.stderr).not.toContain('falling back');
    expect(shared.fake.requests).toHaveLength(0);
  });
});
