/**
 * A fresh McpServer with every tool registered in a fixed order (a stable tools/list helps clients' prompt
 * caches). Called once per stdio connection, HTTP session or stateless HTTP request; everything shared
 * lives in the App, so building a server is cheap and holds no process-wide state.
 */
import { McpServer } from '@modelcontextprotocol/server';
import { registerChallengeTool } from '../tools/challenge.js';
import { registerChatTool } from '../tools/chat.js';
import { registerListModelsTool } from '../tools/listmodels.js';
import { registerStatusTool } from '../tools/status.js';
import type { ToolDeps } from '../tools/types.js';
import { registerVersionTool } from '../tools/version.js';
import { registerWorkflowTools } from '../workflow/index.js';
import type { App } from './app.js';
import { progressFactory } from './progress.js';

const INSTRUCTIONS =
  'exai gives you second-opinion models (GLM from Z.ai, Kimi from Moonshot). Use chat to think a problem ' +
  'through with another model and challenge when the user pushes back on something you said. For multi-step ' +
  'work use the workflow tools (debug, thinkdeep, analyze, codereview, precommit, refactor, testgen, secaudit, ' +
  'docgen, tracer, planner, consensus): do the investigation yourself step by step, and the expert model ' +
  'validates your findings at the end. listmodels shows the usable models; status explains failures. Answers ' +
  'carry a continuation_id: pass it back to continue the same thread.';

/** The tools in the order tools/list reports them. */
const TOOLS: ReadonlyArray<(server: McpServer, deps: ToolDeps) => void> = [
  registerChatTool,
  registerChallengeTool,
  registerListModelsTool,
  registerStatusTool,
  registerVersionTool,
  registerWorkflowTools,
];

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
    singleFlight: app.singleFlight,
    observeToolCall: call => {
      app.activity.recordToolCall(call);
      app.metrics.toolEnded(call.tool, call.outcome, call.ms / 1000);
    },
    progress: progressFactory(app.config.progressIntervalSecs * 1000, app.logger),
  };
}

export function createServer(app: App, deps: ToolDeps = toolDeps(app)): McpServer {
  const server = new McpServer(
    { name: 'exai-mcp', title: 'EXAI: second-opinion models (GLM, Kimi)', version: app.version },
    // logging: clients may set a level (logging/setLevel); our logs still go to stderr, not to the client.
    { capabilities: { tools: {}, logging: {} }, instructions: INSTRUCTIONS },
  );
  for (const register of TOOLS) register(server, deps);
  return server;
}
