/**
 * GLM and Kimi bill the leading part of a request at a fraction of the price when an earlier request began
 * with the same text (automatic prefix caching). A chat thread or a workflow only profits when each request
 * begins with the previous one: these drive real calls through the MCP client and measure that on what the
 * fake provider received.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cachedFraction, type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';
import { contentUrl, startWorkflowServer, type WorkflowServer } from '../helpers/workflow-server.js';
import { fakeAndWorkDir, outputOf, serverEnv } from './harness.js';
import { RecordingStdioTransport } from './stdio-transport.js';

interface ChatBody {
  messages: Array<{ role: string; content: string }>;
}

/** Length of the longest common prefix of two strings. */
function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/** Share of `previous` that `next` repeats from its first character: what a prefix cache can serve. */
function sharedPrefix(previous: string, next: string): number {
  return previous.length === 0 ? 0 : commonPrefix(previous, next) / previous.length;
}

const contents = (body: ChatBody) => body.messages.map(m => m.content).join('');

/** 50 KB of distinct lines, so a prefix cannot match by accident past the point where the text differs. */
function fiftyKb(): string {
  const lines = Array.from({ length: 1000 }, (_, i) => `export const value${i} = ${i * 7919} % 1000; //`);
  return `${lines.join('\n').padEnd(50_000, '.')}\n`;
}

describe('chat thread requests laid out for prefix caching', () => {
  const ctx = fakeAndWorkDir();
  let client: Client;
  let file: string;

  beforeAll(async () => {
    file = join(ctx.dir.path, 'service.ts');
    await writeFile(file, fiftyKb());
    const transport = new RecordingStdioTransport({
      env: serverEnv(ctx.dir, { fakeUrl: ctx.fake.url }),
      cwd: ctx.dir.path,
    });
    client = new Client({ name: 'e2e-prefix-cache', version: '0' });
    await client.connect(transport);
  });

  afterAll(async () => {
    await client?.close();
  });

  it('each of four turns over one 50 KB file begins with the whole previous request', async () => {
    ctx.fake.reset();
    let id: string | undefined;
    const metas: Array<Record<string, unknown>> = [];
    for (const prompt of ['review service.ts', 'what about overflow?', 'and the modulo?', 'summarise']) {
      const output = outputOf(
        await client.callTool({
          name: 'chat',
          // The agent sends the file again each turn, as agents do; the thread embeds it once.
          arguments: { prompt, files: [file], ...(id && { continuation_id: id }) },
        }),
      );
      expect(output.status).toBe('continuation_available');
      id = output.continuation_offer?.continuation_id;
      metas.push(output.metadata as Record<string, unknown>);
    }

    const bodies = ctx.fake.requests.map(r => r.body as ChatBody);
    expect(bodies).toHaveLength(4);
    for (let i = 1; i < bodies.length; i++) {
      const previous = bodies[i - 1]!;
      const next = bodies[i]!;
      expect(
        sharedPrefix(JSON.stringify(previous.messages), JSON.stringify(next.messages)),
      ).toBeGreaterThanOrEqual(0.7);
      expect(sharedPrefix(contents(previous), contents(next))).toBeGreaterThanOrEqual(0.7);
      // Stronger than the ratio: the same messages, then the answer and the new question.
      expect(next.messages.slice(0, previous.messages.length)).toEqual(previous.messages);
      expect(next.messages.slice(previous.messages.length).map(m => m.role)).toEqual(['assistant', 'user']);
      // The file is embedded once (in the first question), not again with each new one.
      const userText = next.messages
        .filter(m => m.role === 'user')
        .map(m => m.content)
        .join('');
      expect(userText.split(`--- BEGIN FILE: ${file} ---`)).toHaveLength(2);
      expect(next.messages.at(-1)!.content).not.toContain('BEGIN FILE');
    }
    // Each request grows by one exchange, never by another copy of everything before it.
    const sizes = bodies.map(b => JSON.stringify(b.messages).length);
    for (let i = 2; i < sizes.length; i++) expect(sizes[i]! - sizes[i - 1]!).toBeLessThan(1_000);
    // The strict fake's prefix cache serves each later request the whole previous one, and the answer says so
    // with the cost of each answer and of the thread so far.
    const usage = (m: Record<string, unknown>) => m.usage as { input_tokens: number; cached_tokens?: number };
    expect(cachedFraction(ctx.fake.requests[0]!)).toBe(0);
    let thread = 0;
    for (const [i, meta] of metas.entries()) {
      thread += meta.cost_usd as number;
      expect(meta.cost_usd).toBeGreaterThan(0);
      expect(meta.thread_cost_usd as number).toBeCloseTo(thread, 6);
      if (i === 0) continue;
      expect(cachedFraction(ctx.fake.requests[i]!)).toBeGreaterThan(0);
      expect(usage(meta).cached_tokens).toBeGreaterThanOrEqual(0.7 * usage(metas[i - 1]!).input_tokens);
    }
  });
});

describe('workflow expert requests laid out for prefix caching', () => {
  let fake: FakeProvider;
  let server: WorkflowServer | undefined;

  beforeAll(async () => {
    fake = await startFakeProvider();
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  afterAll(async () => {
    await fake?.close();
  });

  it('a second final step over the same 50 KB file begins with the whole first expert request but its tail', async () => {
    // The expert asks for more each time, so the agent sends a second final step with one more finding.
    const ask = { status: 'files_required_to_continue', mandatory_instructions: 'Check the callers.' };
    server = await startWorkflowServer({ env: { GLM_API_URL: contentUrl(fake.url, JSON.stringify(ask)) } });
    const file = join(server.dir, 'service.ts');
    await writeFile(file, fiftyKb());
    fake.reset();
    const step = (n: number, findings: string, extra: Record<string, unknown> = {}) => ({
      step: n === 1 ? 'Totals are off by one under load.' : `Step ${n}.`,
      step_number: n,
      total_steps: 3,
      findings,
      relevant_files: [file],
      ...extra,
    });
    const first = await server.call('debug', step(1, 'Reproduced.', { next_step_required: true }));
    const id = first.json.continuation_id;
    const finals = [
      step(2, 'value7 wraps at 1000.', { next_step_required: false, continuation_id: id }),
      step(3, 'The callers never check the wrap.', { next_step_required: false, continuation_id: id }),
    ];
    for (const final of finals) {
      const { json } = await server.call('debug', final);
      expect(json.status).toBe('files_required_to_continue');
    }

    const [a, b] = fake.requests.map(r => r.body as ChatBody);
    expect(fake.requests).toHaveLength(2);
    expect(b!.messages[0]).toEqual(a!.messages[0]);
    expect(a!.messages[1]!.content.startsWith(`=== ESSENTIAL FILES ===\n--- BEGIN FILE: ${file} ---`)).toBe(
      true,
    );
    expect(sharedPrefix(JSON.stringify(a!.messages), JSON.stringify(b!.messages))).toBeGreaterThanOrEqual(
      0.7,
    );
    expect(sharedPrefix(contents(a!), contents(b!))).toBeGreaterThanOrEqual(0.7);
    // What differs starts where the step history grew: the first request's steps are all in the shared part.
    const shared = commonPrefix(contents(a!), contents(b!));
    expect(contents(a!).slice(0, shared)).toContain('Step 2: value7 wraps at 1000.');
    expect(contents(b!).slice(shared)).toMatch(/^Step 3: The callers never check the wrap\./);
  });
});
