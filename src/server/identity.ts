/**
 * What the server says about itself in its answer to `initialize`: name, version, capabilities and
 * instructions. The server factory and the early stdio answer (stdio-early.ts) both build it here, so the two
 * cannot drift apart; nothing here loads the SDK or zod.
 */
import type { ToolName } from '../config/tool-names.js';
import { serverInstructions } from './instructions.js';

export interface ServerIdentity {
  serverInfo: { name: string; title: string; version: string };
  capabilities: {
    tools: { listChanged: boolean };
    prompts: { listChanged: boolean };
    resources: { listChanged: boolean };
    logging: Record<string, never>;
    tasks: {
      list: Record<string, never>;
      cancel: Record<string, never>;
      requests: { tools: { call: Record<string, never> } };
    };
  };
  instructions: string;
}

export function serverIdentity(version: string, served: (tool: ToolName) => boolean): ServerIdentity {
  return {
    serverInfo: { name: 'exai-mcp', title: 'EXAI: second-opinion models (GLM, Kimi)', version },
    // Stated in full rather than left to the SDK, which adds listChanged as tools, prompts and resources are
    // registered: the early answer is written before any of them is. logging: clients may set a level
    // (logging/setLevel); our logs still go to stderr, not to the client.
    capabilities: {
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: { listChanged: true },
      logging: {},
      // MCP tasks (2025-11-25) for tools/call; served by tasks.ts. The SDK leaves this out for 2026-era peers.
      tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } },
    },
    instructions: serverInstructions(served),
  };
}
