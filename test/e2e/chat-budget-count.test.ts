/**
 * What one `chat` call costs in cancellation machinery, counted through the real path: the MCP client calls
 * the server built by the real factory, which calls the strict fake provider on loopback.
 *
 * Every AbortController and timer created during the call is recorded with the stack that created it. Those
 * whose nearest repository frame is in src/ are the server's (a library the server calls, such as the
 * breaker, counts as the server's too); the MCP SDK's own per-request controller and the client's request
 * timer are driven by the transport, and the fake provider is test code: they are listed apart, not counted.
 */
import { getEventListeners } from 'node:events';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';
import { startWorkflowServer, type WorkflowServer } from '../helpers/workflow-server.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

type Side = 'server' | 'elsewhere';

interface Created {
  side: Side;
  stack: string;
}

interface Count {
  controllers: Array<Created & { signal: AbortSignal }>;
  timers: Array<Created & { live: boolean }>;
}

/** The server's when the nearest frame that is repository code (not a dependency, not Node) is in src/. */
function sideOf(stack: string): Side {
  for (const line of stack.split('\n').slice(1)) {
    if (line.includes('/node_modules/') || line.includes('(node:') || line.includes(' node:')) continue;
    if (line.includes(`${ROOT}/src/`)) return 'server';
    if (line.includes(`${ROOT}/`)) return 'elsewhere';
  }
  return 'elsewhere';
}

function stackOf(skip: object): string {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 60;
  Error.captureStackTrace(holder, skip as (...args: never) => unknown);
  Error.stackTraceLimit = limit;
  return holder.stack ?? '';
}

/** Counts AbortControllers and timers created while `work` runs, and until `settle` says the call is over. */
async function counting<T>(work: () => Promise<T>): Promise<{ value: T; count: Count }> {
  const count: Count = { controllers: [], timers: [] };
  const OriginalController = globalThis.AbortController;
  const originalSetTimeout = globalThis.setTimeout;
  const originalClearTimeout = globalThis.clearTimeout;
  const originalSetInterval = globalThis.setInterval;
  const byHandle = new Map<unknown, Created & { live: boolean }>();

  class CountedController extends OriginalController {
    constructor() {
      super();
      const stack = stackOf(CountedController);
      count.controllers.push({ side: sideOf(stack), stack, signal: this.signal });
    }
  }
  function countedSetTimeout(callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) {
    const stack = stackOf(countedSetTimeout);
    const entry = { side: sideOf(stack), stack, live: true };
    count.timers.push(entry);
    const handle = originalSetTimeout(
      (...callbackArgs: unknown[]) => {
        entry.live = false;
        callback(...callbackArgs);
      },
      ms,
      ...args,
    );
    byHandle.set(handle, entry);
    return handle;
  }
  function countedClearTimeout(handle: unknown) {
    const entry = byHandle.get(handle);
    if (entry) entry.live = false;
    originalClearTimeout(handle as Parameters<typeof clearTimeout>[0]);
  }
  function countedSetInterval(callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) {
    const stack = stackOf(countedSetInterval);
    count.timers.push({ side: sideOf(stack), stack, live: true });
    return originalSetInterval(callback, ms, ...args);
  }

  globalThis.AbortController = CountedController;
  globalThis.setTimeout = countedSetTimeout as unknown as typeof setTimeout;
  globalThis.clearTimeout = countedClearTimeout as typeof clearTimeout;
  globalThis.setInterval = countedSetInterval as unknown as typeof setInterval;
  try {
    const value = await work();
    // The socket goes back to the pool as the response body ends, just after the answer: let it.
    for (let i = 0; i < 100 && server(count).timers.some(t => t.live); i++) {
      await new Promise(done => originalSetTimeout(done, 10));
    }
    return { value, count };
  } finally {
    globalThis.AbortController = OriginalController;
    globalThis.setTimeout = originalSetTimeout;
    globalThis.clearTimeout = originalClearTimeout;
    globalThis.setInterval = originalSetInterval;
  }
}

