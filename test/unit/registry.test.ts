import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRegistry, loadModelsFile } from '../../src/providers/registry.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const file = (text: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'exai-models-'));
  dirs.push(dir);
  const path = join(dir, 'models.json');
  writeFileSync(path, text);
  return path;
};

describe('model registry', () => {
  it('ships the current GLM and Kimi models and none of the retired ids', () => {
    const names = createRegistry()
      .list()
      .map(m => m.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'glm-5.3',
        'glm-5.2',
        'glm-5.1',
        'glm-5',
        'glm-5-turbo',
        'glm-4.7',
        'glm-4.7-flash',
        'glm-4.6',
        'glm-4.6v',
        'glm-5v-turbo',
        'glm-4.5',
        'glm-4.5-air',
        'glm-4.5-flash',
        'glm-4.5-x',
        'glm-4.5-airx',
        'glm-4.5v',
        'kimi-k3',
        'kimi-k2.7-code',
        'kimi-k2.7-code-highspeed',
        'kimi-k2.6',
      ]),
    );
    expect(names.filter(n => /preview|thinking|latest|moonshot|k2\.5/.test(n))).toEqual([]);
  });

  it('an unknown model name is echoed cut short, with its length, never in full', () => {
    const huge = 'x'.repeat(1_000_000);
    expect(() => createRegistry().resolve(huge)).toThrow(
      /^Unknown model "x{80}… \(1000000 characters\)"\. Available models: /,
    );
    let message = '';
    try {
      createRegistry().resolve(huge);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.length).toBeGreaterThan(0);
    expect(message.length).toBeLessThan(5_000);
  });

  it('adds new models and overrides fields of existing ones from EXAI_MODELS_FILE', () => {
    const path = file(
      JSON.stringify({
        models: [
          {
            name: 'glm-5.9',
            provider: 'glm',
            contextWindow: 200000,
            maxOutputTokens: 32768,
            thinking: 'param',
            aliases: ['glm5'],
          },
          { name: 'glm-4.6', maxOutputTokens: 16384 },
        ],
      }),
    );
    const registry = createRegistry(loadModelsFile(path));
    expect(registry.resolve('glm5').name).toBe('glm-5.9');
    expect(registry.resolve('glm5').thinking).toBe('toggle');
    expect(registry.resolve('glm-4.6').maxOutputTokens).toBe(16384);
    expect(registry.resolve('glm-4.6').contextWindow).toBe(204_800);
  });

  it('rejects a bad models file with a message naming the entry and field', () => {
    expect(() => loadModelsFile(file('{ nope'))).toThrow(/is not valid JSON/);
    expect(() =>
      createRegistry(loadModelsFile(file(JSON.stringify({ models: [{ name: 'x', provider: 'glm' }] })))),
    ).toThrow(/Model entry #1 in EXAI_MODELS_FILE is invalid: contextWindow/);
  });
});
