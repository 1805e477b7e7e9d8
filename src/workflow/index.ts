/**
 * The twelve workflow tools on one engine. The server factory calls registerWorkflowTools for every MCP
 * server instance; what must be shared across instances (the model jobs) comes in deps.
 */
import type { McpServer } from '@modelcontextprotocol/server';
import type { ToolDeps } from '../toolkit/types.js';
import { registerWorkflowTool } from './engine.js';
import { analyzeTool } from './tools/analyze.js';
import { codereviewTool } from './tools/codereview.js';
import { consensusTool } from './tools/consensus.js';
import { debugTool } from './tools/debug.js';
import { docgenTool } from './tools/docgen.js';
import { plannerTool } from './tools/planner.js';
import { precommitTool } from './tools/precommit.js';
import { refactorTool } from './tools/refactor.js';
import { secauditTool } from './tools/secaudit.js';
import { testgenTool } from './tools/testgen.js';
import { thinkdeepTool } from './tools/thinkdeep.js';
import { tracerTool } from './tools/tracer.js';
import type { WorkflowTool } from './types.js';

/**
 * In the order tools/list reports them: the core set first, as the Python EX-AI MCP server listed them, so an
 * agent that reads only the first few tools of a long list still finds the ones it uses most.
 */
export const WORKFLOW_TOOLS: readonly WorkflowTool[] = [
  thinkdeepTool,
  debugTool,
  analyzeTool,
  codereviewTool,
  refactorTool,
  testgenTool,
  plannerTool,
  precommitTool,
  secauditTool,
  docgenTool,
  tracerTool,
  consensusTool,
];

/** Registers the workflow tools, or those of them `include` accepts (EXAI_TOOLS / EXAI_DISABLED_TOOLS). */
export function registerWorkflowTools(
  server: McpServer,
  deps: ToolDeps,
  include: (name: string) => boolean = () => true,
): void {
  const runtime = { deps, recent: new Map<string, string>() };
  for (const tool of WORKFLOW_TOOLS) if (include(tool.name)) registerWorkflowTool(server, runtime, tool);
}
