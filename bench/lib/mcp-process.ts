/** Starts bench/mcp-server.ts in a child process with exactly the given environment. */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface McpProcess {
  readonly url: string;
  cpu(): Promise<{ user: number; system: number; rss: number; heapUsed: number }>;
  /** process.memoryUsage() right after a full collection (a process started with `exposeGc`). */
  memoryAfterGc(): Promise<NodeJS.MemoryUsage>;
  resources(): Promise<string[]>;
  close(): Promise<void>;
}

const SERVER = fileURLToPath(new URL('../mcp-server.ts', import.meta.url));

/**
 * `script`: another checkout's bench/mcp-server.ts, to compare two builds in one run. `exposeGc`: the server
 * runs with --expose-gc, so memoryAfterGc() can tell memory still referenced from garbage not yet collected.
 */
export async function startMcpProcess(
  kind: 'exai' | 'echo',
  env: Record<string, string>,
  script = SERVER,
  options: { exposeGc?: boolean } = {},
): Promise<McpProcess> {
  // BENCH_CPU_PROF_DIR=/tmp/prof profiles the server under test (what a missed goal needs to explain).
  const profile = process.env.BENCH_CPU_PROF_DIR;
  const child = fork(script, [kind], {
    execArgv: [
      '--import',
      'tsx',
      ...(options.exposeGc ? ['--expose-gc'] : []),
      ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []),
    ],
    // Only what the bench sets: no key or URL from the caller's environment may reach a real provider.
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let seq = 0;
  const pending = new Map<number, (value: unknown) => void>();
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', code => reject(new Error(`${kind} MCP server exited early (${code})`)));
    child.on('message', (message: { seq: number; value: unknown }) => {
      if (message.seq === 0) resolve((message.value as { url: string }).url);
      pending.get(message.seq)?.(message.value);
      pending.delete(message.seq);
    });
  });
  const ask = <T>(op: string) =>
    new Promise<T>(resolve => {
      const id = ++seq;
      pending.set(id, v => resolve(v as T));
      child.send({ seq: id, op });
    });
  return {
    url,
    cpu: () => ask('cpu'),
    resources: () => ask('resources'),
    memoryAfterGc: () => ask('memory-after-gc'),
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
      child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 8_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
