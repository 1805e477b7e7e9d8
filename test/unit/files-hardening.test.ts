import { execFileSync } from 'node:child_process';
import { renameSync, rmSync, symlinkSync } from 'node:fs';
import { link, mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isExaiError } from '../../src/errors.js';
import { parseDenyList } from '../../src/files/deny.js';
import { imageMismatch, sniffImageType } from '../../src/files/image-type.js';
import { openChecked } from '../../src/files/open.js';
import { createFilePolicy, type FilePolicyOptions } from '../../src/files/policy.js';
import { rootsInForce } from '../../src/files/roots.js';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);

let base: string;
let root: string;
let outside: string;
let swapCount = 0;

function policy(overrides: Partial<FilePolicyOptions> = {}) {
  return createFilePolicy({
    roots: [root],
    maxFileBytes: 10_000,
    maxRequestBytes: 50_000,
    maxImageBytes: 1_000,
    ...overrides,
  });
}

async function refusal(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (error) {
    // Our own refusals and limits: a local, non-retryable kind, never blamed on a provider.
    expect(isExaiError(error) && error.kind).toBe('bad_request');
    expect(isExaiError(error) && error.retryable).toBe(false);
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

/** Renames a fresh entry over target, as an attacker racing the policy would. */
function swapTo(target: string, make: (path: string) => void): void {
  const temp = join(base, `swap-${swapCount++}`);
  make(temp);
  renameSync(temp, target);
}

beforeAll(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'exai-harden-')));
  root = join(base, 'project');
  outside = join(base, 'outside');
  await mkdir(join(root, 'sub'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(outside, 'secret.txt'), 'OUTSIDE\n');
  await writeFile(join(root, 'ok.txt'), 'inside\n');
  await writeFile(join(root, '..foo'), 'a name that starts with two dots\n');
  await writeFile(join(root, '.env'), 'GLM_API_KEY=sk-secret\n');
  await writeFile(join(root, '.env.local'), 'KIMI_API_KEY=sk-secret\n');
  await symlink(join(root, '.env'), join(root, 'notes.txt'));
  await mkdir(join(root, '.aws'));
  await writeFile(join(root, '.aws', 'credentials'), '[default]\n');
  await writeFile(join(root, 'pic.png'), PNG);
  await writeFile(join(root, 'fake.png'), 'not an image at all\n');
  await writeFile(join(root, 'real-jpeg.png'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]));
  execFileSync('mkfifo', [join(root, 'pipe.txt')]);
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('opening a file that is swapped between check and open', () => {
  const allowInside = (real: string) => (real.startsWith(`${root}/`) ? undefined : `outside: ${real}`);

  it('refuses a regular file swapped for a symlink out of the roots after the check', async () => {
    const target = join(root, 'race-link.txt');
    await writeFile(target, 'inside\n');
    // The check runs after realpath and before open: exactly the window an attacker races for.
    const error = await openChecked(target, real => {
      swapTo(target, p => symlinkSync(join(outside, 'secret.txt'), p));
      return allowInside(real);
    }).catch((e: Error) => e);
    expect((error as Error).message).toBe('was replaced by a symbolic link while being opened');
  });

  it('refuses a file swapped for a FIFO at once, without waiting for a writer', async () => {
    const target = join(root, 'race-fifo.txt');
    await writeFile(target, 'inside\n');
    const started = performance.now();
    const error = await openChecked(target, real => {
      swapTo(target, p => execFileSync('mkfifo', [p]));
      return allowInside(real);
    }).catch((e: Error) => e);
    expect((error as Error).message).toBe('not a regular file');
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('refuses a file whose parent folder is swapped for a link out of the roots (descriptor path check)', async () => {
    const dir = join(root, 'racing-dir');
    await mkdir(dir);
    await writeFile(join(dir, 'x.txt'), 'inside\n');
    await writeFile(join(outside, 'x.txt'), 'OUTSIDE\n');
    const error = await openChecked(join(dir, 'x.txt'), real => {
      if (real.startsWith(dir)) {
        renameSync(dir, join(base, `aside-${swapCount++}`));
        symlinkSync(outside, dir);
      }
      return allowInside(real);
    }).catch((e: Error) => e);
    expect((error as Error).message).toMatch(
      /^(outside: .*outside\/x\.txt|was replaced while being opened)$/,
    );
    rmSync(dir);
  });

  it('refuses a FIFO inside a root promptly, through the policy', async () => {
    const message = await refusal(() => policy().readFiles([join(root, 'pipe.txt')]));
    expect(message).toContain('pipe.txt: not a regular file');
  });
});

describe('secret files', () => {
  it('refuses .env files, links to them and cloud credentials by name, naming EXAI_DENIED_FILES', async () => {
    const message = await refusal(() =>
      policy().readFiles([
        join(root, '.env'),
        join(root, '.env.local'),
        join(root, 'notes.txt'),
        join(root, '.aws', 'credentials'),
      ]),
    );
    expect(message).toMatch(/^Cannot use these 4 files:/);
    expect(message).toContain(
      `${join(root, '.env')}: a secret file by name (matches ".env*" of EXAI_DENIED_FILES)`,
    );
    expect(message).toContain(`${join(root, 'notes.txt')}: a secret file by name (matches ".env*"`);
    expect(message).toContain(`${join(root, '.aws', 'credentials')}: a secret file by name (matches ".aws/"`);
    expect(message).not.toContain('sk-secret');
  });

  it('never reads the .env the settings came from, even by a hard link and with the deny list off', async () => {
    const hardLink = join(root, 'innocent.md');
    await link(join(root, '.env'), hardLink);
    const p = policy({ deniedFiles: 'none', protectedFiles: [join(root, '.env')] });
    const message = await refusal(() => p.readFiles([join(root, '.env'), hardLink]));
    expect(message).toContain('.env: the .env file holding this server’s settings and keys is never sent');
    expect(message).toContain(
      'innocent.md: the .env file holding this server’s settings and keys is never sent',
    );
    // The deny list is the setting's to change: another .env is readable once it is off.
    expect(await p.readFiles([join(root, '.env.local')])).toHaveLength(1);
  });

  it('matches the default patterns by name and folder, ignoring case, and nothing else', () => {
    const deny = parseDenyList(policy().deniedPatterns.join(','));
    for (const path of [
      '/p/.env',
      '/p/.ENV.production',
      '/p/certs/server.pem',
      '/home/u/.ssh/id_ed25519',
      '/p/id_rsa.pub',
      '/p/.git/config',
      '/p/.git-credentials',
      '/home/u/.config/gcloud/application_default_credentials.json',
      '/home/u/.kube/config',
      '/home/u/.docker/config.json',
      '/p/.npmrc',
    ]) {
      expect(deny.match(path), path).toBeDefined();
    }
    for (const path of ['/p/src/env.ts', '/p/.gitignore', '/p/git/config', '/p/config.json', '/p/keys.ts']) {
      expect(deny.match(path), path).toBeUndefined();
    }
    expect(parseDenyList('none').match('/p/.env')).toBeUndefined();
    expect(parseDenyList('*.secret, private/').match('/p/private/a.txt')).toBe('private/');
  });
});

describe('roots', () => {
  it('allows a name inside a root that merely starts with ".."', async () => {
    const [file] = await policy().readFiles([join(root, '..foo')]);
    expect(file?.content).toBe('a name that starts with two dots\n');
  });

  it('shares no folder by default when the working directory is / or the home folder, and says how to share one', async () => {
    for (const [cwd, home] of [
      ['/', '/home/u'],
      [base, base],
      ['/home', '/home/u'],
    ] as const) {
      const roots = rootsInForce(undefined, cwd, home);
      expect(roots.roots).toEqual([]);
      expect(roots.unshared).toMatch(/no folder is shared.*Set EXAI_ALLOWED_ROOTS/);
    }
    expect(rootsInForce(undefined, root, '/home/u').roots).toEqual([root]);
    const p = createFilePolicy({
      roots: [],
      unshared: rootsInForce(undefined, '/', '/home/u').unshared,
      maxFileBytes: 100,
      maxRequestBytes: 100,
      maxImageBytes: 100,
    });
    const message = await refusal(() => p.readFiles([join(root, 'ok.txt')]));
    expect(message).toMatch(
      /^Cannot read files: no folder is shared with this server\. EXAI_ALLOWED_ROOTS is unset/,
    );
    expect(message).toContain('EXAI_ALLOWED_ROOTS=/path/to/project');
    expect(await refusal(() => p.loadImages([join(root, 'pic.png')]))).toMatch(/^Cannot read images/);
  });

  it('says roots are separated by the path delimiter when given a comma-separated list', () => {
    const roots = rootsInForce(`${root},${outside}`, '/', '/home/u');
    expect(roots.roots).toEqual([]);
    expect(roots.problems.join('\n')).toContain(`roots are separated by '${delimiter}', not ','`);
    expect(roots.unshared).toContain(`roots are separated by '${delimiter}'`);
    expect(roots.unshared).not.toMatch(
      /none of the configured roots exists: EXAI_ALLOWED_ROOTS entry "[^"]*" does not exist$/,
    );
  });

  it('names a relative root as relative, used or missing', () => {
    const used = rootsInForce('project', base, '/home/u');
    expect(used.roots).toEqual([root]);
    expect(used.problems[0]).toContain('EXAI_ALLOWED_ROOTS entry "project" is relative');
    const missing = rootsInForce('nowhere', base, '/home/u');
    expect(missing.roots).toEqual([]);
    expect(missing.problems[0]).toMatch(/"nowhere" is relative .* does not exist/);
  });
});

describe('images', () => {
  it('recognises each supported type by its first bytes', () => {
    expect(sniffImageType(PNG)).toBe('image/png');
    expect(sniffImageType(Buffer.from('GIF89a...'))).toBe('image/gif');
    expect(sniffImageType(Buffer.from([0xff, 0xd8, 0xff, 0xdb]))).toBe('image/jpeg');
    expect(sniffImageType(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toBe('image/webp');
    expect(sniffImageType(Buffer.from('GLM_API_KEY=sk'))).toBeUndefined();
    expect(imageMismatch('image/png', Buffer.from([0xff, 0xd8, 0xff]))).toBe(
      'declared image/png but its content is image/jpeg',
    );
  });

  it('refuses an image whose content is not the type its name or data: URL declares', async () => {
    const message = await refusal(() =>
      policy().loadImages([
        join(root, 'fake.png'),
        join(root, 'real-jpeg.png'),
        `data:image/png;base64,${Buffer.from('KEY=sk-secret').toString('base64')}`,
      ]),
    );
    expect(message).toContain('fake.png: its content is not a PNG, JPEG, GIF or WebP image');
    expect(message).toContain('real-jpeg.png: declared image/png but its content is image/jpeg');
    expect(message).toContain('data:image/png;base64,');
  });

  it('refuses /proc/self/environ behind an image name even when / is an allowed root', async () => {
    const link = join(root, 'environ.png');
    await symlink('/proc/self/environ', link);
    const wide = createFilePolicy({
      roots: ['/'],
      maxFileBytes: 100_000,
      maxRequestBytes: 100_000,
      maxImageBytes: 100_000,
    });
    const message = await refusal(() => wide.loadImages([link]));
    expect(message).toMatch(/environ\.png: (its content is not a PNG|reports a size of 0 but has content)/);
    expect(message).not.toContain('PATH=');
  });

  it('sends an image named many times once', async () => {
    const urls = await policy().loadImages(Array.from({ length: 70 }, () => join(root, 'pic.png')));
    expect(urls).toEqual([`data:image/png;base64,${PNG.toString('base64')}`]);
  });

  it('caps the number of images and their total bytes per request, naming the setting', async () => {
    for (let i = 0; i < 4; i++)
      await writeFile(join(root, `copy${i}.png`), Buffer.concat([PNG, Buffer.alloc(500)]));
    const copies = [0, 1, 2, 3].map(i => join(root, `copy${i}.png`));
    expect(await refusal(() => policy({ maxRequestImages: 3 }).loadImages(copies))).toBe(
      '4 different images in one request, over EXAI_MAX_REQUEST_IMAGES=3: send fewer images, or raise EXAI_MAX_REQUEST_IMAGES',
    );
    expect(await refusal(() => policy({ maxRequestImageBytes: 1_500 }).loadImages(copies))).toContain(
      'the 4 images of this request come to 2048 bytes, over EXAI_MAX_REQUEST_IMAGE_BYTES=1500',
    );
    expect(await policy({ maxRequestImageBytes: 2_048 }).loadImages(copies)).toHaveLength(4);
  });
});

describe('file lists', () => {
  it('caps the number of entries before reading any, naming the setting', async () => {
    const paths = Array.from({ length: 40_000 }, (_, i) => join(root, `f${i}.txt`));
    const started = performance.now();
    expect(await refusal(() => policy().readFiles(paths))).toBe(
      '40000 files in one request, over EXAI_MAX_REQUEST_FILES=1000: name fewer files (the most relevant ones), or raise EXAI_MAX_REQUEST_FILES',
    );
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('keeps the files that fit the budget in order and lists the rest as omitted', async () => {
    for (const name of ['a', 'b', 'c']) await writeFile(join(root, `${name}.md`), name.repeat(400));
    const fitted = await policy().readFilesWithin(
      ['a', 'b', 'c'].map(n => join(root, `${n}.md`)),
      250,
    );
    expect(fitted.files.map(f => f.path)).toEqual([join(root, 'a.md'), join(root, 'b.md')]);
    expect(fitted.omitted).toEqual([
      {
        path: join(root, 'c.md'),
        reason: "does not fit the files' share of the model's context window (250 tokens)",
      },
    ]);
  });
});
