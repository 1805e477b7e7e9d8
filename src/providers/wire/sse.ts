/**
 * Server-sent events framing of a streamed completion: chunks parsed as they arrive and folded into the
 * accumulator, `[DONE]` answering the call, provider errors sent inside the stream mapped like any other.
 */
import type { IncomingMessage } from 'node:http';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { mapProviderError } from '../error-mapping.js';
import type { ProviderName } from '../types.js';
import { type Accumulator, hasError, parseJson, protocolError } from './decode.js';

/** Whose stream it is: named in errors, and the key kept out of them. */
export interface StreamSource {
  provider: ProviderName;
  model: string;
  apiKey: string;
}

/**
 * After `[DONE]` the call is answered at once, but the body keeps flowing to its end in the background so the
 * socket goes back to the keep-alive pool. (Leaving a `for await` loop early destroys the stream, and with it
 * the socket: every call then paid a fresh TCP connect and close, about a third of the client's CPU time.)
 * A server that sends `[DONE]` and never ends the response loses the socket after DRAIN_GRACE_MS.
 */
const DRAIN_GRACE_MS = 1_000;

export function readStream(
  body: IncomingMessage,
  input: StreamSource,
  acc: Accumulator,
  onDelta: (channel: 'content' | 'reasoning', text: string) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let done = false;
    let settled = false;
    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      if (error === undefined) return resolve();
      body.destroy();
      reject(error);
    };
    const parser = createParser({
      onEvent(event: EventSourceMessage) {
        if (done) return;
        if (event.data === '[DONE]') {
          done = true;
          return;
        }
        const json = parseJson(event.data);
        if (json === undefined)
          throw protocolError(
            input.provider,
            input.model,
            `malformed stream chunk: ${event.data.slice(0, 120)}`,
          );
        if (hasError(json)) {
          const requestId = acc.requestId();
          throw mapProviderError({
            provider: input.provider,
            model: input.model,
            body: json,
            inStream: true,
            secrets: [input.apiKey],
            ...(requestId !== undefined && { requestId }),
          });
        }
        acc.absorbChunk(json, onDelta);
      },
    });
    body.setEncoding('utf8');
    body.on('data', (chunk: string) => {
      if (settled) return; // draining after [DONE]
      try {
        parser.feed(chunk);
      } catch (error) {
        settle(error);
        return;
      }
      if (!done) return;
      settle();
      // Most servers end the response in the packet that carries [DONE], and the parser marks it complete
      // before this turn ends: only a body still open after that gets a timer to bound its drain.
      queueMicrotask(() => {
        if (body.complete || body.readableEnded || body.destroyed) return;
        const timer = setTimeout(() => body.destroy(), DRAIN_GRACE_MS).unref();
        body.once('close', () => clearTimeout(timer));
      });
    });
    body.once('end', () =>
      settle(
        done || acc.finishReason
          ? undefined
          : protocolError(input.provider, input.model, 'stream ended before the completion finished'),
      ),
    );
    body.once('error', error => settle(error));
    // Destroyed without an error (an abort elsewhere): the caller maps it to the abort's reason.
    body.once('close', () => settle(new Error('the stream closed before it ended')));
  });
}
