/**
 * MCP tasks (protocol 2025-11-25, https://modelcontextprotocol.io/specification/2025-11-25/basic/utilities/tasks):
 * a task-augmented tool call answers at once with a task, the call itself runs on as the task's work, and
 * the client polls tasks/get and collects the answer with tasks/result.
 *
 * The work is the very tool call a host without tasks makes, except that it waits for its model jobs to the
 * end instead of answering in_progress (see isTaskRun). So a task and plain calls share the model jobs: the
 * same step asked both ways costs one upstream request.
 *
 * A task lives in the process that runs it and, from creation until its TTL, in the store's job records
 * (SQLite, Redis): another replica answers tasks/get and tasks/result from the record, and a tasks/cancel
 * there marks it cancelled (the answer is then never handed out; the owning replica stops its model call
 * only when it finishes, since replicas share no cancel channel for tasks).
 */

import { randomUUID } from 'node:crypto';
import { ExaiError } from '../errors.js';
import type { JobRecords } from '../memory/index.js';
import type { Logger } from '../observability/logger.js';
import { Deadline, untilAborted } from '../resilience/deadline.js';
import { pruneFinished } from './prune.js';
import { sleep } from './registry.js';
import type { SoftBudget } from './soft-budget.js';

export type TaskStatus = 'working' | 'completed' | 'failed' | 'cancelled';

/** The Task object of the protocol: what tasks/get, tasks/list and tasks/cancel return. */
export interface TaskState {
  taskId: string;
  status: TaskStatus;
  statusMessage?: string;
  /** ISO 8601. */
  createdAt: string;
  lastUpdatedAt: string;
  /** How long the task is kept after it ends, in ms. */
  ttl: number;
  /** How often polling is worth it, in ms: the status message changes no faster. */
  pollInterval: number;
}

/** What tasks/result hands out: the tool call's result, or the JSON-RPC error the plain call would have had. */
export type TaskOutcome = { result: Record<string, unknown> } | { error: { code: number; message: string } };

export interface TaskWork {
  readonly taskId: string;
  /** Aborts on tasks/cancel, on the task's deadline and on shutdown. */
  readonly signal: AbortSignal;
  /** What the task is doing, in words: tasks/get's statusMessage. */
  say(message: string): void;
}

export interface TaskRegistryOptions {
  /** Kept this long after the task ends (the job result TTL). */
  ttlMs: number;
  pollIntervalMs: number;
  /** The longest a task may run: a backstop behind its tool's own deadlines. */
  budgetMs: number;
  logger: Logger;
  records?: JobRecords | undefined;
  /** Aborting it cancels every task (server shutdown). */
  shutdownSignal?: AbortSignal;
  /** Ended tasks kept in this process; the oldest go first. Default 256. */
  maxEnded?: number;
  /** How often tasks/result looks at the record of a task another process runs. Default 250 ms. */
  remotePollMs?: number;
}

/**
 * Who a task belongs to: `owner` may get, collect and cancel it by id (on any replica); tasks/list shows
 * only the tasks of the listing `session` as well.
 */
export interface TaskCaller {
  readonly owner: string;
  readonly session: string;
}

export interface TaskRegistry {
  /** Starts the work as a task of `caller` and returns it once it is recorded. */
  create(caller: TaskCaller, work: (task: TaskWork) => Promise<TaskOutcome>): Promise<TaskState>;
  /** Undefined when there is no such task for this owner (unknown, expired, or someone else's). */
  get(owner: string, taskId: string): Promise<TaskState | undefined>;
  /** Waits for the task to end (until `signal` aborts) and returns its outcome. */
  result(
    owner: string,
    taskId: string,
    signal: AbortSignal,
  ): Promise<{ state: TaskState; outcome: TaskOutcome } | undefined>;
  /** Cancels a working task; `ended` when it had already ended (it stays as it was). */
  cancel(owner: string, taskId: string): Promise<{ state: TaskState; ended: boolean } | undefined>;
  /** The caller's tasks of its session in this process, newest first. */
  list(caller: TaskCaller): TaskState[];
  /** Tasks still working in this process. */
  readonly live: number;
  close(): void;
}

/** The soft budget of a tool call that runs as a task: none, it waits for its model jobs to end. */
export const TASK_BUDGET: SoftBudget = {
  ms: 0,
  reason: 'an MCP task: the task waits for the answer (tasks/result collects it)',
};

const taskRuns = new WeakSet<object>();