function server(count: Count): Count {
  return {
    controllers: count.controllers.filter(c => c.side === 'server'),
    timers: count.timers.filter(t => t.side === 'server'),
  };
}

/** The frames that made each one, for a failure message that says where to look. */
function where(created: Created[]): string {
  return created
    .map(c =>
      c.stack
        .split('\n')
        .filter(line => line.includes(`${ROOT}/src/`))
        .slice(0, 3)
        .join(' < '),
    )
    .join('\n');
}

/** Calls chat once on a warm server and returns what that one call built. */
async function countOneChat(served: WorkflowServer): Promise<Count> {
  const { value, count } = await counting(() =>
    served.call('chat', { prompt: 'how many controllers?', model: 'glm-4.6' }),
  );
  expect(value.json.status).toBe('continuation_available');
  return server(count);
}

/** Nothing left: every timer fired or cleared, no listener on any controller's signal, no job holding one. */
function expectNothingLeft(served: WorkflowServer, ours: Count): void {
  expect(where(ours.timers.filter(t => t.live))).toBe('');
  for (const { signal, stack } of ours.controllers) {
    expect(getEventListeners(signal, 'abort'), stack).toHaveLength(0);
  }
  expect(served.app.jobs.live).toBe(0);
}

describe('one chat call, counted end to end', () => {
  let fake: FakeProvider;
  let plain: WorkflowServer;
  let guarded: WorkflowServer;

  beforeAll(async () => {
    fake = await startFakeProvider({ strict: true });
    const env = { GLM_API_URL: `${fake.url}/v1`, KIMI_API_URL: `${fake.url}/v1` };
    // The call waits for its answer (no soft return) and has no fallback to keep time for.
    plain = await startWorkflowServer({ env: { ...env, EXAI_SOFT_RETURN_SECS: '0' } });
    // The defaults of a client with a soft budget, with a fallback provider configured.
    guarded = await startWorkflowServer({
      env: { ...env, EXAI_SOFT_RETURN_SECS: '50', FALLBACK_ON_FAILURE: 'true' },
    });
    // A first call opens the pooled connection: the counted call is the usual one, on a warm socket.
    await plain.call('chat', { prompt: 'warm up', model: 'glm-4.6' });
    await guarded.call('chat', { prompt: 'warm up', model: 'glm-4.6' });
  });

  afterAll(async () => {
    await plain?.close();
    await guarded?.close();
    await fake?.close();
  });

  it('builds at most 2 AbortControllers and 2 timers, and leaves none behind', async () => {
    const ours = await countOneChat(plain);
    // Controllers: the tool call's frame (the client's cancel or shutdown) and the model job's budget (its
    // time and its own cancel). The provider's deadline is the job's (the same time would be reported as the
    // job's anyway) and a stall ends the attempt's own request. Timers: the job's deadline and the attempt's
    // watchdog, one for the whole stream however many chunks arrive.
    expect(ours.controllers.length, where(ours.controllers)).toBeLessThanOrEqual(2);
    expect(ours.timers.length, where(ours.timers)).toBeLessThanOrEqual(2);
    expect(ours.controllers.length).toBeGreaterThan(0);
    expect(ours.timers.length).toBeGreaterThan(0);
    expectNothingLeft(plain, ours);
  });

  it('with a soft budget and a fallback, one controller and two timers more, each for a purpose of its own', async () => {
    const ours = await countOneChat(guarded);
    // The soft budget is the waiting call's own time (it answers in_progress, the job runs on); the primary
    // provider's share of the budget needs a budget of its own that the share timer can end without ending
    // the fallback's.
    expect(ours.controllers.length, where(ours.controllers)).toBeLessThanOrEqual(3);
    expect(ours.timers.length, where(ours.timers)).toBeLessThanOrEqual(4);
    expectNothingLeft(guarded, ours);
  });
});
