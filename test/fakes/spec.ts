/**
 * Mode specs of the fake provider: `name` or `name,key=value,...`, chosen per request from a header, a
 * `/mode/<spec>/` path segment pair, or a `fake-<spec>` model name (first match wins).
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface ModeSpec {
  name: string;
  params: Record<string, string>;
}

export const MODE_HEADER = 'x-fake-mode';

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // A stray '%' is more likely meant literally than a reason to fail the request.
    return text;
  }
}

/** Commas separate params before decoding, so a value can carry a comma as `%2C`. */
export function parseModeSpec(spec: string): ModeSpec {
  const [rawName = '', ...rawParams] = spec.split(',');
  const params: Record<string, string> = {};
  for (const raw of rawParams) {
    if (raw === '') continue;
    const eq = raw.indexOf('=');
    const key = decode(eq === -1 ? raw : raw.slice(0, eq)).trim();
    params[key] = eq === -1 ? '' : decode(raw.slice(eq + 1));
  }
  return { name: decode(rawName).trim().toLowerCase() || 'ok', params };
}

/** The pathname split into raw segments, or undefined when it does not end in `/chat/completions`. */
export function chatPathSegments(url: string): string[] | undefined {
  const pathname = url.split('?', 1)[0] ?? '';
  const segments = pathname.split('/');
  const n = segments.length;
  if (n < 3 || segments[n - 2] !== 'chat' || segments[n - 1] !== 'completions') return undefined;
  return segments.slice(0, n - 2);
}

/** The mode from header or path, which are known as soon as the request headers arrive. */
export function modeFromHead(headers: IncomingHttpHeaders, prefix: readonly string[]): ModeSpec | undefined {
  const header = headers[MODE_HEADER];
  const headerSpec = Array.isArray(header) ? header[0] : header;
  if (headerSpec !== undefined && headerSpec.trim() !== '') return parseModeSpec(headerSpec.trim());
  for (let i = 0; i + 1 < prefix.length; i++) {
    const spec = prefix[i + 1];
    if (prefix[i] === 'mode' && spec !== undefined && spec !== '') return parseModeSpec(spec);
  }
  return undefined;
}

/** The mode from a `fake-<spec>` model name, the last resort before `ok`. */
export function modeFromBody(body: unknown): ModeSpec | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const model = (body as { model?: unknown }).model;
  if (typeof model !== 'string' || !model.startsWith('fake-') || model.length === 5) return undefined;
  return parseModeSpec(model.slice(5));
}

/** A numeric param; falls back when absent or not a finite number >= 0. */
export function numParam(params: Record<string, string>, key: string, fallback: number): number {
  const raw = params[key];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : fallback;
}
