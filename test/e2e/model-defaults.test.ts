/**
 * The registry's defaults and retired ids through the real tools: chat without a model and a workflow's
 * expert step answer with only one provider's key, a retired id fails before any request naming its successor,
 * a stored thread on a retired id continues on the successor, and a server limited by *_ALLOWED_MODELS says
 * which models it allows.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';
import { contentUrl, startWorkflowServer, type WorkflowServer, walk } from '../helpers/workflow-server.js';

let fake: FakeProvider;
let server: WorkflowServer | undefined;
beforeAll(async () => {
  fake = await startFakeProvider();
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await fake.waitForActive(0, 2_000);
  fake.reset();
});
afterAll(() => fake.close());

const EXPERT_JSON = '{"status":"analysis_complete","summary":"fine"}';
const step1 = {
  step: 'Orders are charged twice under load.',
  step_number: 1,
  total_steps: 2,
  next_step_required: true,
  findings: 'The retry wrapper re-sends the charge request.',
};
const final = (id: unknown) => ({
  step: 'Confirmed.',
  step_number: 2,
  total_steps: 2,
  next_step_required: false,
  findings: 'The retry has no idempotency key.',
  confidence: 'high',
  continuation_id: id,
});

async function start(env: Record<string, string>): Promise<WorkflowServer> {
  server = await startWorkflowServer({ env });
  return server;
}

const bodies = () => fake.requests.map(r => r.body as Record<string, unknown>);

describe.each([
  {
    only: 'GLM',
    env: (url: string) => ({ GLM_API_URL: url, KIMI_API_KEY: '' }),
    chat: 'glm-4.7',
    expert: 'glm-5.1',
    field: 'max_tokens',
  },
  {
    only: 'Kimi',
    env: (url: string) => ({ KIMI_API_URL: url, GLM_API_KEY: '' }),
    chat: 'kimi-k2.6',
    expert: 'kimi-k2.6',
    field: 'max_completion_tokens',
  },
])('with only a $only key', ({ env, chat, expert, field }) => {
  it('chat without a model answers on the current default', async () => {
    const s = await start(env(contentUrl(fake.url, 'hello')));
    const { json, result } = await s.call('chat', { prompt: 'hi', temperature: 0.3 });
    expect(result.isError).toBeFalsy();
    expect(json).toMatchObject({ status: 'continuation_available', content: 'hello' });
    expect(json.metadata).toMatchObject({ model_used: chat });
    const body = bodies()[0] as Record<string, unknown>;
    expect(body.model).toBe(chat);
    expect(body.thinking).toEqual({ type: 'disabled' });
    expect(body[field]).toBeGreaterThan(0);
    if (chat.startsWith('kimi')) {
      expect(body).not.toHaveProperty('temperature');
      expect(json.metadata).toMatchObject({ temperature_dropped: 0.3 });
    } else {
      expect(body.temperature).toBe(0.3);
      expect(json.metadata).not.toHaveProperty('temperature_dropped');
    }
  });

  it("a workflow's expert step answers on the current expert default", async () => {
    const s = await start(env(contentUrl(fake.url, EXPERT_JSON)));
    const [first] = await walk(s, 'debug', [step1]);
    const { json } = await s.call('debug', final(first?.continuation_id));
    expect(json.expert_analysis).toMatchObject({ status: 'analysis_complete', summary: 'fine' });
    expect(json.metadata).toMatchObject({ model_used: expert });
    expect(bodies().map(b => b.model)).toEqual([expert]);
  });
});

describe('retired model ids', () => {
  it('a retired id fails before any request, naming its successor', async () => {
    const s = await start({ KIMI_API_URL: contentUrl(fake.url, 'never') });
    const { json, result } = await s.call('chat', { prompt: 'hi', model: 'kimi-k2-0905-preview' });
    expect(result.isError).toBe(true);
    expect(String(json.content)).toMatch(/kimi-k2-0905-preview was retired by Moonshot .*; use kimi-k2\.6/);
    expect(fake.requests).toHaveLength(0);
  });

  it('a stored thread on a retired id continues on the successor and says so', async () => {
    const s = await start({ KIMI_API_URL: contentUrl(fake.url, 'still here'), GLM_API_KEY: '' });
    const now = new Date().toISOString();
    const thread = await s.app.store.create({
      toolName: 'chat',
      turns: [
        { role: 'user', content: 'first question', timestamp: now, toolName: 'chat' },
        {
          role: 'assistant',
          content: 'first answer',
          timestamp: now,
          toolName: 'chat',
          modelProvider: 'kimi',
          modelName: 'kimi-k2-turbo-preview',
        },
      ],
    });
    const { json, result } = await s.call('chat', { prompt: 'and now?', continuation_id: thread.id });
    expect(result.isError).toBeFalsy();
    expect(json.metadata).toMatchObject({
      model_used: 'kimi-k2.6',
      model_retired: 'kimi-k2-turbo-preview',
      model_replaced_from: 'kimi-k2-turbo-preview',
    });
    expect(bodies().map(b => b.model)).toEqual(['kimi-k2.6']);
    const stored = await s.app.store.get(thread.id);
    expect(stored.turns.at(-1)?.modelName).toBe('kimi-k2.6');
  });
});

describe('GLM_ALLOWED_MODELS / KIMI_ALLOWED_MODELS', () => {
  it('listmodels and the model field show only the allowed models; another model is refused, listing them', async () => {
    const s = await start({
      GLM_API_URL: contentUrl(fake.url, 'ok'),
      GLM_ALLOWED_MODELS: 'glm-4.7-flash, glm-5.1',
      KIMI_ALLOWED_MODELS: 'kimi',
    });
    const { result } = await s.call('listmodels', {});
    const listing = (result.structuredContent as { content: { models: Array<{ name: string }> } }).content;
    expect(listing.models.map(m => m.name)).toEqual(['glm-5.1', 'glm-4.7-flash', 'kimi-k2.6']);

    const { tools } = await s.client.listTools();
    const chatTool = tools.find(t => t.name === 'chat');
    const modelField = ((chatTool?.inputSchema.properties ?? {}) as Record<string, { description?: string }>)
      .model;
    expect(modelField?.description).toContain('glm-5.1, glm-4.7-flash, kimi-k2.6');

    const refused = await s.call('chat', { prompt: 'hi', model: 'glm-5.3' });
    expect(refused.result.isError).toBe(true);
    expect(String(refused.json.content)).toMatch(
      /glm-5\.3 is not allowed on this server \(GLM_ALLOWED_MODELS\)\. Allowed GLM models: glm-5\.1, glm-4\.7-flash/,
    );
    // glm-4.7 (the usual chat default) is not allowed: the default falls to the first allowed model that suits.
    const answered = await s.call('chat', { prompt: 'hi' });
    expect(answered.json.metadata).toMatchObject({ model_used: 'glm-5.1' });
    expect(fake.requests).toHaveLength(1);
  });
});
