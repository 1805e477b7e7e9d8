import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isExaiError } from '../../src/errors.js';
import { createFilePolicy, type FilePolicy, rootsFromSetting } from '../../src/files/policy.js';

let base: string;
let root: string;
let outside: string;

function policy(overrides: Partial<Parameters<typeof createFilePolicy>[0]> = {}): FilePolicy {
  return createFilePolicy({
    roots: [root],
    maxFileBytes: 1_000,
    maxRequestBytes: 1_500,
    maxImageBytes: 2_000,
    ...overrides,
  });
}

async function refusal(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (error) {
    expect(isExaiError(error) && error.kind).toBe('bad_request');
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

beforeAll(async () => {
  // realpath: on macOS the temp folder itself is behind a symlink (/var → /private/var).
  base = await realpath(await mkdtemp(join(tmpdir(), 'exai-files-')));
  root = join(base, 'project');
  outside = join(base, 'secrets');
  await mkdir(join(root, 'src'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(root, 'src', 'a.ts'), 'export const a = 1;\n');
  await writeFile(join(root, 'src', 'b.ts'), 'b'.repeat(800));
  await writeFile(join(root, 'src', 'c.ts'), 'c'.repeat(800));
  await writeFile(join(root, 'big.txt'), 'x'.repeat(1_001));
  await writeFile(join(root, 'image.bin'), Buffer.concat([Buffer.from('GIF89a'), Buffer.from([0, 1, 2])]));
  await writeFile(
    join(root, 'pixel.png'),
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]),
  );
  await writeFile(join(outside, 'key.txt'), 'sk-very-secret\n');
  await symlink(join(outside, 'key.txt'), join(root, 'innocent.txt'));
  await symlink(outside, join(root, 'linked-dir'));
  await symlink(join(root, 'src', 'a.ts'), join(root, 'alias.ts'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('file policy: roots', () => {
  it('reads a text file under an allowed root', async () => {
    const [file] = await policy().readFiles([join(root, 'src', 'a.ts')]);
    expect(file).toEqual({ path: join(root, 'src', 'a.ts'), content: 'export const a = 1;\n', bytes: 20 });
  });

  it('refuses relative paths and paths outside every root, naming each', async () => {
    const message = await refusal(() => policy().readFiles(['src/a.ts', join(outside, 'key.txt')]));
    expect(message).toMatch(/^Cannot use these 2 files:/);
    expect(message).toContain('- src/a.ts: not an absolute path');
    expect(message).toContain(`- ${join(outside, 'key.txt')}: outside the allowed folders`);
  });

  it('refuses .. segments that climb out of the root', async () => {
    const sneaky = join(root, 'src', '..', '..', 'secrets', 'key.txt');
    expect(await refusal(() => policy().readFiles([sneaky]))).toMatch(/outside the allowed folders/);
  });

  it('follows symlinks: a link inside a root that points out is refused, one that stays in is read', async () => {
    const message = await refusal(() =>
      policy().readFiles([join(root, 'innocent.txt'), join(root, 'linked-dir', 'key.txt')]),
    );
    expect(message).toContain(
      `${join(root, 'innocent.txt')}: outside the allowed folders (it resolves to ${join(outside, 'key.txt')})`,
    );
    expect(message).toContain(`${join(root, 'linked-dir', 'key.txt')}: outside the allowed folders`);
    expect((await policy().readFiles([join(root, 'alias.ts')]))[0]?.content).toBe('export const a = 1;\n');
  });

  it('says which paths do not exist', async () => {
    const message = await refusal(() =>
      policy().readFiles([join(root, 'nope.ts'), join(root, 'src', 'a.ts')]),
    );
    expect(message).toBe(`Cannot use this file:\n- ${join(root, 'nope.ts')}: does not exist`);
  });

  it('reads a folder as its files in name order, leaving out those past the byte caps, and says so', async () => {
    const src = join(root, 'src');
    const fitted = await policy().readFilesWithin([src], 10_000);
    expect(fitted.files.map(f => f.path)).toEqual([join(src, 'a.ts'), join(src, 'b.ts')]);
    expect(fitted.folders).toEqual([{ path: src, files: 3 }]);
    expect(fitted.omitted).toEqual([
      { path: join(src, 'c.ts'), reason: 'would bring this request over EXAI_MAX_REQUEST_FILE_BYTES=1500' },
    ]);
  });

  it('lists a folder only inside the roots and within the file count, never through a link out', async () => {
    expect(await refusal(() => policy().readFiles([outside]))).toMatch(/outside the allowed folders/);
    const expansion = await policy({ maxRequestFiles: 2 }).expand([join(root, 'alias.ts'), root]);
    // The root's own files (big.txt, pixel.png skipped as binary by name) come first; links are not followed.
    expect(expansion.paths).toEqual([join(root, 'alias.ts'), join(root, 'big.txt')]);
    expect(expansion.folders).toEqual([
      { path: root, files: 1, stopped: expect.stringContaining('EXAI_MAX_REQUEST_FILES') },
    ]);
  });

  it('judges a named path without opening it: a file not there yet is fine inside a root, refused outside', async () => {
    const p = policy();
    expect(await p.placeRefusal(join(root, 'src', 'new', 'later.ts'))).toBeUndefined();
    expect(await p.placeRefusal(join(root, 'src'))).toBeUndefined();
    expect(await p.placeRefusal(join(outside, 'key.txt'))).toMatch(/^outside the allowed folders; allowed: /);
    expect(await p.placeRefusal(join(root, 'linked-dir', 'not-yet.txt'))).toContain(
      `(it resolves to ${join(outside, 'not-yet.txt')})`,
    );
    expect(await p.placeRefusal(join(root, '.env.local'))).toMatch(/^a secret file by name/);
    expect(await p.placeRefusal('src/a.ts')).toMatch(/^not an absolute path/);
  });

  it('takes several roots separated by the path delimiter, relative ones resolved against the cwd', async () => {
    expect(rootsFromSetting(`${root}${delimiter}rel`, '/work')).toEqual([root, join('/work', 'rel')]);
    expect(rootsFromSetting(undefined, '/work')).toEqual(['/work']);
    expect(rootsFromSetting(` ${delimiter} `, '/work')).toEqual(['/work']);
    const both = createFilePolicy({
      roots: [root, outside, join(base, 'missing')],
      maxFileBytes: 100,
      maxRequestBytes: 100,
      maxImageBytes: 100,
    });
    expect(both.roots).toEqual([root, outside]);
    expect(await both.readFiles([join(outside, 'key.txt')])).toHaveLength(1);
  });
});

describe('file policy: size caps and binary files', () => {
  it('refuses a file over the per-file cap', async () => {
    expect(await refusal(() => policy().readFiles([join(root, 'big.txt')]))).toContain(
      'big.txt: 1001 bytes, over the per-file limit EXAI_MAX_FILE_BYTES=1000',
    );
  });

  it('refuses the file that takes a request over the per-request cap', async () => {
    const message = await refusal(() =>
      policy().readFiles([join(root, 'src', 'b.ts'), join(root, 'src', 'c.ts')]),
    );
    expect(message).toMatch(/^Cannot use this file:/);
    expect(message).toContain(
      'c.ts: would bring this request to 1600 bytes of files, over EXAI_MAX_REQUEST_FILE_BYTES=1500',
    );
  });

  it('counts a path given twice once', async () => {
    expect(await policy().readFiles([join(root, 'src', 'b.ts'), join(root, 'src', 'b.ts')])).toHaveLength(1);
  });

  it('refuses binary files (a NUL byte in the first 8 KB)', async () => {
    expect(await refusal(() => policy().readFiles([join(root, 'image.bin')]))).toContain(
      'image.bin: looks binary',
    );
  });

  it('readText gives undefined instead of throwing, for history rebuilds', async () => {
    const p = policy();
    expect(await p.readText(join(root, 'src', 'a.ts'))).toBe('export const a = 1;\n');
    expect(await p.readText(join(root, 'innocent.txt'))).toBeUndefined();
    expect(await p.readText(join(root, 'image.bin'))).toBeUndefined();
    expect(await p.readText('relative.ts')).toBeUndefined();
  });
});

describe('file policy: images', () => {
  it('turns an image path into a data: URL and passes data: URLs on', async () => {
    const dataUrl = 'data:image/png;base64,iVBORw0KGgo=';
    const [fromFile, given] = await policy().loadImages([join(root, 'pixel.png'), dataUrl]);
    expect(fromFile).toBe(
      `data:image/png;base64,${Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]).toString('base64')}`,
    );
    expect(given).toBe(dataUrl);
  });

  it('refuses images outside the roots, non-images and oversized data', async () => {
    const huge = `data:image/png;base64,${'A'.repeat(4_000)}`;
    const message = await refusal(() =>
      policy().loadImages([
        join(outside, 'key.txt'),
        join(root, 'src', 'a.ts'),
        huge,
        'data:text/plain;base64,aGk=',
      ]),
    );
    expect(message).toMatch(/^Cannot use these 4 images:/);
    expect(message).toContain('a.ts: not an image path');
    expect(message).toContain('over EXAI_MAX_IMAGE_BYTES=2000');
    expect(message).toContain('not a base64 data: URL');
  });
});
