/**
 * Fire-and-forget messages to every replica over one Redis pub/sub channel (e.g. "cancel this call, wherever
 * it runs"). Delivery is at most once and only to replicas connected at that moment: fine for signals that
 * matter for seconds, never for state (state goes in keys: see shared-health.ts, the Redis store).
 */
import type { Logger } from '../observability/logger.js';
import { openRedisLink } from '../redis/link.js';

export interface Broadcast {
  /** Resolves false when Redis is unreachable (nothing is queued). */
  publish(message: string): Promise<boolean>;
  /** Every message on the channel, this replica's own included. */
  onMessage(listener: (message: string) => void): () => void;
  close(): Promise<void>;
}

export function openBroadcast(options: {
  url: string;
  channel: string;
  name: string;
  logger: Logger;
}): Broadcast {
  const pub = openRedisLink({ url: options.url, name: `${options.name}-pub`, logger: options.logger });
  const sub = openRedisLink({ url: options.url, name: `${options.name}-sub`, logger: options.logger });
  const listeners = new Set<(message: string) => void>();
  let subscribed = false;
  sub.onReady(() => {
    // node-redis resubscribes by itself after a reconnection; only the first subscription is ours.
    if (subscribed) return;
    subscribed = true;
    sub
      .subscribe(options.channel, message => {
        for (const listener of listeners) listener(message);
      })
      .catch(() => {
        subscribed = false;
      });
  });
  return {
    async publish(message) {
      try {
        await pub.send(['PUBLISH', options.channel, message]);
        return true;
      } catch {
        return false;
      }
    },
    onMessage(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      listeners.clear();
      await Promise.all([pub.close(), sub.close()]);
    },
  };
}
