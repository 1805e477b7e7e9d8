/** A call's event callback as an async iterator of stream chunks; a consumer that stops early cancels the call. */
import { ExaiError } from '../errors.js';
import { Deadline } from '../resilience/deadline.js';
import type { GatewayRequest } from './routing.js';
import type { ChatResponse, StreamChunk } from './types.js';

export async function* streamChat(
  chat: (request: GatewayRequest) => Promise<ChatResponse>,
  request: GatewayRequest,
): AsyncGenerator<StreamChunk> {
  const queue: StreamChunk[] = [];
  let wake: (() => void) | undefined;
  // The caller's budget, which this consumer can also end by leaving the loop.
  const stop = request.budget ? request.budget.child() : Deadline.open({ label: 'stream' });
  let finished = false;
  let failure: unknown;
  const run = chat({
    ...request,
    budget: stop,
    forwardsDeltas: true,
    onEvent: event => {
      request.onEvent?.(event);
      if (event.type === 'delta') {
        queue.push({ type: event.channel, text: event.text });
        wake?.();
      }
    },
  }).then(
    response => {
      queue.push({ type: 'done', response });
      finished = true;
      wake?.();
    },
    error => {
      failure = error;
      finished = true;
      wake?.();
    },
  );
  try {
    for (;;) {
      const next = queue.shift();
      if (next) {
        yield next;
        if (next.type === 'done') return;
        continue;
      }
      if (finished) {
        if (failure !== undefined) throw failure;
        return;
      }
      await new Promise<void>(resolve => {
        wake = resolve;
      });
      wake = undefined;
    }
  } finally {
    if (!finished) stop.cancel(new ExaiError('cancelled', 'the consumer stopped reading the stream'));
    await run;
    stop.dispose();
  }
}
