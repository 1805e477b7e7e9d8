/**
 * Reading HTTP headers, incoming (node:http requests) and from upstream responses alike: one header lookup,
 * and the server's requested wait before the next attempt.
 */

/** Headers as node:http and undici hand them over: a value, repeated values, or nothing. */
export type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

/**
 * The first non-empty value of header `name` (lower-case), trimmed. node:http lower-cases the names it
 * receives, so the direct lookup answers almost always; headers built by hand (tests, other clients) may
 * keep their case, so a miss falls back to comparing names case-insensitively (RFC 9110 §5.1,
 * https://www.rfc-editor.org/rfc/rfc9110#section-5.1).
 */
export function header(headers: HeaderBag, name: string): string | undefined {
  const direct = firstValue(headers[name]);
  if (direct) return direct;
  for (const [key, raw] of Object.entries(headers)) {
    if (key === name || key.toLowerCase() !== name) continue;
    const value = firstValue(raw);
    if (value) return value;
  }
  return undefined;
}

function firstValue(raw: string | string[] | undefined): string | undefined {
  return (Array.isArray(raw) ? raw[0] : raw)?.trim() || undefined;
}

/**
 * The server's requested wait in ms: `retry-after-ms` (ms, fractions allowed; OpenAI-style APIs send it) wins
 * over `retry-after` (delta-seconds or an HTTP date, RFC 9110 §10.2.3,
 * https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3). Unparseable, negative or past values are ignored so
 * that backoff applies instead.
 */
export function parseRetryAfter(headers: HeaderBag, now: number = Date.now()): number | undefined {
  const ms = toNonNegative(Number(header(headers, 'retry-after-ms')));
  if (ms !== undefined) return ms;
  const value = header(headers, 'retry-after');
  if (value === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return toNonNegative(Number(value) * 1000);
  return toNonNegative(Date.parse(value) - now);
}

function toNonNegative(value: number): number | undefined {
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}
