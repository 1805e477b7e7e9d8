/**
 * MCP tasks on the wire (protocol 2025-11-25, experimental there): task-augmented
 * `tools/call` and tasks/get, tasks/result, tasks/list, tasks/cancel. The SDK (v2) parses this vocabulary
 * for 2025-11-25 peers but runs none of it, so it is served here, over the task registry of src/jobs/tasks.ts. The
 * capability itself is declared in identity.ts, with the rest of what initialize answers.
 *
 * - Only a client that negotiated 2025-11-25 and sends `params.task` gets a task; every other call is the
 *   plain call, soft return included.
 * - Tasks belong to the caller: its OAuth client when the HTTP endpoint has auth; without auth every
 *   caller is the same anonymous principal and the task id, a random UUID, is the key. So a task created
 *   through one replica or HTTP session can be collected through another; tasks/list shows only the
 *   tasks created in the listing session.
 * - A 2026-07-28 client is served without tasks: that era moves them to the `io.modelcontextprotocol/tasks`
 *   extension (https://modelcontextprotocol.io/seps/2663-tasks-extension), which the SDK does not carry yet;
 *   such a client gets the soft return.
 */
import {
  type CallToolRequest,
  type CallToolResult,
  type ListToolsResult,
  type McpServer,
  ProtocolError,
  ProtocolErrorCode,
  RELATED_TASK_META_KEY,
  type Result,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import {
  isTerminal,
  markTaskRun,
  type TaskCaller,
  type TaskOutcome,
  type TaskRegistry,
  type TaskWork,
} from '../jobs/tasks.js';

/** The protocol versions whose core has tasks. */
const TASK_VERSIONS = new Set(['2025-11-25']);

/** Shown to the model at once, while the host polls (2025-11-25 `model-immediate-response`). */
const IMMEDIATE_RESPONSE_KEY = 'io.modelcontextprotocol/model-immediate-response';

type Handler<R = CallToolResult> = (request: unknown, ctx: ServerContext) => Promise<R>;

/** Declared by the tools that may run as tasks. */
const OPTIONAL = { taskSupport: 'optional' } as const;

/** tasks/* are not methods the SDK types for a server; their params are given as schemas. */
const BY_ID = { params: z.object({ taskId: z.string().min(1) }) };
const PAGE = { params: z.object({ cursor: z.string().optional() }) };

/**
 * Serves tasks on this server. Call it after the tools are registered: it wraps the tools/call handler the
 * SDK's McpServer installed. `taskTools` are the tools that declared `execution.taskSupport`.
 */
export function serveTasks(server: McpServer, tasks: TaskRegistry, taskTools: ReadonlySet<string>): void {
  const plain = storedHandler<CallToolResult>(server, 'tools/call');
  const listTools = storedHandler<ListToolsResult>(server, 'tools/list');
  const lowLevel = server.server;
  // A stateless HTTP instance never saw initialize: the request's protocol version header says it instead.
  const negotiated = (ctx: ServerContext) =>
    TASK_VERSIONS.has(
      lowLevel.getNegotiatedProtocolVersion() ?? ctx.http?.req?.headers.get('mcp-protocol-version') ?? '',
    );

  // McpServer's registerTool has no `execution` field in SDK v2, so the declaration is added to the list;
  // it is not part of what the model reads (name, description, input schema).
  lowLevel.setRequestHandler('tools/list', async (request, ctx) => {
    const listed = await listTools(request, ctx);
    if (!negotiated(ctx)) return listed;
    const tools = listed.tools.map(tool =>
      taskTools.has(tool.name) ? { ...tool, execution: OPTIONAL } : tool,
    );
    return { ...listed, tools };
  });

  lowLevel.setRequestHandler('tools/call', async (request, ctx) => {
    if (request.params.task === undefined || !negotiated(ctx)) return plain(request, ctx);
    const name = request.params.name;
    if (!taskTools.has(name)) {
      throw new ProtocolError(
        ProtocolErrorCode.MethodNotFound,
        `Tool ${name} does not run as a task (it declares no execution.taskSupport): call it without params.task`,
      );
    }
    const { task: _task, ...params } = request.params;
    const state = await tasks.create(callerOf(ctx), work =>
      runAsTask(plain, { ...request, params }, ctx, work),
    );
    return {
      task: state,
      // The SDK checks every tools/call result as a CallToolResult; an empty content is what a
      // CreateTaskResult, an open object, may carry besides its task.
      content: [],
      _meta: {
        [IMMEDIATE_RESPONSE_KEY]: `${name} is running as task ${state.taskId}; its answer comes with tasks/result.`,
      },
    };
  });

  lowLevel.setRequestHandler('tasks/get', BY_ID, async ({ taskId }, ctx) => {
    const state = await tasks.get(ownerOf(ctx), taskId);
    if (!state) throw notFound(taskId);
    return { ...state };
  });

  lowLevel.setRequestHandler('tasks/result', BY_ID, async ({ taskId }, ctx) => {
    const ended = await tasks.result(ownerOf(ctx), taskId, ctx.mcpReq.signal);
    if (!ended) throw notFound(taskId);
    return relatedResult(ended.outcome, taskId);
  });

  lowLevel.setRequestHandler('tasks/list', PAGE, async (_params, ctx) => ({
    tasks: tasks.list(callerOf(ctx)),
  }));

  lowLevel.setRequestHandler('tasks/cancel', BY_ID, async ({ taskId }, ctx) => {
    const cancelled = await tasks.cancel(ownerOf(ctx), taskId);
    if (!cancelled) throw notFound(taskId);
    if (cancelled.ended && isTerminal(cancelled.state.status)) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `Cannot cancel task ${taskId}: it has already ended (${cancelled.state.status})`,
      );
    }
    return { ...cancelled.state };
  });
}

