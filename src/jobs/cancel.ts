/**
 * Telling a client's timeout from a person's cancel. Both arrive as `notifications/cancelled`; only the
 * `reason` differs. The MCP SDKs cancel a request whose `timeout` fired with the timeout error as the reason:
 * TypeScript SDK v2 sends "SdkError: Request timed out" (SdkErrorCode.RequestTimeout), v1 sent
 * "McpError: MCP error -32001: Request timed out"
 * (https://github.com/modelcontextprotocol/typescript-sdk, Protocol.request's timeout handler). A person's
 * Esc or a host's abort carries anything else ("AbortError: This operation was aborted", a free text).
 *
 * What cannot be told apart is treated as a person's decision, as before jobs existed: a closed connection
 * or HTTP stream (the SDK aborts with "Connection closed"), a 2026-07-28 client whose per-request stream the
 * SDK aborts instead of sending a notification, and our own deadlines and shutdown (ExaiErrors).
 */
import { isExaiError } from '../errors.js';

const CLIENT_TIMEOUT = /request timed out|-32001|\btimeout\b/i;

export function isClientTimeout(reason: unknown): boolean {
  if (isExaiError(reason)) return false;
  const text =
    typeof reason === 'string' ? reason : reason instanceof Error ? `${reason.name}: ${reason.message}` : '';
  return CLIENT_TIMEOUT.test(text);
}
