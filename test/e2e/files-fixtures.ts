/**
 * Pieces the file-policy attack tests share: an MCP client over HTTP, a /healthz watcher that records every
 * miss, a search of what reached the fake provider (data: URLs decoded), and the RSS of a process.
 */
import { readFile } from 'node:fs/promises';
import { type CallToolResult, Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { FakeProvider } from '../fakes/fake-provider.js';
import { outputOf, type ToolOutput } from './harness.js';

export async function connectHttp(url: string): Promise<Client> {
  const client = new Client({ name: 'e2e-files', version: '0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

export async function chat(
  client: Client,
  args: Record<string, unknown>,
  timeoutMs = 20_000,
): Promise<{ output: ToolOutput; isError: boolean }> {
  const result = (await client.callTool(
    { name: 'chat', arguments: { prompt: 'look', ...args } },
    { timeout: timeoutMs },
  )) as CallToolResult;
  return { output: outputOf(result), isError: result.isError === true };
}

export interface HealthWatch {
  /** Stops polling and returns what was seen. */
  stop(): Promise<{ polls: number; misses: string[]; slowestMs: number }>;
}

/** Polls GET /healthz every intervalMs, each with its own deadline: a miss is a poll with no 200 in time. */
export function watchHealth(origin: string, intervalMs = 100, deadlineMs = 2_000): HealthWatch {
  let running = true;
  let polls = 0;
  let slowestMs = 0;
  const misses: string[] = [];
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const res = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(deadlineMs) });
        await res.arrayBuffer();
        if (res.status !== 200) misses.push(`status ${res.status}`);
      } catch (error) {
        misses.push((error as Error).message);
      }
      polls++;
      slowestMs = Math.max(slowestMs, performance.now() - started);
      await new Promise(resolve => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { polls, misses, slowestMs };
    },
  };
}

/** Every recorded request body that carries one of the markers, in clear or inside a base64 data: URL. */
export function leaks(fake: FakeProvider, markers: readonly string[]): string[] {
  const found: string[] = [];
  for (const request of fake.requests) {
    const text = typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
    const decoded = [...text.matchAll(/data:[a-z/]+;base64,([A-Za-z0-9+/=]+)/g)].map(m =>
      Buffer.from(m[1] ?? '', 'base64').toString('latin1'),
    );
    for (const marker of markers) {
      if (text.includes(marker) || decoded.some(d => d.includes(marker))) found.push(marker);
    }
  }
  return found;
}

/** Resident set size of a process in bytes (Linux /proc; ps elsewhere). */
export async function rssBytes(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
    if (kb) return Number(kb) * 1024;
  } catch {
    // Not Linux: fall through to ps.
  }
  const { execFileSync } = await import('node:child_process');
  return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) * 1024;
}

/** A valid PNG signature followed by filler: enough for the content check, any size. */
export function pngBytes(size: number, fill = 0x42): Buffer {
  const buffer = Buffer.alloc(Math.max(size, 16), fill);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(buffer);
  return buffer;
}
