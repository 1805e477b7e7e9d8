import { describe, expect, it } from 'vitest';
import { createLogger, resolveLogFormat } from '../../src/observability/logger.js';

function capture(format: 'json' | 'text') {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', format, destination: { write: line => lines.push(line) } });
  return { logger, lines };
}

describe('log format', () => {
  it.each([
    ['auto', true, 'text'],
    ['auto', false, 'json'],
    ['json', true, 'json'],
    ['text', false, 'text'],
  ] as const)('LOG_FORMAT=%s with stderr a terminal=%s logs %s', (setting, terminal, expected) => {
    expect(resolveLogFormat(setting, terminal)).toBe(expected);
  });

  it('text is one line of words per record, with the error message', () => {
    const { logger, lines } = capture('text');
    logger.warn({ event: 'fallback', from: 'kimi-k2.6' }, 'falling back to glm-4.7');
    logger.error({ err: new Error('disk full') }, 'closing the conversation store failed');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d warning: falling back to glm-4\.7\n$/);
    expect(lines[1]).toMatch(/^\d\d:\d\d:\d\d error: closing the conversation store failed: disk full\n$/);
  });

  it('json keeps every field for collectors', () => {
    const { logger, lines } = capture('json');
    logger.warn({ event: 'fallback', from: 'kimi-k2.6' }, 'falling back to glm-4.7');
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ level: 40, event: 'fallback', from: 'kimi-k2.6' });
  });
});
