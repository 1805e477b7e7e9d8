import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ExaiError, isExaiError } from '../../src/errors.js';
import type { ConversationStore, ConversationTurn, StoreOptions } from '../../src/memory/types.js';

const HOUR = 3_600_000;
const MAX_TURNS = 5;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export type Opened = {
  store: ConversationStore;
  /** Opens another instance on the same backend (the same SQLite file, the same Redis and key prefix), as a
   * second server process or replica would; left out by stores that share nothing (memory). */
  twin?: () => ConversationStore | Promise<ConversationStore>;
  /** Runs after every instance is closed. */
  cleanup: () => void | Promise<void>;
};

export function turn(content: string, extra: Partial<ConversationTurn> = {}): ConversationTurn {
  return { role: 'user', content, timestamp: '2025-01-01T00:00:00.000Z', ...extra };
}

export async function failure(promise: Promise<unknown>): Promise<ExaiError> {
  try {
    await promise;
  } catch (error) {
    if (isExaiError(error)) return error;
    throw error;
  }
  throw new Error('expected the operation to fail');
}

/**
 * The behaviour every ConversationStore shares, run against each implementation: the unit tests run it
 * for memory and SQLite, test/redis for Redis (which needs a server). `open` gets a fake clock through
 * `now`; a store that expires keys on the server's clock must still decide liveness on `now`.
 */
