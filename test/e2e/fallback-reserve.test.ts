/**
 * Room for the fallback, through the built binary: with GLM hung and Kimi healthy, chat (over stdio, the real
 * MCP client) and `exai-mcp ask` once spent the whole budget on GLM (300 s by default) and left Kimi none.
 * Now GLM must start answering within its share (60 % by default, FALLBACK_RESERVE_FRACTION) and Kimi gets
 * the rest; a GLM stream that is answering keeps the whole budget.
 */
import { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../fakes/fake-provider.js';
import { runCli } from './cli-run.js';
import { fakeAndWorkDir, outputOf, serverEnv } from './harness.js';
import { RecordingStdioTransport } from './stdio-transport.js';

const shared = fakeAndWorkDir();

/** GLM's requests (a hung or slow mode in the path) and Kimi's, in arrival order. */
const byProvider = (requests: readonly RecordedRequest[]) => ({
  glm: requests.filter(r => r.path.includes('/mode/hang/') || r.path.includes('/mode/slow')),
  kimi: requests.filter(r => r.path.includes('/mode/delay')),
});

function fallbackEnv(glmMode: string, timeoutSecs: number): Record<string, string> {
  return serverEnv(shared.dir, {
    fakeUrl: shared.fake.url,
    extra: {
      GLM_API_URL: `${shared.fake.url}/mode/${glmMode}/v1`,
      // Kimi answers, but takes its time: the test shows it was left enough of the budget to do so.
      KIMI_API_URL: `${shared.fake.url}/mode/delay,ms=600/v1`,
      GLM_TIMEOUT_SECS: String(timeoutSecs),
      FALLBACK_ON_FAILURE: 'true',
    },
  });
}

describe('chat over stdio with GLM hung and Kimi healthy', () => {
  let client: Client;

  beforeAll(async () => {
    shared.fake.reset();
    client = new Client({ name: 'e2e-fallback', version: '0' });
    await client.connect(new RecordingStdioTransport({ env: fallbackEnv('hang', 4), cwd: shared.dir.path }));
  });

  afterAll(async () => {
    await client?.close();
  });

  it('answers from Kimi within the budget, saying GLM used its 60 % share', async () => {
    const started = Date.now();
    const result = await client.callTool(
      { name: 'chat', arguments: { prompt: 'is the cache safe?', model: 'glm-4.6', use_websearch: false } },
      { timeout: 20_000 },
    );
    const elapsed = Date.now() - started;
    const output = outputOf(result);
    expect(result.isError).toBeFalsy();
    expect(output.content).toContain('echo: is the cache safe?');
    expect(output.metadata).toMatchObject({
      provider_used: 'kimi',
      model_used: 'kimi-k2.6',
      model_requested: 'glm-4.6',
      fallback_from: { provider: 'glm', model: 'glm-4.6', reason: 'timeout' },
    });
    expect((output.metadata.fallback_from as { message: string }).message).toMatch(
      /no answer within 2\.[34]\d* s, its 60 % share of the budget .*FALLBACK_RESERVE_FRACTION/,
    );

    // GLM was given up at its share, and Kimi, with 1.6 s of the 4 s left, answered in its 600 ms.
    const { glm, kimi } = byProvider(shared.fake.requests);
    expect(glm).toHaveLength(1);
    expect(kimi).toHaveLength(1);
    const handover = kimi[0]!.at - glm[0]!.at;
    expect(handover).toBeGreaterThanOrEqual(2_300);
    expect(handover).toBeLessThan(3_400);
    expect(elapsed).toBeGreaterThan(2_900);
    expect(elapsed).toBeLessThan(4_000 + 1_500);
    // The hung GLM request was cut off, not left open.
    await shared.fake.waitForActive(0, 2_000);
  });
});

const ask = (args: string[], env: Record<string, string>) => runCli(['ask', ...args], env, shared.dir.path);

describe('exai-mcp ask with a fallback possible', () => {
  it('falls back to Kimi at GLM share of the budget when GLM hangs', async () => {
    shared.fake.reset();
    const run = await ask(['hi there', '-m', 'glm-4.6'], fallbackEnv('hang', 3));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('echo: hi there\n');
    expect(run.stderr).toContain('glm-4.6 unavailable (timeout); falling back to kimi-k2.6');
    expect(run.stderr).toMatch(/✓ kimi-k2\.6 \(fallback from glm-4\.6: timeout\)/);
    const { glm, kimi } = byProvider(shared.fake.requests);
    expect(glm).toHaveLength(1);
    expect(kimi).toHaveLength(1);
    const handover = kimi[0]!.at - glm[0]!.at;
    expect(handover).toBeGreaterThanOrEqual(1_700);
    expect(handover).toBeLessThan(2_700);
  });

  it('keeps GLM past its share while it streams an answer', async () => {
    shared.fake.reset();
    // 8 chunks 300 ms apart: about 2.4 s of streaming against a 1.8 s share of a 3 s budget.
    const run = await ask(['hi there', '-m', 'glm-4.6'], fallbackEnv('slow,chunks=8,every=300', 3));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('echo: hi there\n');
    expect(run.stderr).toMatch(/✓ glm-4\.6 in /);
    expect(run.stderr).not.toContain('falling back');
    expect(byProvider(shared.fake.requests).kimi).toHaveLength(0);
  });
});
