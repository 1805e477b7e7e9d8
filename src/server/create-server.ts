/**
 * A fresh McpServer with the served tools (EXAI_TOOLS / EXAI_DISABLED_TOOLS) registered in a fixed order (a
 * stable tools/list helps clients' prompt caches), the prompts of those tools, the resources, and the
 * instructions. Called once per stdio connection, HTTP session or stateless HTTP request; everything shared
 * lives in the App, so building a server is cheap and holds no process-wide state.
 */
import { McpServer } from '@modelcontextprotocol/server';
import { enabledTools, TOOL_NAMES, type ToolName } from '../config/tool-names.js';
import type { ToolDeps } from '../toolkit/types.js';
import { registerChallengeTool } from '../tools/challenge.js';
import { registerChatTool } from '../tools/chat.js';
import { registerListModelsTool } from '../tools/listmodels.js';
import { registerStatusTool } from '../tools/status.js';
import { registerVersionTool } from '../tools/version.js';
import { registerWorkflowTools, WORKFLOW_TOOLS } from '../workflow/index.js';
import type { App } from './app.js';
import { serverIdentity } from './identity.js';
import { progressFactory } from './progress.js';
import { registerPrompts } from './prompts.js';
import { registerResources } from './resources.js';

/** The simple tools, in the order tools/list reports them; the workflow tools follow. */
const SIMPLE_TOOLS: ReadonlyArray<readonly [ToolName, (server: McpServer, deps: ToolDeps) => void]> = [
  ['chat', registerChatTool],
  ['challenge', registerChallengeTool],
  ['listmodels', registerListModelsTool],
  ['status', registerStatusTool],
  ['version', registerVersionTool],
];

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

export function createServer(app: App, deps: ToolDeps = toolDeps(app)): McpServer {
  const enabled = new Set<string>(enabledTools(app.config));
  const served = (name: string) => enabled.has(name);
  const { serverInfo, capabilities, instructions } = serverIdentity(app.version, served);
  const server = new McpServer(serverInfo, { capabilities, instructions });
  for (const [name, register] of SIMPLE_TOOLS) if (served(name)) register(server, deps);
  registerWorkflowTools(server, deps, served);
  registerPrompts(server, served);
  registerResources(server, deps);
  return server;
}
