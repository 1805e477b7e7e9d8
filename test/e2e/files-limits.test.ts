/**
 * Per-request limits on files and images, attacked through the built HTTP server: an image flood that once
 * exhausted the V8 heap, a 40,000-entry file list that blocked the event loop, and file lists larger than the
 * model's context window.
 */
import { link, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chat, connectHttp, pngBytes, rssBytes, watchHealth } from './files-fixtures.js';
import { fakeAndWorkDir, type HttpProcess, serverEnv, startHttpProcess } from './harness.js';

const IMAGE_BYTES = 5_000_000;

describe('file and image limits per request (HTTP server)', () => {
  const shared = fakeAndWorkDir();
  let server: HttpProcess;
  let root: string;

  beforeAll(async () => {
    root = join(shared.dir.path, 'root');
    await mkdir(root);
    await writeFile(join(root, 'big.png'), pngBytes(IMAGE_BYTES));
    for (let i = 0; i < 5; i++) await link(join(root, 'big.png'), join(root, `big${i}.png`));
    // 6,000 to 9,000 tokens each: the first fits glm-4.5v's files share (about 11,800 tokens), the others not.
    for (const name of ['one', 'two', 'three'])
      await writeFile(join(root, `${name}.md`), `${name} `.repeat(6_000));
    server = await startHttpProcess(
      shared.dir,
      serverEnv(shared.dir, {
        fakeUrl: `${shared.fake.url}/mode/ok,content=done`,
        extra: {
          EXAI_ALLOWED_ROOTS: root,
          FALLBACK_ON_FAILURE: 'false',
          EXAI_MAX_IMAGE_BYTES: String(IMAGE_BYTES),
          EXAI_HTTP_MAX_BODY_BYTES: String(8 * 1024 * 1024),
        },
      }),
    );
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('survives five concurrent requests that repeat one 5 MB image 70 times, with RSS bounded', async () => {
    const client = await connectHttp(server.url);
    try {
      const images = Array.from({ length: 70 }, () => join(root, 'big.png'));
      let peak = await rssBytes(server.child.pid!);
      const sampler = setInterval(() => {
        void rssBytes(server.child.pid!).then(
          rss => {
            peak = Math.max(peak, rss);
          },
          () => undefined,
        );
      }, 20);
      let results: Awaited<ReturnType<typeof chat>>[];
      try {
        results = await Promise.all(
          // Five different questions: identical ones would share one model job.
          Array.from({ length: 5 }, (_, i) =>
            chat(client, { prompt: `look ${i}`, images, model: 'glm-4.5v' }, 60_000),
          ),
        );
      } finally {
        clearInterval(sampler);
      }
      for (const result of results) expect(result.isError).toBe(false);
      // Each request sent the image once (de-duplicated), not 70 times.
      const sent = shared.fake.requests
        .slice(-5)
        .map(r => JSON.stringify(r.body).match(/"type":"image_url"/g)?.length);
      expect(sent).toEqual([1, 1, 1, 1, 1]);
      // 70 copies × 5 requests would be gigabytes; one copy each is a few tens of MB. Generous bound.
      expect(peak).toBeLessThan(700 * 1024 * 1024);
      const health = await fetch(`${server.origin}/healthz`);
      expect(health.status).toBe(200);
    } finally {
      await client.close();
    }
  }, 90_000);

  it('refuses too many different images, or too many image bytes, naming the setting, before reading them', async () => {
    const client = await connectHttp(server.url);
    try {
      const many = await chat(client, {
        model: 'glm-4.5v',
        images: Array.from({ length: 11 }, (_, i) => join(root, `img${i}.png`)),
      });
      expect(many.isError).toBe(true);
      expect(many.output.metadata.error_kind).toBe('bad_request');
      expect(many.output.content).toContain('over EXAI_MAX_REQUEST_IMAGES=10');

      const heavy = await chat(client, {
        model: 'glm-4.5v',
        images: [0, 1, 2, 3, 4].map(i => join(root, `big${i}.png`)),
      });
      expect(heavy.isError).toBe(true);
      expect(heavy.output.content).toContain(
        'the 5 images of this request come to 25000000 bytes, over EXAI_MAX_REQUEST_IMAGE_BYTES=20971520',
      );
    } finally {
      await client.close();
    }
  });

  it('refuses a 40,000-entry file list at once, naming the cap, while /healthz keeps answering', async () => {
    const client = await connectHttp(server.url);
    const health = watchHealth(server.origin, 20, 1_000);
    try {
      const files = Array.from({ length: 40_000 }, (_, i) => join(root, `f${i}.ts`));
      const started = performance.now();
      const result = await chat(client, { files });
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(result.isError).toBe(true);
      expect(result.output.metadata.error_kind).toBe('bad_request');
      expect(result.output.content).toContain('40000 files in one request, over EXAI_MAX_REQUEST_FILES=1000');
    } finally {
      const seen = await health.stop();
      expect(seen.misses).toEqual([]);
      await client.close();
    }
  });

  it("keeps files within the model's files share and names the rest in files_omitted", async () => {
    const client = await connectHttp(server.url);
    try {
      // glm-4.5v: a 64k window, so its files share is about 11,500 tokens.
      const files = ['one', 'two', 'three'].map(n => join(root, `${n}.md`));
      const result = await chat(client, { files, model: 'glm-4.5v' });
      expect(result.isError).toBe(false);
      expect(result.output.metadata.files).toEqual([files[0]]);
      expect(result.output.metadata.files_omitted).toEqual([
        { path: files[1], reason: expect.stringContaining("does not fit the files' share") },
        { path: files[2], reason: expect.stringContaining("does not fit the files' share") },
      ]);
      const body = JSON.stringify(shared.fake.requests.at(-1)?.body);
      expect(body).toContain(`BEGIN FILE: ${files[0]}`);
      expect(body).not.toContain(`BEGIN FILE: ${files[2]}`);
    } finally {
      await client.close();
    }
  });
});
