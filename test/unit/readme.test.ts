import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { modelsTable } from '../../scripts/models-table.js';
import { SETTINGS } from '../../src/config/settings.js';
import { ERROR_KINDS } from '../../src/errors.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it.each(Object.values(SETTINGS).flatMap(s => s.env))('documents the setting %s', name => {
    expect(readme).toContain(`\`${name}\``);
  });

  it.each([...ERROR_KINDS])('documents the error kind %s', kind => {
    expect(readme).toContain(`| \`${kind}\` |`);
  });

  it('carries the model table generated from the catalogue (npx tsx scripts/models-table.ts)', () => {
    expect(readme).toContain(modelsTable());
  });

  it('gives the two set-up commands', () => {
    expect(readme).toContain('npm start');
    expect(readme).toContain('npm test');
  });
});
