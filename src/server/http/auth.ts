/**
 * The bearer token in front of /mcp, /metrics and /status.json (EXAI_HTTP_TOKEN), answered so a person can
 * act on it, and slowed down for guessers:
 *
 * - A 401 names EXAI_HTTP_TOKEN in its JSON body and in `WWW-Authenticate: Bearer ... error_description`
 *   (RFC 6750 §3, https://www.rfc-editor.org/rfc/rfc6750#section-3), where MCP clients show it.
 * - Clients that meet a 401 try OAuth discovery (RFC 9728, RFC 8414) and dynamic client registration; this
 *   server has no OAuth, so those paths get a 404 whose body says to use the token instead, rather than a
 *   bare "registration rejected (HTTP 404)".
 * - After MAX_FAILURES wrong or missing tokens from one address, that address is locked out (429 with
 *   Retry-After) for a time that doubles with each further failure, up to MAX_LOCKOUT_MS; a right token
 *   clears the record. At most MAX_TRACKED addresses are remembered (the stalest are forgotten first).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerMatches, clientAddress, sendJson, sendRpcError } from './guards.js';

const MAX_FAILURES = 5;
const FIRST_LOCKOUT_MS = 1_000;
const MAX_LOCKOUT_MS = 60_000;
/** A record with no failure for this long starts over. */
const FORGET_AFTER_MS = 10 * 60_000;
const MAX_TRACKED = 10_000;

const HOW_TO =
  'Set EXAI_HTTP_TOKEN in your client to the server\'s token and send it as "Authorization: Bearer <token>" ' +
  '(Claude Code: claude mcp add --transport http exai <url> --header "Authorization: Bearer $EXAI_HTTP_TOKEN").';

export interface AuthGate {
  /** True when the request may go on; otherwise it has been answered (401 or 429). */
  admit(req: IncomingMessage, res: ServerResponse): boolean;
  /** True for a request that carries the right token (or when no token is set). Records nothing. */
  authorized(req: IncomingMessage): boolean;
}

interface Failures {
  count: number;
  last: number;
  lockedUntil: number;
}

export function createAuthGate(token: string | undefined, now: () => number = Date.now): AuthGate {
  const failures = new Map<string, Failures>();

  function record(address: string): void {
    const at = now();
    const previous = failures.get(address);
    const entry =
      previous && at - previous.last < FORGET_AFTER_MS ? previous : { count: 0, last: at, lockedUntil: 0 };
    failures.delete(address);
    entry.count++;
    entry.last = at;
    if (entry.count >= MAX_FAILURES) {
      const lockout = Math.min(MAX_LOCKOUT_MS, FIRST_LOCKOUT_MS * 2 ** (entry.count - MAX_FAILURES));
      entry.lockedUntil = at + lockout;
    }
    // Re-inserted last: the Map's order is then least recently failed first, which is what goes when full.
    failures.set(address, entry);
    while (failures.size > MAX_TRACKED) {
      const stalest = failures.keys().next().value;
      if (stalest === undefined) break;
      failures.delete(stalest);
    }
  }

  return {
    authorized: req => !token || bearerMatches(req.headers.authorization, token),

    admit(req, res) {
      if (!token) return true;
      const address = clientAddress(req);
      const entry = failures.get(address);
      const waitMs = entry ? entry.lockedUntil - now() : 0;
      if (waitMs > 0) {
        sendRpcError(
          res,
          429,
          `Too many requests with a wrong or missing EXAI_HTTP_TOKEN from ${address}; retry in ${Math.ceil(waitMs / 1000)} s. ${HOW_TO}`,
          { 'retry-after': String(Math.ceil(waitMs / 1000)) },
        );
        return false;
      }
      if (bearerMatches(req.headers.authorization, token)) {
        failures.delete(address);
        return true;
      }
      record(address);
      sendRpcError(res, 401, `Unauthorized: this server requires EXAI_HTTP_TOKEN. ${HOW_TO}`, {
        'www-authenticate':
          'Bearer realm="exai-mcp", error="invalid_token", ' +
          'error_description="send Authorization: Bearer <EXAI_HTTP_TOKEN> (this server has no OAuth)"',
      });
      return false;
    },
  };
}

/** OAuth discovery and registration paths clients try after a 401. */
export function isOAuthPath(path: string): boolean {
  return path.startsWith('/.well-known/oauth-') || path.startsWith('/.well-known/openid-configuration')
    ? true
    : path === '/register' || path === '/authorize' || path === '/token';
}

export function sendNoOAuth(res: ServerResponse): void {
  sendJson(res, 404, {
    error: 'not_found',
    error_description: `exai-mcp does not use OAuth: it takes a bearer token (EXAI_HTTP_TOKEN). ${HOW_TO}`,
  });
}
