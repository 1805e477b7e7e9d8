/**
 * The fake provider in its own process, so its CPU does not count against the client being measured. Driven
 * over the IPC channel by bench/lib/fake-process.ts: start instances, read their counters, wait on them.
 * Recorded requests are dropped every second: a soak would otherwise grow this process without bound.
 */
import { type FakeProvider, startFakeProvider } from '../test/fakes/fake-provider.js';

export type FakeOp =
  | { op: 'start' }
  | { op: 'stats'; id: number }
  | { op: 'reset'; id: number }
  | { op: 'waitForOpenSockets' | 'waitForActive'; id: number; n: number; timeoutMs: number }
  | { op: 'close'; id: number }
  | { op: 'cpu' }
  | { op: 'ping' };

export interface FakeRequest {
  seq: number;
  body: FakeOp;
}

export interface FakeReply {
  seq: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

const fakes = new Map<number, FakeProvider>();
let nextId = 0;

const fake = (id: number): FakeProvider => {
  const found = fakes.get(id);
  if (!found) throw new Error(`no fake provider #${id}`);
  return found;
};

async function handle(body: FakeOp): Promise<unknown> {
  switch (body.op) {
    case 'start': {
      // Benchmarks open thousands of connections at once: a full accept queue would cost 1 s SYN retransmits.
      const started = await startFakeProvider({ backlog: 65_535 });
      const id = nextId++;
      fakes.set(id, started);
      return { id, url: started.url };
    }
    case 'stats':
      return fake(body.id).stats();
    case 'reset':
      fake(body.id).reset();
      return null;
    case 'waitForOpenSockets':
      await fake(body.id).waitForOpenSockets(body.n, body.timeoutMs);
      return fake(body.id).stats();
    case 'waitForActive':
      await fake(body.id).waitForActive(body.n, body.timeoutMs);
      return fake(body.id).stats();
    case 'close':
      await fake(body.id).close();
      fakes.delete(body.id);
      return null;
    case 'cpu':
      return { ...process.cpuUsage(), rss: process.memoryUsage.rss() };
    case 'ping':
      return null;
  }
}

process.on('message', (message: FakeRequest) => {
  handle(message.body).then(
    value => process.send?.({ seq: message.seq, ok: true, value } satisfies FakeReply),
    (error: unknown) =>
      process.send?.({ seq: message.seq, ok: false, error: String(error) } satisfies FakeReply),
  );
});

const trim = setInterval(() => {
  for (const f of fakes.values()) f.requests.length = 0;
}, 1_000);

// The parent going away (crash, Ctrl-C) must not leave this process listening.
process.on('disconnect', () => {
  clearInterval(trim);
  Promise.all([...fakes.values()].map(f => f.close())).finally(() => process.exit(0));
});
process.send?.({ seq: 0, ok: true, value: 'ready' } satisfies FakeReply);
