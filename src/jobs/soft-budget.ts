/**
 * How long a tool call waits for its model job before it answers `in_progress` (a soft return): shorter
 * than the point where the client stops listening, so the agent always gets an answer it can act on.
 *
 * The figures come from what the hosts do with a long call:
 * - Claude Code moves an MCP call to the background after 120 s and may never show its answer to the agent
 *   (https://github.com/anthropics/claude-code/issues/78566), so it gets 100 s.
 * - Claude Desktop reports "No result received" after about 60 s
 *   (https://github.com/anthropics/claude-code/issues/22542), so it gets 45 s.
 * - Codex gives each tool call `tool_timeout_sec`, commonly 60 s (https://github.com/openai/codex), so 50 s.
 * - Any other client: 50 s, under the 60 s that many clients (the MCP SDKs' default request timeout,
 *   Copilot CLI) allow.
 */
import { CLIENT_INFO_META_KEY, type McpServer, type ServerContext } from '@modelcontextprotocol/server';

export interface SoftBudget {
  /** 0: no soft return, the call waits for the job to end. */
  readonly ms: number;
  /** Why this budget, for the answer's metadata. */
  readonly reason: string;
}

interface ClientRow {
  /** Matched against clientInfo.name, case-insensitively. */
  readonly name: RegExp;
  readonly label: string;
  readonly secs: number;
}

/** The documented table (docs/WORKFLOW_TOOLS.md, "in_progress"); the first matching row wins. */
export const CLIENT_SOFT_BUDGETS: readonly ClientRow[] = [
  { name: /claude[-_ ]?code/i, label: 'Claude Code', secs: 100 },
  { name: /claude[-_ ]?(ai|desktop)/i, label: 'Claude Desktop', secs: 45 },
  { name: /codex/i, label: 'Codex', secs: 50 },
];

export const DEFAULT_SOFT_SECS = 50;

/** EXAI_SOFT_RETURN_SECS, when set, wins over the client table. */
export function softBudget(client: string | undefined, overrideSecs: number | undefined): SoftBudget {
  if (overrideSecs !== undefined) {
    return overrideSecs === 0
      ? { ms: 0, reason: 'EXAI_SOFT_RETURN_SECS=0: soft return is off, the call waits for the answer' }
      : { ms: overrideSecs * 1000, reason: `EXAI_SOFT_RETURN_SECS=${overrideSecs}` };
  }
  const row = client === undefined ? undefined : CLIENT_SOFT_BUDGETS.find(r => r.name.test(client));
  if (row) return { ms: row.secs * 1000, reason: `${row.secs} s for ${row.label} (client "${client}")` };
  const who = client === undefined ? 'a client that gave no name' : `client "${client}"`;
  return { ms: DEFAULT_SOFT_SECS * 1000, reason: `${DEFAULT_SOFT_SECS} s, the default for ${who}` };
}

/**
 * The client's name: from the request's own envelope (2026-07-28 era, where every request says who sends
 * it), else from the initialize handshake of this session.
 */
export function clientName(server: McpServer, ctx: ServerContext): string | undefined {
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  const info = envelope?.[CLIENT_INFO_META_KEY] as { name?: unknown } | undefined;
  if (typeof info?.name === 'string') return info.name;
  return server.server.getClientVersion()?.name;
}
