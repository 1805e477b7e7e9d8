/**
 * Starts bench/fake-server.ts in a child process and talks to it over IPC. One child can host several fake
 * providers (one per port, so GLM and Kimi are different origins with separate connection pools, as in life).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FakeStats } from '../../test/fakes/fake-provider.js';
import type { FakeOp, FakeReply } from '../fake-server.js';

export interface RemoteFake {
  readonly id: number;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  stats(): Promise<FakeStats>;
  reset(): Promise<void>;
  /** Resolves (with the stats) once openSockets <= n; the reply arrives over IPC, so it is an upper bound. */
  waitForOpenSockets(n: number, timeoutMs?: number): Promise<FakeStats>;
  waitForActive(n: number, timeoutMs?: number): Promise<FakeStats>;
}

export interface FakeProcess {
  readonly pid: number;
  start(): Promise<RemoteFake>;
  /** CPU time (µs) the fake process has used so far, and its RSS. */
  cpu(): Promise<{ user: number; system: number; rss: number }>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

const SERVER = fileURLToPath(new URL('../fake-server.ts', import.meta.url));

export async function startFakeProcess(): Promise<FakeProcess> {
  const child: ChildProcess = fork(SERVER, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let seq = 0;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const ready = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', code => reject(new Error(`fake provider process exited early (${code})`)));
    const onReady = (message: FakeReply) => {
      if (message.seq !== 0) return;
      child.off('message', onReady);
      resolve();
    };
    child.on('message', onReady);
  });
  child.on('message', (message: FakeReply) => {
    const waiter = pending.get(message.seq);
    if (!waiter) return;
    pending.delete(message.seq);
    if (message.ok) waiter.resolve(message.value);
    else waiter.reject(new Error(message.error));
  });
  child.on('exit', () => {
    for (const waiter of pending.values()) waiter.reject(new Error('fake provider process exited'));
    pending.clear();
  });
  await ready;

  const call = <T>(body: FakeOp): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = ++seq;
      pending.set(id, { resolve: v => resolve(v as T), reject });
      child.send({ seq: id, body });
    });

  return {
    pid: child.pid ?? 0,
    async start() {
      const { id, url } = await call<{ id: number; url: string }>({ op: 'start' });
      return {
        id,
        url,
        stats: () => call<FakeStats>({ op: 'stats', id }),
        reset: () => call<void>({ op: 'reset', id }),
        waitForOpenSockets: (n, timeoutMs = 5_000) =>
          call<FakeStats>({ op: 'waitForOpenSockets', id, n, timeoutMs }),
        waitForActive: (n, timeoutMs = 5_000) => call<FakeStats>({ op: 'waitForActive', id, n, timeoutMs }),
      };
    },
    cpu: () => call({ op: 'cpu' }),
    ping: () => call({ op: 'ping' }),
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
      child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