/** Marks a tool call's context as a task's work, so the call waits for its jobs to the end. */
export function markTaskRun(ctx: object): void {
  taskRuns.add(ctx);
}

export function isTaskRun(ctx: object): boolean {
  return taskRuns.has(ctx);
}

interface TaskRecord {
  owner: string;
  state: TaskState;
  outcome?: TaskOutcome;
}

interface Entry {
  readonly owner: string;
  readonly session: string;
  state: TaskState;
  outcome: TaskOutcome | undefined;
  /** The task's budget: its time, and tasks/cancel or shutdown end it. */
  readonly budget: Deadline;
  readonly done: Promise<void>;
  endedAt: number | undefined;
}

const recordKey = (taskId: string) => `task:${taskId}`;
const TERMINAL: readonly TaskStatus[] = ['completed', 'failed', 'cancelled'];

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL.includes(status);
}

export function createTaskRegistry(options: TaskRegistryOptions): TaskRegistry {
  const { logger, records } = options;
  const maxEnded = options.maxEnded ?? 256;
  const remotePollMs = options.remotePollMs ?? 250;
  const entries = new Map<string, Entry>();
  let closed = false;

  const onShutdown = () => close();
  options.shutdownSignal?.addEventListener('abort', onShutdown, { once: true });

  function logRecordFailure(error: unknown, operation: string): void {
    logger.warn({ event: 'task_record_failed', operation, err: error }, `task record ${operation} failed`);
  }

  async function writeRecord(entry: Entry, ttlMs: number): Promise<void> {
    if (!records) return;
    const record: TaskRecord = {
      owner: entry.owner,
      state: entry.state,
      ...(entry.outcome && { outcome: entry.outcome }),
    };
    try {
      await records.put(recordKey(entry.state.taskId), JSON.stringify(record), ttlMs);
    } catch (error) {
      // A store that cannot be written costs the sharing with other replicas, never the task.
      logRecordFailure(error, 'put');
    }
  }

  async function readRecord(owner: string, taskId: string): Promise<TaskRecord | undefined> {
    if (!records) return undefined;
    let text: string | undefined;
    try {
      text = await records.get(recordKey(taskId));
    } catch (error) {
      logRecordFailure(error, 'get');
      return undefined;
    }
    if (text === undefined) return undefined;
    const record = JSON.parse(text) as TaskRecord;
    return record.owner === owner ? record : undefined;
  }

  function update(entry: Entry, change: Partial<TaskState>): void {
    entry.state = { ...entry.state, ...change, lastUpdatedAt: new Date().toISOString() };
  }

  function end(entry: Entry, status: TaskStatus, outcome: TaskOutcome, message: string): void {
    entry.outcome = outcome;
    entry.endedAt = performance.now();
    update(entry, { status, statusMessage: message });
    void writeRecord(entry, options.ttlMs);
  }

  /** Forgets ended tasks past their TTL, and the oldest beyond maxEnded. */
  function sweep(): void {
    const at = performance.now();
    pruneFinished(
      entries,
      entry => (entry.endedAt === undefined ? undefined : entry.endedAt + options.ttlMs),
      at,
      maxEnded,
    );
  }

  function local(owner: string, taskId: string): Entry | undefined {
    sweep();
    const entry = entries.get(taskId);
    return entry?.owner === owner ? entry : undefined;
  }

  async function settle(entry: Entry, outcome: TaskOutcome): Promise<void> {
    if (isTerminal(entry.state.status)) return;
    // A tasks/cancel on another replica marked the record; cancellation is sticky.
    const recorded = await readRecord(entry.owner, entry.state.taskId);
    if (recorded?.state.status === 'cancelled') {
      end(entry, 'cancelled', recorded.outcome ?? cancelledOutcome(), recorded.state.statusMessage ?? '');
      return;
    }
    if ('error' in outcome) {
      end(entry, 'failed', outcome, outcome.error.message);
      return;
    }
    // A tool result with isError is a failed task (2025-11-25); tasks/result still returns that result.
    const failed = outcome.result.isError === true;
    end(entry, failed ? 'failed' : 'completed', outcome, failed ? errorText(outcome.result) : 'done');
  }

  function close(): void {
    if (closed) return;
    closed = true;
    options.shutdownSignal?.removeEventListener('abort', onShutdown);
    const why = new ExaiError('cancelled', 'The server is shutting down; retry once it is back');
    for (const entry of entries.values()) entry.budget.cancel(why);
  }

  return {
    async create({ owner, session }, work) {
      if (closed) throw new ExaiError('cancelled', 'The server is shutting down; retry once it is back');
      sweep();
      const taskId = randomUUID();
      const now = new Date().toISOString();
      const deadline = Deadline.start(options.budgetMs, { label: 'task' });
      let resolveDone: () => void = () => {};
      const entry: Entry = {
        owner,
        session,
        state: {
          taskId,
          status: 'working',
          statusMessage: 'starting',
          createdAt: now,
          lastUpdatedAt: now,
          ttl: options.ttlMs,
          pollInterval: options.pollIntervalMs,
        },
        outcome: undefined,
        budget: deadline,
        done: new Promise<void>(resolve => {
          resolveDone = resolve;
        }),
        endedAt: undefined,
      };
      entries.set(taskId, entry);
      // The task exists for tasks/get on any replica before the client learns its id.
      await writeRecord(entry, options.budgetMs + options.ttlMs);
      const say = (message: string) => {
        if (entry.state.status === 'working') update(entry, { statusMessage: message });
      };
      // An async wrapper, so work that throws synchronously still yields a rejected promise.
      (async () => work({ taskId, signal: deadline.signal, say }))()
        .then(
          outcome => settle(entry, outcome),
          (error: unknown) => settle(entry, { error: { code: -32603, message: errorMessage(error) } }),
        )
        .catch(error => logger.warn({ event: 'task_settle_failed', err: error }, 'a task did not settle'))
        .finally(() => {
          deadline.dispose();
          resolveDone();
        });
      return entry.state;
    },

    async get(owner, taskId) {
      const entry = local(owner, taskId);
      if (entry) return entry.state;
      return (await readRecord(owner, taskId))?.state;
    },

    async result(owner, taskId, signal) {
      const entry = local(owner, taskId);
      if (entry) {
        await untilAborted(entry.done, signal);
        return { state: entry.state, outcome: entry.outcome ?? cancelledOutcome() };
      }
      // Another process runs it: its record says when it has ended, within the longest a task may run.
      const deadline = Deadline.start(options.budgetMs, { parents: [signal], label: 'tasks/result' });
      try {
        for (;;) {
          const record = await readRecord(owner, taskId);
          if (!record) return undefined;
          if (isTerminal(record.state.status)) {
            return { state: record.state, outcome: record.outcome ?? cancelledOutcome() };
          }
          await sleep(remotePollMs, deadline.signal);
        }
      } finally {
        deadline.dispose();
      }
    },

    async cancel(owner, taskId) {
      const entry = local(owner, taskId);
      if (entry) {
        if (isTerminal(entry.state.status)) return { state: entry.state, ended: true };
        end(entry, 'cancelled', cancelledOutcome(), 'cancelled by tasks/cancel');
        entry.budget.cancel(new ExaiError('cancelled', 'the task was cancelled (tasks/cancel)'));
        return { state: entry.state, ended: false };
      }
      const record = await readRecord(owner, taskId);
      if (!record) return undefined;
      if (isTerminal(record.state.status)) return { state: record.state, ended: true };
      const state: TaskState = {
        ...record.state,
        status: 'cancelled',
        statusMessage: 'cancelled by tasks/cancel',
        lastUpdatedAt: new Date().toISOString(),
      };
      await records
        ?.put(recordKey(taskId), JSON.stringify({ owner, state, outcome: cancelledOutcome() }), options.ttlMs)
        .catch(error => logRecordFailure(error, 'put'));
      return { state, ended: false };
    },

    list({ owner, session }) {
      sweep();
      return [...entries.values()]
        .filter(e => e.owner === owner && e.session === session)
        .map(e => e.state)
        .reverse();
    },

    get live() {
      let n = 0;
      for (const entry of entries.values()) if (entry.state.status === 'working') n++;
      return n;
    },

    close,
  };
}

function cancelledOutcome(): TaskOutcome {
  return {
    result: {
      content: [{ type: 'text', text: 'The task was cancelled (tasks/cancel); no answer was kept.' }],
      isError: true,
    },
  };
}

function errorText(result: Record<string, unknown>): string {
  const content = result.content;
  const first = Array.isArray(content)
    ? (content[0] as { type?: unknown; text?: unknown } | undefined)
    : undefined;
  const text =
    first?.type === 'text' && typeof first.text === 'string' ? first.text : 'the tool answered an error';
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
