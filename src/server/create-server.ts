/**
 * A fresh McpServer with the served tools (EXAI_TOOLS / EXAI_DISABLED_TOOLS) registered in a fixed order (a
 * stable tools/list helps clients' prompt caches), the prompts of those tools, the resources, and the
 * instructions. Called once per stdio connection, HTTP session or stateless HTTP request; everything shared
 * lives in the App, so building a server is cheap and holds no process-wide state.
 */
import {
  McpServer,
  type RegisteredTool,
  type RequestId,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { enabledTools, TOOL_NAMES, type ToolName } from '../config/tool-names.js';
import type { ToolDeps } from '../toolkit/types.js';
import { registerChallengeTool } from '../tools/challenge.js';
import { registerChatTool } from '../tools/chat.js';
import { registerListModelsTool } from '../tools/listmodels.js';
import { registerStatusTool } from '../tools/status.js';
import { registerVersionTool } from '../tools/version.js';
import { consultsModel } from '../workflow/engine.js';
import { registerWorkflowTools, WORKFLOW_TOOLS } from '../workflow/index.js';
import type { App } from './app.js';
import { serverIdentity } from './identity.js';
import { progressFactory } from './progress.js';
import { registerPrompts } from './prompts.js';
import { registerResources } from './resources.js';
import { serveTasks } from './tasks.js';

/** The simple tools, in the order tools/list reports them; the workflow tools follow. */
const SIMPLE_TOOLS: ReadonlyArray<readonly [ToolName, (server: McpServer, deps: ToolDeps) => void]> = [
  ['chat', registerChatTool],
  ['challenge', registerChallengeTool],
  ['listmodels', registerListModelsTool],
  ['status', registerStatusTool],
  ['version', registerVersionTool],
];

/** The tools that may wait for a model, and so declare `execution.taskSupport` and may run as MCP tasks. */
const TASK_TOOLS: ReadonlySet<string> = new Set([
  'chat',
  ...WORKFLOW_TOOLS.filter(consultsModel).map(t => t.name),
]);

/** Every name EXAI_TOOLS accepts is one this factory registers, and the other way round. */
const REGISTERED = [...SIMPLE_TOOLS.map(([name]) => name), ...WORKFLOW_TOOLS.map(t => t.name)];
if (REGISTERED.join() !== TOOL_NAMES.join()) {
  throw new Error(`tool names out of step: registered ${REGISTERED.join()}, listed ${TOOL_NAMES.join()}`);
}

export function toolDeps(app: App): ToolDeps {
  return {
    config: app.config,
    logger: app.logger,
    gateway: app.gateway,
    store: app.store,
    files: app.files,
    version: app.version,
    startedAt: app.startedAt,
    shutdownSignal: app.shutdownSignal,
    jobs: app.jobs,
    observeToolCall: call => {
      app.activity.recordToolCall(call);
      app.metrics.toolEnded(call.tool, call.outcome, call.ms / 1000);
    },
    progress: progressFactory(app.config.progressIntervalSecs * 1000, app.logger),
  };
}

export interface ServerHooks {
  /** Runs once a tool call's handler has settled, however it ended (an HTTP session ends a cancelled call's stream then). */
  onToolSettled?: (requestId: RequestId) => void;
}

export function createServer(app: App, deps: ToolDeps = toolDeps(app), hooks: ServerHooks = {}): McpServer {
  const enabled = new Set<string>(enabledTools(app.config));
  const served = (name: string) => enabled.has(name);
  const { serverInfo, capabilities, instructions } = serverIdentity(app.version, served);
  const server = new McpServer(serverInfo, { capabilities, instructions });
  if (hooks.onToolSettled) reportSettled(server, hooks.onToolSettled);
  for (const [name, register] of SIMPLE_TOOLS) if (served(name)) register(server, deps);
  registerWorkflowTools(server, deps, served);
  serveTasks(server, app.tasks, TASK_TOOLS);
  registerPrompts(server, served);
  registerResources(server, deps);
  return server;
}

type AnyCallback = (...args: unknown[]) => unknown;

/**
 * Wraps every handler registered from now on so `settled` hears its request id once it has settled. The
 * request id is in the handler's own context, so no async context tracking (AsyncLocalStorage) is needed:
 * on Node 20 that installs promise hooks that tax every promise of the process.
 */
function reportSettled(server: McpServer, settled: (requestId: RequestId) => void): void {
  const register = server.registerTool.bind(server) as (
    name: string,
    config: object,
    cb: AnyCallback,
  ) => RegisteredTool;
  const wrapped = (name: string, config: object, cb: AnyCallback): RegisteredTool =>
    register(name, config, async (...args: unknown[]) => {
      // The context comes last: (args, ctx) for a tool with an input schema, (ctx) for one without.
      const ctx = args[args.length - 1] as ServerContext;
      try {
        return await cb(...args);
      } finally {
        settled(ctx.mcpReq.id);
      }
    });
  server.registerTool = wrapped as typeof server.registerTool;
}
