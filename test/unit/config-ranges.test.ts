import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { SETTINGS, type SettingKey } from '../../src/config/settings.js';

function problems(options: Parameters<typeof loadConfig>[0]): string[] {
  try {
    loadConfig({ envFile: false, ...options });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a configuration error');
}

/** Every numeric setting, with the range its schema accepts. */
const NUMERIC = (Object.keys(SETTINGS) as SettingKey[]).flatMap(key => {
  const schema = SETTINGS[key].schema as { minValue?: unknown; maxValue?: unknown };
  return typeof schema.minValue === 'number' && typeof schema.maxValue === 'number'
    ? [{ key, env: SETTINGS[key].env[0] as string, min: schema.minValue, max: schema.maxValue }]
    : [];
});

describe('numeric settings out of range', () => {
  it('finds the numeric settings in the table', () => {
    expect(NUMERIC.map(n => n.env)).toEqual(
      expect.arrayContaining(['EXAI_HTTP_PORT', 'GLM_TIMEOUT_SECS', 'PROVIDER_MAX_RETRIES']),
    );
  });

  it.each(NUMERIC)('$env above its maximum names the variable and the range', ({ env, min, max }) => {
    expect(problems({ env: { [env]: String(max * 2 + 1) } })).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${env}="${max * 2 + 1}" is out of range: use a (whole )?number( of \\w+)? from ${min} to ${max}\\.$`,
        ),
      ),
    ]);
  });

  it('names the unit and the exact range', () => {
    expect(problems({ env: { EXAI_HTTP_PORT: '99999' } })).toEqual([
      'EXAI_HTTP_PORT="99999" is out of range: use a whole number from 0 to 65535.',
    ]);
    expect(problems({ env: { GLM_TIMEOUT_SECS: '0' } })).toEqual([
      'GLM_TIMEOUT_SECS="0" is out of range: use a number of seconds from 0.01 to 86400.',
    ]);
    expect(problems({ env: { PROVIDER_RETRY_BASE_MS: '-5' } })).toEqual([
      'PROVIDER_RETRY_BASE_MS="-5" is out of range: use a whole number of milliseconds from 1 to 600000.',
    ]);
    expect(problems({ env: { EXAI_MAX_FILE_BYTES: '0' } })).toEqual([
      'EXAI_MAX_FILE_BYTES="0" is out of range: use a whole number of bytes from 1 to 1073741824.',
    ]);
  });

  it('says a value is not a number, or not whole, before giving the range', () => {
    expect(problems({ env: { PROVIDER_MAX_RETRIES: 'three' } })).toEqual([
      'PROVIDER_MAX_RETRIES="three" is not a whole number: use a whole number from 0 to 20.',
    ]);
    expect(problems({ env: { PROVIDER_MAX_RETRIES: '1.5' } })).toEqual([
      'PROVIDER_MAX_RETRIES="1.5" is not a whole number: use a whole number from 0 to 20.',
    ]);
    expect(problems({ env: { CONVERSATION_TIMEOUT_HOURS: 'soon' } })).toEqual([
      'CONVERSATION_TIMEOUT_HOURS="soon" is not a number: use a number of hours from 0.001 to 8760.',
    ]);
  });

  it('names the variable actually set when a setting has several names', () => {
    expect(problems({ env: { MOONSHOT_API_URL: 'ftp://x' } })[0]).toMatch(/^MOONSHOT_API_URL="ftp:\/\/x": /);
  });

  it('names the command-line flag a value came from, not the internal setting', () => {
    const found = problems({ overrides: { httpPort: '99999' }, flagNames: { httpPort: '--port' } });
    expect(found).toEqual(['--port 99999 is out of range: use a whole number from 0 to 65535.']);
    expect(found.join()).not.toContain('httpPort');
  });

  it('names the variable, never the internal key, for an override without a flag', () => {
    expect(problems({ overrides: { maxRetries: 99 } })).toEqual([
      'PROVIDER_MAX_RETRIES=99 is out of range: use a whole number from 0 to 20.',
    ]);
  });
});
