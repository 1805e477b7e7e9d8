/**
 * The built server with a real MCP client on each transport, for suites that run the same scenarios over
 * stdio and HTTP.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, afterEach, describe, expect } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';
import {
  assertBuilt,
  fakeModelEntry,
  serverEnv,
  startHttpProcess,
  type WorkDir,
  workDir,
} from './harness.js';
import { RecordingStdioTransport } from './stdio-transport.js';

export interface Served {
  client: Client;
  /** Lines on stdout that were not JSON-RPC (stdio only). */
  badLines(): string[];
  close(): Promise<void>;
}

export type Serve = (dir: WorkDir, env: Record<string, string>) => Promise<Served>;

/** `name` is the client's name (its clientInfo), suffixed with the transport. */
export function transports(name: string): Record<'stdio' | 'HTTP', Serve> {
  return {
    stdio: async (dir, env) => {
      const transport = new RecordingStdioTransport({ env, cwd: dir.path });
      const client = new Client({ name: `${name}-stdio`, version: '0' });
      await client.connect(transport);
      return { client, badLines: () => transport.badLines, close: () => client.close() };
    },
    HTTP: async (dir, env) => {
      const server = await startHttpProcess(dir, env);
      const client = new Client({ name: `${name}-http`, version: '0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(server.url)));
      return {
        client,
        badLines: () => [],
        close: async () => {
          await client.close();
          await server.stop();
        },
      };
    },
  };
}

export interface Connected {
  client: Client;
  fake: FakeProvider;
  dir: WorkDir;
}

export interface SuiteOptions {
  /** The client's name (clientInfo), suffixed with the transport. */
  client: string;
  /** Fake models the work folder's models.json lists. */
  models: readonly string[];
  /** Settings on top of serverEnv's. */
  extra: Record<string, string>;
}

/**
 * One describe block per transport (`${title} over stdio`, `... over HTTP`): `scenarios` gets a connect that
 * starts a fake provider, a work folder and the built server, warmed by one call; all of it is closed after
 * the block, and stdout must carry nothing but JSON-RPC.
 */
export function overTransports(
  title: string,
  options: SuiteOptions,
  scenarios: (connect: () => Promise<Connected>) => void,
): void {
  for (const [transport, serve] of Object.entries(transports(options.client))) {
    describe(`${title} over ${transport}`, () => {
      let fake: FakeProvider;
      let dir: WorkDir;
      let served: Served;
      afterAll(async () => {
        await served?.close();
        await fake?.close();
        await dir?.cleanup();
      });
      afterEach(() => expect(served.badLines()).toEqual([]));
      scenarios(async () => {
        assertBuilt();
        fake = await startFakeProvider();
        dir = await workDir();
        const models = options.models.map(name => fakeModelEntry(name));
        await writeFile(join(dir.path, 'models.json'), JSON.stringify({ models }));
        served = await serve(dir, serverEnv(dir, { fakeUrl: fake.url, extra: options.extra }));
        // Warm: the first call of a fresh process loads code that the timed calls should not pay for.
        await served.client.callTool({ name: 'version', arguments: {} });
        return { client: served.client, fake, dir };
      });
    });
  }
}
