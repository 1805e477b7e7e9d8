import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFilePolicy } from '../../src/files/policy.js';
import { embedFiles } from '../../src/workflow/files.js';

describe('embedding files for the expert', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'exai-embed-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const policy = () =>
    createFilePolicy({ roots: [dir], maxFileBytes: 10_000, maxRequestBytes: 100_000, maxImageBytes: 1_000 });

  it('embeds readable files in order within the token budget and says why the others were left out', async () => {
    const small = join(dir, 'small.ts');
    const big = join(dir, 'big.ts');
    const last = join(dir, 'last.ts');
    writeFileSync(small, 'export const a = 1;\n');
    writeFileSync(big, 'x'.repeat(2_000));
    writeFileSync(last, 'export const c = 3;\n');
    const result = await embedFiles(
      policy(),
      [small, big, '/etc/passwd', join(dir, 'missing.ts'), last],
      100,
    );
    expect(result.embedded).toEqual([small, last]);
    expect(result.text).toContain(`--- BEGIN FILE: ${small} ---\n   1│ export const a = 1;\n--- END`);
    expect(result.skipped).toEqual([
      { path: big, reason: 'does not fit the file budget of 100 tokens' },
      { path: '/etc/passwd', reason: expect.stringMatching(/^outside the allowed folders/) },
      { path: join(dir, 'missing.ts'), reason: 'does not exist' },
    ]);
    expect(result.tokens).toBeLessThanOrEqual(100);
  });
});
