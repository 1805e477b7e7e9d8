/**
 * MCP resources: read-only views an agent or a person can open (@-mention in Claude Code) without a tool
 * call. exai://threads lists the recent conversation threads, so a continuation_id lost to a cleared context
 * can be found again; exai://threads/{id} is one thread as Markdown; exai://models is the model catalogue.
 */
import {
  type McpServer,
  ResourceNotFoundError,
  ResourceTemplate,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { isExaiError } from '../errors.js';
import type { ConversationTurn, Thread } from '../memory/index.js';
import type { ToolDeps } from '../toolkit/types.js';
import { listing } from '../tools/listmodels.js';

/** How many threads exai://threads lists, most recently written first. */
export const RECENT_THREADS = 20;
const TITLE_CHARS = 80;

export interface ThreadSummary {
  id: string;
  tool: string;
  title: string;
  model: string | null;
  updated: string;
  turns: number;
}

export function summarize(thread: Thread): ThreadSummary {
  const first =
    thread.turns.find(t => t.role === 'user')?.content ?? String(thread.initialContext.prompt ?? '');
  const line = first.trim().split('\n')[0] ?? '';
  const model = [...thread.turns].reverse().find(t => t.modelName !== undefined)?.modelName ?? null;
  return {
    id: thread.id,
    tool: thread.toolName,
    title: line.length > TITLE_CHARS ? `${line.slice(0, TITLE_CHARS - 1)}…` : line,
    model,
    updated: thread.updatedAt,
    turns: thread.turns.length,
  };
}

export function threadMarkdown(thread: Thread): string {
  const s = summarize(thread);
  const lines = [
    `# ${s.tool} thread ${thread.id}`,
    '',
    `Created ${thread.createdAt}, updated ${thread.updatedAt}; ${s.turns} turns${s.model ? `; model ${s.model}` : ''}.`,
    `Pass continuation_id "${thread.id}" to any exai tool to continue it.`,
  ];
  if (thread.parentId) lines.push(`Continues thread ${thread.parentId}.`);
  thread.turns.forEach((turn, i) => {
    lines.push('', `## ${i + 1}. ${heading(turn)}`, '', turn.content);
    if (turn.files?.length) lines.push('', `Files: ${turn.files.join(', ')}`);
    if (turn.images?.length) lines.push('', `Images: ${turn.images.length}`);
  });
  return lines.join('\n');
}

function heading(turn: ConversationTurn): string {
  const who = turn.role === 'user' ? 'agent' : (turn.modelName ?? 'model');
  return `${who}${turn.toolName ? ` (${turn.toolName})` : ''}, ${turn.timestamp}`;
}

export function registerResources(server: McpServer, deps: ToolDeps): void {
  server.registerResource(
    'threads',
    'exai://threads',
    {
      title: 'Recent conversation threads',
      description: `The ${RECENT_THREADS} most recent threads: id (the continuation_id), tool, title, model, updated.`,
      mimeType: 'application/json',
    },
    async uri => {
      const threads = (await deps.store.listRecent(RECENT_THREADS)).map(summarize);
      return {
        contents: [
          { uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ threads }, null, 1) },
        ],
      };
    },
  );

  server.registerResource(
    'thread',
    new ResourceTemplate('exai://threads/{id}', {
      list: async (_ctx: ServerContext) => ({
        resources: (await deps.store.listRecent(RECENT_THREADS)).map(thread => {
          const s = summarize(thread);
          return {
            uri: `exai://threads/${s.id}`,
            name: `${s.tool}: ${s.title || s.id}`,
            mimeType: 'text/markdown',
          };
        }),
      }),
    }),
    {
      title: 'A conversation thread',
      description: 'One thread as Markdown: every turn, its model and files.',
      mimeType: 'text/markdown',
    },
    async (uri, variables) => {
      const id = String(variables.id ?? '');
      try {
        const thread = await deps.store.get(id);
        return { contents: [{ uri: uri.href, mimeType: 'text/markdown', text: threadMarkdown(thread) }] };
      } catch (error) {
        // Resource not found (-32002), with the store's message saying what to do.
        if (isExaiError(error) && error.kind === 'not_found')
          throw new ResourceNotFoundError(uri.href, error.message);
        throw error;
      }
    },
  );

  server.registerResource(
    'models',
    'exai://models',
    {
      title: 'Model catalogue',
      description: 'Providers and models with aliases, context windows, capabilities and availability.',
      mimeType: 'application/json',
    },
    async uri => ({
      contents: [
        { uri: uri.href, mimeType: 'application/json', text: JSON.stringify(listing(deps), null, 1) },
      ],
    }),
  );
}
