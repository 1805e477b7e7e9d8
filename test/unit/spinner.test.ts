import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startSpinner } from '../../src/cli/spinner.js';

function stream(isTTY: boolean) {
  const out = new PassThrough() as PassThrough & { isTTY: boolean };
  out.isTTY = isTTY;
  let text = '';
  out.on('data', d => {
    text += d;
  });
  return { out: out as unknown as NodeJS.WriteStream, text: () => text };
}

afterEach(() => vi.useRealTimers());

describe('terminal spinner', () => {
  it('on a TTY redraws model, elapsed time and note, and clears its line on stop', async () => {
    vi.useFakeTimers();
    const s = stream(true);
    const spinner = startSpinner('glm-4.6', s.out);
    spinner.note('attempt 2');
    await vi.advanceTimersByTimeAsync(1_500);
    spinner.stop();
    await vi.advanceTimersByTimeAsync(500);
    const text = s.text();
    expect(text).toMatch(/glm-4\.6 · 1\.5 s · attempt 2/);
    expect(text.endsWith('\r\x1b[2K')).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('prints event lines above the spinner', async () => {
    vi.useFakeTimers();
    const s = stream(true);
    const spinner = startSpinner('kimi-k2', s.out);
    spinner.print('… retrying in 1.0 s');
    spinner.stop();
    await vi.advanceTimersByTimeAsync(0);
    expect(s.text()).toContain('\r\x1b[2K… retrying in 1.0 s\n');
  });

  it('writes nothing but printed lines when stderr is not a terminal', async () => {
    const s = stream(false);
    const spinner = startSpinner('glm-4.6', s.out);
    spinner.print('… fallback');
    spinner.stop();
    await new Promise(r => setImmediate(r));
    expect(s.text()).toBe('… fallback\n');
  });
});