export function storeSuite(name: string, open: (options: StoreOptions) => Opened | Promise<Opened>): void {
  describe(`${name} conversation store`, () => {
    let clock: number;
    let opened: Opened;
    let store: ConversationStore;

    beforeEach(async () => {
      clock = Date.UTC(2025, 0, 1);
      opened = await open({ ttlMs: HOUR, maxTurns: MAX_TURNS, now: () => clock });
      store = opened.store;
    });
    afterEach(async () => {
      await store.close();
      await opened.cleanup();
    });

    it('creates a thread with a UUID v4 id that get returns unchanged', async () => {
      const parentId = (await store.create({ toolName: 'chat' })).id;
      const created = await store.create({
        toolName: 'debug',
        initialContext: { prompt: 'why?', files: ['/a.ts'] },
        parentId,
        turns: [turn('hello', { files: ['/a.ts'], toolName: 'debug' })],
      });
      expect(created.id).toMatch(UUID_V4);
      expect(created).toMatchObject({
        parentId,
        toolName: 'debug',
        createdAt: '2025-01-01T00:00:00.000Z',
        updatedAt: '2025-01-01T00:00:00.000Z',
        initialContext: { prompt: 'why?', files: ['/a.ts'] },
        state: {},
      });
      expect(created.turns).toEqual([turn('hello', { files: ['/a.ts'], toolName: 'debug' })]);
      expect(await store.get(created.id)).toEqual(created);
      expect(await store.get(created.id.toUpperCase())).toEqual(created);
    });

    it('appends turns in order, keeps every optional field and bumps updatedAt', async () => {
      const { id } = await store.create({ toolName: 'chat', turns: [turn('q1')] });
      clock += 1000;
      const answer = turn('a1', {
        role: 'assistant',
        images: ['/img.png'],
        toolName: 'chat',
        modelProvider: 'glm',
        modelName: 'glm-4.6',
        metadata: { usage: { input: 3 } },
      });
      const updated = await store.appendTurn(id, answer);
      expect(updated.turns).toEqual([turn('q1'), answer]);
      expect(updated.updatedAt).toBe('2025-01-01T00:00:01.000Z');
      expect(updated.createdAt).toBe('2025-01-01T00:00:00.000Z');
      expect(await store.get(id)).toEqual(updated);
    });

    it('appends a batch of turns in order in one write, bumping updatedAt', async () => {
      const { id } = await store.create({ toolName: 'chat', turns: [turn('q1')] });
      clock += 1000;
      const batch = [
        turn('a1', { role: 'assistant', modelProvider: 'glm', modelName: 'glm-4.6' }),
        turn('q2', { files: ['/b.ts'] }),
        turn('a2', { role: 'assistant', metadata: { usage: { input: 7 } } }),
      ];
      const updated = await store.appendTurns(id, batch);
      expect(updated.turns).toEqual([turn('q1'), ...batch]);
      expect(updated.updatedAt).toBe('2025-01-01T00:00:01.000Z');
      expect(await store.get(id)).toEqual(updated);
    });

    it('refuses a whole batch that would pass maxTurns with bad_request, storing none of it', async () => {
      const { id } = await store.create({
        toolName: 'chat',
        turns: ['t1', 't2', 't3', 't4'].map(c => turn(c)),
      });
      const error = await failure(store.appendTurns(id, [turn('q5'), turn('a5', { role: 'assistant' })]));
      expect(error.kind).toBe('bad_request');
      expect(error.message).toMatch(
        /no room for 2 more turns within its limit of 5 turns.*without continuation_id/,
      );
      expect((await store.get(id)).turns.map(t => t.content)).toEqual(['t1', 't2', 't3', 't4']);
      expect((await store.appendTurns(id, [turn('t5')])).turns).toHaveLength(MAX_TURNS);
    });

    it('refuses a batch holding an invalid turn, or no turn at all, storing none of it', async () => {
      const { id } = await store.create({ toolName: 'chat' });
      const bad = { ...turn('x'), role: 'system' } as unknown as ConversationTurn;
      expect((await failure(store.appendTurns(id, [turn('fine'), bad]))).kind).toBe('bad_request');
      expect((await failure(store.appendTurns(id, []))).kind).toBe('bad_request');
      expect((await failure(store.create({ toolName: 'chat', turns: [turn('fine'), bad] }))).kind).toBe(
        'bad_request',
      );
      expect((await store.get(id)).turns).toEqual([]);
    });

    it('creates a thread with its first exchange in one write, and refuses more turns than maxTurns', async () => {
      const exchange = [turn('q1'), turn('a1', { role: 'assistant', modelName: 'kimi-k2' })];
      const created = await store.create({ toolName: 'chat', turns: exchange });
      expect(created.turns).toEqual(exchange);
      expect(await store.get(created.id)).toEqual(created);
      const next = await store.appendTurns(created.id, [turn('q2'), turn('a2', { role: 'assistant' })]);
      expect(next.turns.map(t => t.content)).toEqual(['q1', 'a1', 'q2', 'a2']);

      const tooMany = Array.from({ length: MAX_TURNS + 1 }, (_, i) => turn(`t${i}`));
      const error = await failure(store.create({ toolName: 'chat', turns: tooMany }));
      expect(error.kind).toBe('bad_request');
      expect(error.message).toMatch(/cannot start with 6 turns.*limit is 5 turns/);
    });

    it('never interleaves concurrent exchanges from two instances on one backend', async () => {
      const wide = await open({ ttlMs: HOUR, maxTurns: 100, now: () => clock });
      const a = wide.store;
      const b = (await wide.twin?.()) ?? a;
      try {
        const { id } = await a.create({ toolName: 'chat' });
        const exchange = (who: string, i: number) => [
          turn(`${who}${i}?`),
          turn(`${who}${i}!`, { role: 'assistant' }),
        ];
        await Promise.all(
          Array.from({ length: 20 }, (_, i) => [
            a.appendTurns(id, exchange('a', i)),
            b.appendTurns(id, exchange('b', i)),
          ]).flat(),
        );
        const turns = (await b.get(id)).turns;
        expect(turns).toHaveLength(80);
        const pairs = Array.from({ length: 40 }, (_, i) => turns.slice(2 * i, 2 * i + 2));
        // Every question is followed at once by its own answer.
        const broken = pairs.filter(
          ([q, r]) => r?.role !== 'assistant' || r.content !== q?.content.replace('?', '!'),
        );
        expect(broken).toEqual([]);
        // And each instance's exchanges land in the order it sent them.
        for (const who of ['a', 'b']) {
          const mine = pairs.map(([q]) => q?.content).filter(c => c?.startsWith(who));
          expect(mine).toEqual(Array.from({ length: 20 }, (_, i) => `${who}${i}?`));
        }
      } finally {
        if (b !== a) await b.close();
        await a.close();
        await wide.cleanup();
      }
    });

    it('hands out copies: mutating a returned thread does not change the store', async () => {
      const thread = await store.create({ toolName: 'chat', turns: [turn('q1')] });
      thread.turns.push(turn('injected'));
      thread.state.x = 1;
      expect(await store.get(thread.id)).toMatchObject({ turns: [turn('q1')], state: {} });
    });

    it('lands every turn of concurrent appends to one thread', async () => {
      const { id } = await store.create({ toolName: 'chat' });
      await Promise.all([1, 2, 3, 4, 5].map(n => store.appendTurn(id, turn(`t${n}`))));
      const contents = (await store.get(id)).turns.map(t => t.content);
      expect(contents.sort()).toEqual(['t1', 't2', 't3', 't4', 't5']);
    });

    it('reports an unknown id as not_found telling the agent to start without continuation_id', async () => {
      const error = await failure(store.get('0f8fad5b-d9cb-469f-a165-70867728950e'));
      expect(error.kind).toBe('not_found');
      expect(error.message).toContain('0f8fad5b-d9cb-469f-a165-70867728950e');
      expect(error.message).toMatch(/not found or has expired/);
      expect(error.message).toMatch(/without continuation_id/);
    });

    it('reports a malformed id as not_found without echoing an unbounded value', async () => {
      for (const bad of ['not-a-uuid', '', 'x'.repeat(10_000), '0f8fad5b-d9cb-169f-a165-70867728950e']) {
        const error = await failure(store.appendTurn(bad, turn('q')));
        expect(error.kind).toBe('not_found');
        expect(error.message).toMatch(/not a valid continuation_id.*without continuation_id/);
        expect(error.message.length).toBeLessThan(300);
      }
    });

    it('treats a thread past its TTL as not_found for every operation', async () => {
      const { id } = await store.create({ toolName: 'chat', turns: [turn('q1')] });
      clock += HOUR;
      for (const attempt of [
        store.get(id),
        store.appendTurn(id, turn('late')),
        store.updateState(id, s => s),
      ]) {
        const error = await failure(attempt);
        expect(error.kind).toBe('not_found');
        expect(error.message).toMatch(/expire.*1 h/);
      }
    });

    it('refreshes the TTL on append and on state update', async () => {
      const { id } = await store.create({ toolName: 'chat' });
      clock += 0.9 * HOUR;
      await store.appendTurn(id, turn('q1'));
      clock += 0.9 * HOUR;
      await store.updateState(id, () => ({ step: 1 }));
      clock += 0.9 * HOUR;
      expect((await store.get(id)).turns).toHaveLength(1);
      clock += 0.2 * HOUR;
      expect((await failure(store.get(id))).kind).toBe('not_found');
    });

    it('refuses a turn beyond maxTurns with bad_request and keeps every stored turn', async () => {
      const { id } = await store.create({ toolName: 'chat', turns: [turn('t1')] });
      for (let n = 2; n <= MAX_TURNS; n++) await store.appendTurn(id, turn(`t${n}`));
      const error = await failure(store.appendTurn(id, turn('one too many')));
      expect(error.kind).toBe('bad_request');
      expect(error.message).toMatch(/limit of 5 turns.*without continuation_id/);
      const kept = (await store.get(id)).turns.map(t => t.content);
      expect(kept).toEqual(['t1', 't2', 't3', 't4', 't5']);
    });

    it('refuses a turn with an invalid role as bad_request', async () => {
      const { id } = await store.create({ toolName: 'chat' });
      const bad = { ...turn('x'), role: 'system' } as unknown as ConversationTurn;
      expect((await failure(store.appendTurn(id, bad))).kind).toBe('bad_request');
      expect((await store.get(id)).turns).toEqual([]);
    });

    it('keeps workflow state per thread and applies each update to the latest state', async () => {
      const a = await store.create({ toolName: 'debug' });
      const b = await store.create({ toolName: 'debug' });
      await store.updateState(a.id, () => ({ steps: ['a1'], count: 0 }));
      await Promise.all(
        Array.from({ length: 20 }, () =>
          store.updateState(a.id, s => ({ ...s, count: (s.count as number) + 1 })),
        ),
      );
      const after = await store.updateState(a.id, s => ({ ...s, steps: [...(s.steps as string[]), 'a2'] }));
      expect(after.state).toEqual({ steps: ['a1', 'a2'], count: 20 });
      expect((await store.get(b.id)).state).toEqual({});
    });

    it('leaves state untouched when the updater throws, mutates its argument, or is asynchronous', async () => {
      const { id } = await store.create({ toolName: 'debug' });
      await store.updateState(id, () => ({ kept: true }));
      const boom = new Error('updater failed');
      await expect(
        store.updateState(id, s => {
          s.kept = false;
          throw boom;
        }),
      ).rejects.toBe(boom);
      const asyncUpdate = (async () => ({ replaced: true })) as unknown as () => Record<string, unknown>;
      expect((await failure(store.updateState(id, asyncUpdate))).message).toMatch(/synchronous/);
      expect((await store.get(id)).state).toEqual({ kept: true });
    });

    it('sweeps only expired threads and returns how many it removed', async () => {
      const old1 = await store.create({ toolName: 'chat' });
      const old2 = await store.create({ toolName: 'chat', turns: [turn('q')] });
      clock += 0.5 * HOUR;
      const fresh = await store.create({ toolName: 'chat' });
      clock += 0.6 * HOUR;
      expect(await store.sweep()).toBe(2);
      expect(await store.sweep()).toBe(0);
      expect((await failure(store.get(old1.id))).kind).toBe('not_found');
      expect((await failure(store.get(old2.id))).kind).toBe('not_found');
      expect((await store.get(fresh.id)).id).toBe(fresh.id);
    });

    it('lists live threads most recently written first, up to the limit, leaving expired ones out', async () => {
      const old = await store.create({ toolName: 'chat', turns: [turn('old')] });
      clock += 1000;
      const middle = await store.create({ toolName: 'debug' });
      clock += 1000;
      const fresh = await store.create({ toolName: 'codereview' });
      clock += 1000;
      await store.appendTurn(old.id, turn('old again'));
      expect((await store.listRecent(10)).map(t => t.id)).toEqual([old.id, fresh.id, middle.id]);
      const [first] = await store.listRecent(1);
      expect(first).toMatchObject({ id: old.id, toolName: 'chat' });
      expect(first?.turns.map(t => t.content)).toEqual(['old', 'old again']);
      expect(await store.listRecent(0)).toEqual([]);
      clock += HOUR - 500;
      expect((await store.listRecent(10)).map(t => t.id)).toEqual([old.id]);
    });

    it('refuses to create a thread when the signal is already aborted', async () => {
      const controller = new AbortController();
      controller.abort();
      expect((await failure(store.create({ toolName: 'chat' }, controller.signal))).kind).toBe('cancelled');
    });

    it('rejects operations after close', async () => {
      const { id } = await store.create({ toolName: 'chat' });
      await store.close();
      await expect(store.get(id)).rejects.toThrow(/closed/);
      await store.close();
    });
  });
}
