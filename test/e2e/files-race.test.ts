/**
 * The check-then-read race, attacked through the built server over HTTP: while another process swaps shared
 * paths between regular files, FIFOs and symlinks out of the roots (and to /proc/self/environ), chat calls
 * name those paths. Nothing from outside the roots may reach the provider, and /healthz must answer
 * throughout (a FIFO opened in blocking mode used to freeze the whole server).
 */
import { spawn } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chat, connectHttp, leaks, pngBytes, watchHealth } from './files-fixtures.js';
import { exited, fakeAndWorkDir, type HttpProcess, serverEnv, startHttpProcess } from './harness.js';

const SWAPPER = fileURLToPath(new URL('../fixtures/swap-paths.mjs', import.meta.url));
const OUTSIDE_MARKER = 'OUTSIDE-SECRET-7f3a';
const ENV_MARKER = 'ENVIRON-SECRET-91bc';
const RACE_MS = 10_500;

describe('file policy under a swap race (HTTP server)', () => {
  const shared = fakeAndWorkDir();
  let server: HttpProcess;
  let root: string;
  let outside: string;
  let stage: string;

  beforeAll(async () => {
    const base = shared.dir.path;
    root = join(base, 'root');
    outside = join(base, 'outside');
    stage = join(base, 'stage');
    await mkdir(join(outside, 'dir'), { recursive: true });
    await mkdir(join(root, 'sub'), { recursive: true });
    await mkdir(stage);
    await writeFile(join(outside, 'secret.txt'), `${OUTSIDE_MARKER}\n`);
    await writeFile(join(outside, 'dir', 'x.txt'), `${OUTSIDE_MARKER} in a folder\n`);
    // A real PNG signature: only the root check can stop this one.
    await writeFile(join(outside, 'secret.png'), Buffer.concat([pngBytes(16), Buffer.from(OUTSIDE_MARKER)]));
    await writeFile(join(root, 'target.txt'), 'inside text\n');
    await writeFile(join(root, 'pic.png'), pngBytes(64));
    await writeFile(join(root, 'sub', 'x.txt'), 'inside sub\n');
    await symlink(join(outside, 'secret.txt'), join(root, 'plain-link.txt'));
    server = await startHttpProcess(
      shared.dir,
      serverEnv(shared.dir, {
        fakeUrl: `${shared.fake.url}/mode/ok,content=done`,
        extra: { EXAI_ALLOWED_ROOTS: root, EXAI_E2E_ENV_MARKER: ENV_MARKER, FALLBACK_ON_FAILURE: 'false' },
      }),
    );
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('reads nothing outside the roots and keeps /healthz answering while paths are swapped for 10 s', async () => {
    const client = await connectHttp(server.url);
    try {
      // Without a race, a link out of the roots is refused: the baseline the race must not beat.
      const plain = await chat(client, { files: [join(root, 'plain-link.txt')] });
      expect(plain.isError).toBe(true);
      expect(plain.output.content).toMatch(/outside the allowed folders/);

      shared.fake.reset();
      const swapper = spawn(process.execPath, [SWAPPER, root, outside, stage, String(RACE_MS)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let swapped = '';
      let swapErrors = '';
      swapper.stdout.on('data', d => {
        swapped += d;
      });
      swapper.stderr.on('data', d => {
        swapErrors += d;
      });
      const health = watchHealth(server.origin);
      const outcomes = { ok: 0, refused: 0 };
      const kinds: Array<Record<string, unknown>> = [
        { files: [join(root, 'target.txt')] },
        { files: [join(root, 'sub', 'x.txt')] },
        { images: [join(root, 'pic.png')], model: 'glm-4.5v' },
      ];
      // Several of each at once: more reads in flight, more chances to land between a check and an open.
      const calls = [...kinds, ...kinds, ...kinds];
      const until = performance.now() + RACE_MS;
      while (performance.now() < until) {
        const round = await Promise.all(calls.map(args => chat(client, args)));
        for (const { isError, output } of round) {
          if (!isError) outcomes.ok++;
          else {
            // A refusal must be ours and clear, never a provider error or a timeout.
            expect(output.metadata.error_kind).toBe('bad_request');
            outcomes.refused++;
          }
        }
      }
      const exitCode = await exited(swapper);
      const seen = await health.stop();

      expect(swapErrors).toBe('');
      expect(exitCode).toBe(0);
      expect(Number(swapped)).toBeGreaterThan(100);
      expect(leaks(shared.fake, [OUTSIDE_MARKER, ENV_MARKER, 'test-key-glm-secret'])).toEqual([]);
      expect(seen.misses).toEqual([]);
      expect(seen.polls).toBeGreaterThan(20);
      // Both sides of the race happened: some calls read an inside file, some were refused.
      expect(outcomes.ok).toBeGreaterThan(0);
      expect(outcomes.refused).toBeGreaterThan(0);

      // And the server is still whole afterwards.
      await writeFile(join(root, 'after.txt'), 'after the race\n');
      const after = await chat(client, { files: [join(root, 'after.txt')] });
      expect(after.isError).toBe(false);
    } finally {
      await client.close();
    }
  }, 60_000);
});
