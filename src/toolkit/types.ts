/**
 * What every tool is given. The server layer builds it once per process (see server/app.ts) and adds the
 * progress bridge, so tools never touch a transport: they see an MCP request context and these ports.
 */
import type { ServerContext } from '@modelcontextprotocol/server';
import type { Config } from '../config/load.js';
import type { FilePolicy } from '../files/policy.js';
import type { JobRegistry, JobWatcher } from '../jobs/registry.js';
import type { ConversationStore } from '../memory/index.js';
import type { Logger } from '../observability/logger.js';
import type { ModelGateway } from '../providers/gateway.js';

/**
 * Keeps the client informed while a model job runs, in words a person reads; a no-op when the request
 * carried no progress token. The job registry shows it the job (watch) and feeds it the job's events.
 */
export interface ProgressReporter extends JobWatcher {
  /** Stops the heartbeat; nothing is sent afterwards. Idempotent. */
  stop(): void;
}

export interface ProgressWork {
  tool: string;
  model: string;
}

export interface ToolCallObservation {
  tool: string;
  outcome: string;
  ms: number;
  model?: string;
  provider?: string;
}

export interface ToolDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly gateway: ModelGateway;
  readonly store: ConversationStore;
  readonly files: FilePolicy;
  /** exai-mcp's own version (package.json). */
  readonly version: string;
  /** Epoch ms when the process started serving. */
  readonly startedAt: number;
  /** Aborts when the server shuts down; every model call listens to it as well as to its request's signal. */
  readonly shutdownSignal: AbortSignal;
  /**
   * The model jobs of the process, shared by every MCP server instance: a repeated call collects the job
   * an earlier one started, whichever session it came from.
   */
  readonly jobs: JobRegistry;
  /** Told of every finished tool call (status page, metrics). */
  readonly observeToolCall?: (call: ToolCallObservation) => void;
  /** Starts progress reporting for one request: which tool, and the model it calls first. */
  progress(ctx: ServerContext, work: ProgressWork): ProgressReporter;
}