/**
 * The tool call as a task's work: the plain handler (input validation, the tool, result validation) under
 * the task's signal. Its progress messages become the task's status message instead of notifications: the
 * request that created the task has been answered, so nothing may be sent on its behalf any more.
 */
async function runAsTask(
  plain: Handler,
  request: CallToolRequest,
  ctx: ServerContext,
  work: TaskWork,
): Promise<TaskOutcome> {
  const taskCtx: ServerContext = {
    ...ctx,
    mcpReq: {
      ...ctx.mcpReq,
      signal: work.signal,
      _meta: { progressToken: `task:${work.taskId}` },
      notify: async notification => {
        const message = (notification.params as { message?: unknown } | undefined)?.message;
        if (notification.method === 'notifications/progress' && typeof message === 'string')
          work.say(message);
      },
      log: async () => {},
    },
  };
  markTaskRun(taskCtx);
  try {
    return { result: { ...(await plain(request, taskCtx)) } };
  } catch (error) {
    const code = error instanceof ProtocolError ? error.code : ProtocolErrorCode.InternalError;
    return { error: { code, message: error instanceof Error ? error.message : String(error) } };
  }
}

/** What tasks/result returns: exactly what the plain call would have, tied to its task. */
function relatedResult(outcome: TaskOutcome, taskId: string): Result {
  if ('error' in outcome) throw new ProtocolError(outcome.error.code, outcome.error.message);
  const meta = outcome.result._meta as Record<string, unknown> | undefined;
  return { ...outcome.result, _meta: { ...meta, [RELATED_TASK_META_KEY]: { taskId } } };
}

function ownerOf(ctx: ServerContext): string {
  const client = ctx.http?.authInfo?.clientId;
  return client ? `client:${client}` : 'anonymous';
}

function callerOf(ctx: ServerContext): TaskCaller {
  return { owner: ownerOf(ctx), session: ctx.sessionId ?? '' };
}

function notFound(taskId: string): ProtocolError {
  return new ProtocolError(
    ProtocolErrorCode.InvalidParams,
    `Failed to retrieve task: no task ${taskId} for this client (unknown, expired, or another client's)`,
  );
}

/**
 * A handler McpServer installed. The SDK keeps it behind a protected accessor; a task runs the very
 * tools/call handler (input validation, the tool, result validation), so its answer is the plain call's.
 */
function storedHandler<R>(server: McpServer, method: 'tools/call' | 'tools/list'): Handler<R> {
  const access = server.server as unknown as { _getRequestHandler(method: string): Handler<R> | undefined };
  const handler = access._getRequestHandler(method);
  if (!handler) throw new Error(`serveTasks: register the tools before serving tasks (no ${method} handler)`);
  return (request, ctx) => handler(request, ctx);
}
