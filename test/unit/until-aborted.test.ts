import { describe, expect, it } from 'vitest';
import { untilAborted } from '../../src/resilience/deadline.js';

const live = () => new AbortController().signal;

describe('untilAborted', () => {
  it('settles like the promise, or rejects with the abort reason first', async () => {
    expect(await untilAborted(Promise.resolve(1), live())).toBe(1);
    const controller = new AbortController();
    const pending = untilAborted(new Promise(() => {}), controller.signal);
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toMatchObject({
      kind: 'cancelled',
      message: 'cancelled by the caller: stop',
    });
  });
});
