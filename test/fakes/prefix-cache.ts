/**
 * A simulated provider prefix cache. Both APIs cache the leading, unchanged part of a request automatically
 * (https://docs.z.ai/help/faq; https://platform.kimi.com/docs/pricing/chat-k26) and report the hit in usage.
 * The fake remembers the serialized messages of recent requests per (provider, model) and reports as cached
 * the longest common prefix with the most similar one: that many characters of the JSON-serialized messages,
 * as a share of the whole serialization, times the request's prompt tokens (the fake counts a token per 4
 * characters of message text). Kimi caches only a stable prefix longer than 256 tokens (third-party digest
 * of the Kimi docs); neither provider documents blocks, so there is no block rounding.
 */
import type { Provider } from './models.js';
/** Kimi: prefixes of this many tokens or fewer are not cached. */
export const KIMI_MIN_CACHED_TOKENS = 256;
/** Requests remembered per (provider, model); the oldest is forgotten first. */
export const CACHE_ENTRIES_PER_MODEL = 16;
/** Distinct (provider, model) pairs remembered. */
export const CACHE_MODELS = 64;

export interface PrefixCache {
  /**
   * The cached tokens for this request (given its prompt token count), then remembers it. `messages` is the
   * request's message array; it is serialized with JSON.stringify, so any change in a message (role, content,
   * tool calls) ends the shared prefix there.
   */
  lookup(provider: Provider, model: string, messages: unknown, promptTokens: number): number;
  clear(): void;
}

function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

export function createPrefixCache(): PrefixCache {
  const entries = new Map<string, string[]>();
  return {
    lookup(provider, model, messages, promptTokens) {
      const key = `${provider}\u0000${model}`;
      const text = JSON.stringify(messages ?? []);
      const seen = entries.get(key) ?? [];
      const best = seen.reduce((max, earlier) => Math.max(max, commonPrefix(earlier, text)), 0);
      // The shared share of the serialized text, applied to the prompt's tokens: JSON punctuation counts
      // on both sides, so an identical request is a full hit and a new question a near-full one.
      let cached = text.length === 0 ? 0 : Math.floor((promptTokens * best) / text.length);
      if (provider === 'kimi' && cached <= KIMI_MIN_CACHED_TOKENS) cached = 0;

      seen.push(text);
      if (seen.length > CACHE_ENTRIES_PER_MODEL) seen.shift();
      entries.delete(key);
      entries.set(key, seen);
      if (entries.size > CACHE_MODELS) {
        const [oldest] = entries.keys();
        if (oldest !== undefined) entries.delete(oldest);
      }
      return cached;
    },
    clear: () => entries.clear(),
  };
}
