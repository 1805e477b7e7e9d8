/**
 * A real redis-server for the test:redis suite: started on a free loopback port with persistence off, killed
 * and restarted on the same port to test outages, frozen (SIGSTOP: sockets stay open, nothing answers) to test
 * a Redis that hangs, stopped at the end. A missing redis-server fails the suite
 * with a message saying how to install it; nothing is skipped.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, Socket } from 'node:net';

export interface RedisServer {
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** SIGKILL: connections drop at once, as in a crash. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGSTOP: connections stay open and commands are accepted, but no reply comes until thaw(). */
  freeze(): void;
  /** SIGCONT: answers everything queued meanwhile, in order. */
  thaw(): void;
  /** Starts it again on the same port (empty: persistence is off). */
  restart(): Promise<void>;
  /** Stops it for good; idempotent. */
  stop(): Promise<void>;
}

export function redisServerBinary(): string {
  for (const candidate of [
    process.env.REDIS_SERVER_BIN,
    '/usr/bin/redis-server',
    '/usr/local/bin/redis-server',
  ]) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'redis-server is not installed: the test:redis suite runs against a real Redis. Install it ' +
        '(Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_SERVER_BIN.',
    );
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>(resolve => server.close(() => resolve()));
  return port;
}

/** Resolves once the port answers PING; redis-server logs readiness before it is always reachable. */
async function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>(resolve => {
      const socket = new Socket();
      const done = (value: boolean) => {
        socket.destroy();
        resolve(value);
      };
      socket.setTimeout(500, () => done(false));
      socket.once('error', () => done(false));
      socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
      socket.once('data', data => done(data.toString().startsWith('+PONG')));
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`redis-server on port ${port} did not answer PING in ${timeoutMs} ms`);
    await new Promise(resolve => setTimeout(resolve, 50));
  }
}

export async function startRedisServer(): Promise<RedisServer> {
  const binary = redisServerBinary();
  const port = await freePort();
  let child: ChildProcess | undefined;
  let stderr = '';

  async function launch(): Promise<void> {
    stderr = '';
    const proc = spawn(
      binary,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    proc.stderr?.on('data', chunk => {
      stderr += chunk;
    });
    child = proc;
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', code => reject(new Error(`redis-server exited with code ${code}: ${stderr}`))),
    );
    exited.catch(() => {});
    await Promise.race([waitForPing(port, 10_000), exited]);
  }

  function signal(name: NodeJS.Signals): void {
    if (!child || child.exitCode !== null)
      throw new Error(`redis-server is not running (cannot send ${name})`);
    child.kill(name);
  }

  async function kill(): Promise<void> {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>(resolve => proc.once('exit', () => resolve()));
    // A frozen process still dies of SIGKILL; SIGCONT first keeps the exit prompt on every platform.
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
    await gone;
  }

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    freeze: () => signal('SIGSTOP'),
    thaw: () => signal('SIGCONT'),
    restart: launch,
    stop: kill,
  };
}
