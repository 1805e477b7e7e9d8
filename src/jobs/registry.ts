/**
 * Model jobs: every model-backed step (a chat, a workflow's expert analysis, one consensus model) runs as
 * a job owned by the server, not by the request that started it. The job has its own deadline; callers
 * only wait for it. So a call can answer `in_progress` when its soft budget runs out (the client would stop
 * listening soon), and the next identical call collects the same job instead of paying for a second one.
 *
 * - Key: (thread, tool, step, hash of what is sent). The same key joins the job in flight or gets its
 *   finished answer; for a workflow step, a changed hash for the same (thread, tool, step) starts a new
 *   job and cancels the old.
 * - A job no call waits for (after a soft return, or a client-timeout cancel) runs on for the grace period
 *   (EXAI_JOB_GRACE_SECS), then is cancelled. An explicit cancel by the last caller cancels it at once.
 * - A finished answer is written to the store's job records for EXAI_JOB_RESULT_TTL_SECS, and a running
 *   job leaves a marker there, so another process (a Redis replica) hands out the answer, or waits for it,
 *   rather than starting a duplicate.
 */

import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ExaiError, toExaiError } from '../errors.js';
import type { JobRecords } from '../memory/index.js';
import type { Logger } from '../observability/logger.js';
import type { CallEvent, ChatResponse } from '../providers/types.js';
import { abortReason, Deadline } from '../resilience/deadline.js';
import { CHARS_PER_TOKEN } from '../tokens.js';
import { isClientTimeout } from './cancel.js';
import { JobPending } from './pending.js';
import { pruneFinished } from './prune.js';
import type { SoftBudget } from './soft-budget.js';
import { type JobPhase, type JobView, reasonWords } from './view.js';

/** The thread of a call that has none yet (a first chat). */
export const NO_THREAD = '-';

export interface JobKey {
  thread: string;
  tool: string;
  /** Which step of the thread: a workflow step number, a consensus model and stance, "chat". */
  step: string;
  /** Of everything sent to the model (model, settings, messages). */
  hash: string;
}

export interface JobRequest {
  key: JobKey;
  model: string;
  /** The job's own budget. */
  budgetMs: number;
  /** A deadline whose remaining time also bounds the job (the workflow call that started it). */
  bound?: Deadline;
  /** Names the job's layer in a timeout message. */
  label: string;
  /** Hand the answer out once (chat): a later identical call asks afresh instead of getting the same text. */
  once?: boolean;
  /**
   * The step has one answer at a time (a workflow step): a changed request for the same (thread, tool,
   * step) cancels the job running for it. Chat questions on one thread may run side by side.
   */
  exclusive?: boolean;
  work(deadline: Deadline, onEvent: (event: CallEvent) => void): Promise<ChatResponse>;
}

export interface JobWait {
  /** The tool call's context, as given to begin(); without one the call waits to the end. */
  ctx?: object;
  /** The call's signal: it ends this wait, and the job only when no other call wants it. */
  signal: AbortSignal;
  /** This call's progress: shown the job, and fed its events, while the call waits. */
  watcher?: JobWatcher;
}

/** Whoever reports a job's progress to a person (the MCP progress notifications of one call). */
export interface JobWatcher {
  /** The job as it is now, readable at any time until the wait ends. */
  watch(current: () => JobView): void;
  onEvent(event: CallEvent): void;
}

/** How a call got its answer: it started the job, joined it, or collected a finished one. */
export type JobShare = 'started' | 'joined' | 'cached' | 'stored';

export interface JobOutcome {
  value: ChatResponse;
  share: JobShare;
  job: JobView;
}

/** A tool call, from its start: when its soft budget ends and whether it waited for a job. */
export interface CallFrame {
  readonly startedAt: number;
  readonly budget: SoftBudget;
  usedJob: boolean;
}

export interface JobRegistryOptions {
  graceMs: number;
  resultTtlMs: number;
  logger: Logger;
  /** Shared with other processes; without it answers live in this process only. */
  records?: JobRecords | undefined;
  /** Aborting it cancels every job (server shutdown). */
  shutdownSignal?: AbortSignal;
  /** How often a call waiting for another process's job looks for its answer. Default 250 ms. */
  pollMs?: number;
  /** Finished answers kept in this process; the oldest go first. Default 256. */
  maxFinished?: number;
  /** Finished and failed jobs listed by status. Default 20. */
  maxRecent?: number;
}

export interface JobRegistry {
  /** Marks the start of a tool call: its soft budget counts from now. */
  begin(ctx: object, budget: SoftBudget): void;
  frame(ctx: object): CallFrame | undefined;
  /**
   * Runs the job for `request.key`, or joins or collects it, and waits within the call's soft budget.
   * Throws JobPending when the budget ends first, the job's own error when it failed, and the call's abort
   * reason when the call was cancelled.
   */
  run(request: JobRequest, wait: JobWait): Promise<JobOutcome>;
  /** Running jobs, then recently ended ones, newest first. */
  list(): JobView[];
  /** Jobs running now. */
  readonly running: number;
  /** Jobs still owning a timer, a deadline or a listener (running, or in their grace period). */
  readonly live: number;
  /** Cancels every job and forgets every answer. */
  close(reason?: unknown): void;
}

type JobState = 'running' | 'done' | 'failed' | 'cancelled';

interface Job {
  readonly id: string;
  readonly key: JobKey;
  readonly keyText: string;
  readonly recordKey: string;
  readonly once: boolean;
  readonly started: number;
  readonly startedIso: string;
  readonly deadline: Deadline;
  promise: Promise<ChatResponse>;
  state: JobState;
  model: string;
  phase: JobPhase;
  attempt: number;
  reasoningChars: number;
  outputChars: number;
  note: string | undefined;
  lastRetry: string | undefined;
  waiters: number;
  readonly listeners: Set<(event: CallEvent) => void>;
  grace: ReturnType<typeof setTimeout> | undefined;
  ended: number | undefined;
  expiresAt: number | undefined;
  value: ChatResponse | undefined;
  error: string | undefined;
  collected: boolean;
  /** Its answer was written to the shared records. */
  stored: boolean;
}

/** What another process learns of a running job from its marker. */
interface Marker {
  id: string;
  tool: string;
  model: string;
  started_at: string;
  host: string;
  pid: number;
}

const SOFT = Symbol('soft budget');
const MARKER_SLACK_MS = 5_000;

export function createJobRegistry(options: JobRegistryOptions): JobRegistry {
  const { logger, records } = options;
  const pollMs = options.pollMs ?? 250;
  const maxFinished = options.maxFinished ?? 256;
  const maxRecent = options.maxRecent ?? 20;
  const jobs = new Map<string, Job>();
  /** (thread, tool, step) → the job now answering it. */
  const slots = new Map<string, Job>();
  const recent: Job[] = [];
  const frames = new WeakMap<object, CallFrame>();
  let closed = false;

  const onShutdown = () => close(options.shutdownSignal?.reason);
  options.shutdownSignal?.addEventListener('abort', onShutdown, { once: true });

  function view(job: Job): JobView {
    const usage = job.value?.usage;
    const end = job.ended ?? performance.now();
    return {
      id: job.id,
      tool: job.key.tool,
      model: job.model,
      phase: job.phase,
      elapsed_s: Math.round((end - job.started) / 100) / 10,
      attempt: job.attempt,
      reasoning_tokens: usage?.reasoningTokens ?? Math.ceil(job.reasoningChars / CHARS_PER_TOKEN),
      output_tokens: usage?.outputTokens ?? Math.ceil(job.outputChars / CHARS_PER_TOKEN),
      started_at: job.startedIso,
      collected: job.collected,
      ...(job.note !== undefined && { note: job.note }),
      ...(job.value?.costUsd !== undefined && { cost_usd: job.value.costUsd }),
      ...(job.error !== undefined && { error: job.error }),
    };
  }

  function observe(job: Job, event: CallEvent): void {
    switch (event.type) {
      case 'attempt_start':
        job.model = event.model;
        job.attempt = event.attempt;
        if (event.attempt > 1) {
          job.note = `attempt ${event.attempt} after ${job.lastRetry ?? 'a failure'}`;
          job.phase = 'retrying';
        }
        break;
      case 'retry':
        job.lastRetry = reasonWords(event.reason);
        job.phase = 'retrying';
        job.note = `attempt ${event.attempt} failed (${job.lastRetry}), retrying`;
        break;
      case 'fallback':
        job.model = event.to.model;
        job.reasoningChars = 0;
        job.outputChars = 0;
        job.phase = 'falling_back';
        job.note = `falling back to ${event.to.model} after ${reasonWords(event.reason)} on ${event.from.model}`;
        break;
      case 'web_search':
        job.phase = 'searching';
        break;
      case 'delta':
        if (event.channel === 'reasoning') {
          job.reasoningChars += event.text.length;
          job.phase = 'thinking';
        } else {
          job.outputChars += event.text.length;
          job.phase = 'answering';
        }
        break;
    }
    for (const listener of job.listeners) listener(event);
  }

  function remember(job: Job): void {
    recent.unshift(job);
    if (recent.length > maxRecent) recent.length = maxRecent;
  }

  function clearGrace(job: Job): void {
    if (job.grace !== undefined) clearTimeout(job.grace);
    job.grace = undefined;
  }

  function cancel(job: Job, reason: unknown): void {
    if (job.state !== 'running') return;
    job.deadline.cancel(reason);
  }

  function armGrace(job: Job): void {
    clearGrace(job);
    if (options.graceMs <= 0) {
      cancel(job, graceOver(job, 0));
      return;
    }
    job.grace = setTimeout(() => {
      job.grace = undefined;
      if (job.waiters === 0) cancel(job, graceOver(job, options.graceMs));
    }, options.graceMs);
    // The job's own socket keeps the process busy while it runs; this timer alone must not.
    job.grace.unref();
  }

  function settle(job: Job, state: JobState): void {
    job.state = state;
    job.ended = performance.now();
    clearGrace(job);
    job.deadline.dispose();
    job.listeners.clear();
    if (slots.get(slotOf(job.key)) === job) slots.delete(slotOf(job.key));
    remember(job);
    if (records) {
      records.delete(markerKey(job.recordKey)).catch(error => logRecordFailure(error, 'delete'));
    }
  }

  function finish(job: Job, value: ChatResponse): void {
    job.value = value;
    job.phase = 'done';
    job.expiresAt = performance.now() + options.resultTtlMs;
    settle(job, 'done');
    // An answer handed out once, to a call waiting for it now, need not wait in the store for another.
    job.stored = records !== undefined && !(job.once && job.waiters > 0);
    if (records && job.stored) {
      records
        .put(resultKey(job.recordKey), JSON.stringify(value), options.resultTtlMs)
        .catch(error => logRecordFailure(error, 'put'));
    }
  }

  function fail(job: Job, thrown: unknown): void {
    const error = toExaiError(thrown);
    job.error = error.message;
    const cancelled = error.kind === 'cancelled';
    job.phase = cancelled ? 'cancelled' : 'failed';
    if (jobs.get(job.keyText) === job) jobs.delete(job.keyText);
    settle(job, cancelled ? 'cancelled' : 'failed');
  }

  function logRecordFailure(error: unknown, operation: string): void {
    logger.warn({ event: 'job_record_failed', operation, err: error }, `job record ${operation} failed`);
  }

  function start(request: JobRequest, keyText: string): Job {
    // Its own budget, cancelled only through the job (a person's cancel, a replaced step, shutdown).
    const deadline = Deadline.start(request.budgetMs, {
      bound: request.bound,
      label: request.label,
    });
    const job: Job = {
      id: randomUUID(),
      key: request.key,
      keyText,
      recordKey: digest(keyText),
      once: request.once ?? false,
      started: performance.now(),
      startedIso: new Date().toISOString(),
      deadline,
      promise: Promise.resolve(undefined as unknown as ChatResponse),
      state: 'running',
      model: request.model,
      phase: 'starting',
      attempt: 1,
      reasoningChars: 0,
      outputChars: 0,
      note: undefined,
      lastRetry: undefined,
      waiters: 0,
      listeners: new Set(),
      grace: undefined,
      ended: undefined,
      expiresAt: undefined,
      value: undefined,
      error: undefined,
      collected: false,
      stored: false,
    };
    const slot = slotOf(request.key);
    const previous = slots.get(slot);
    if (previous && request.exclusive) {
      cancel(
        previous,
        new ExaiError('cancelled', `replaced by a changed ${request.key.tool} request for the same step`),
      );
    }
    if (request.exclusive) slots.set(slot, job);
    jobs.set(keyText, job);
    if (records) {
      const marker: Marker = {
        id: job.id,
        tool: request.key.tool,
        model: request.model,
        started_at: job.startedIso,
        host: hostname(),
        pid: process.pid,
      };
      records
        .put(markerKey(job.recordKey), JSON.stringify(marker), deadline.budgetMs + MARKER_SLACK_MS)
        .catch(error => logRecordFailure(error, 'put'));
    }
    // An async wrapper, so a work function that throws synchronously still yields a rejected promise.
    job.promise = (async () => request.work(deadline, event => observe(job, event)))();
    job.promise.then(
      value => finish(job, value),
      error => fail(job, error),
    );
    return job;
  }

  function sweep(): void {
    const at = performance.now();
    pruneFinished(jobs, job => job.expiresAt, at, maxFinished);
  }

  function collected(job: Job): void {
    job.collected = true;
    if (!job.once) return;
    if (jobs.get(job.keyText) === job) jobs.delete(job.keyText);
    if (job.stored) {
      records?.delete(resultKey(job.recordKey)).catch(error => logRecordFailure(error, 'delete'));
    }
  }

  /** Waits for a job of this process within the call's soft budget. */
  async function attach(job: Job, wait: JobWait, share: JobShare): Promise<JobOutcome> {
    const frame = wait.ctx ? frames.get(wait.ctx) : undefined;
    const watcher = wait.watcher;
    const listener = watcher && ((event: CallEvent) => watcher.onEvent(event));
    watcher?.watch(() => view(job));
    job.waiters++;
    clearGrace(job);
    if (listener) job.listeners.add(listener);
    try {
      const value = await race(job.promise, wait.signal, softRemaining(frame));
      if (value === SOFT) throw new JobPending([view(job)], threadOf(job.key), frame!.budget);
      collected(job);
      return { value, share, job: view(job) };
    } finally {
      job.waiters--;
      if (listener) job.listeners.delete(listener);
      if (job.state === 'running' && job.waiters === 0) {
        // A person's cancel ends the job at once; a client's own timer, or a soft return, leaves it for
        // the next call to collect within the grace period.
        if (wait.signal.aborted && !isClientTimeout(wait.signal.reason)) cancel(job, wait.signal.reason);
        else armGrace(job);
      }
    }
  }

  /**
   * The job in the shared records: its answer, or (while another process runs it) a wait for the answer
   * within the soft budget. Undefined when no process has it: this one starts it.
   */
  async function fromRecords(request: JobRequest, keyText: string, wait: JobWait) {
    if (!records) return undefined;
    const recordKey = digest(keyText);
    const frame = wait.ctx ? frames.get(wait.ctx) : undefined;
    const softUntil = frame && frame.budget.ms > 0 ? frame.startedAt + frame.budget.ms : undefined;
    for (;;) {
      const stored = await readRecord(resultKey(recordKey));
      if (stored !== undefined) {
        const value = JSON.parse(stored) as ChatResponse;
        if (request.once) {
          records.delete(resultKey(recordKey)).catch(error => logRecordFailure(error, 'delete'));
        }
        return { value, share: 'stored' as const, job: storedView(request, value) };
      }
      const markerText = await readRecord(markerKey(recordKey));
      if (markerText === undefined || jobs.has(keyText)) return undefined;
      const marker = JSON.parse(markerText) as Marker;
      // A process that died (a client restart ends its stdio server) leaves its marker behind.
      if (!markerAlive(marker)) return undefined;
      if (softUntil !== undefined && performance.now() + pollMs > softUntil) {
        throw new JobPending([markerView(marker)], threadOf(request.key), frame!.budget);
      }
      await sleep(pollMs, wait.signal);
    }
  }

  async function readRecord(key: string): Promise<string | undefined> {
    try {
      return await records?.get(key);
    } catch (error) {
      // A store that cannot be read costs the sharing, never the call: this process runs the job itself.
      logRecordFailure(error, 'get');
      return undefined;
    }
  }

  function close(reason?: unknown): void {
    if (closed) return;
    closed = true;
    options.shutdownSignal?.removeEventListener('abort', onShutdown);
    const why = reason ?? new ExaiError('cancelled', 'The server is shutting down; retry once it is back');
    for (const job of jobs.values()) cancel(job, why);
    jobs.clear();
    slots.clear();
  }

  return {
    begin(ctx, budget) {
      frames.set(ctx, { startedAt: performance.now(), budget, usedJob: false });
    },
    frame: ctx => frames.get(ctx),
    async run(request, wait) {
      if (closed) throw new ExaiError('cancelled', 'The server is shutting down; retry once it is back');
      if (wait.signal.aborted) throw abortReason(wait.signal);
      const frame = wait.ctx ? frames.get(wait.ctx) : undefined;
      if (frame) frame.usedJob = true;
      sweep();
      const keyText = keyOf(request.key);
      let job = jobs.get(keyText);
      if (job?.state === 'done') {
        collected(job);
        return { value: job.value!, share: 'cached', job: view(job) };
      }
      if (job) return attach(job, wait, 'joined');
      const stored = await fromRecords(request, keyText, wait);
      if (stored) return stored;
      // Another call of this process may have started it while the records were read.
      job = jobs.get(keyText);
      if (job?.state === 'done') {
        collected(job);
        return { value: job.value!, share: 'cached', job: view(job) };
      }
      return attach(job ?? start(request, keyText), wait, job ? 'joined' : 'started');
    },
    list() {
      const running = [...jobs.values()].filter(j => j.state === 'running');
      return [...running.sort((a, b) => b.started - a.started), ...recent].map(view);
    },
    get running() {
      let n = 0;
      for (const job of jobs.values()) if (job.state === 'running') n++;
      return n;
    },
    get live() {
      let n = 0;
      for (const job of jobs.values()) if (job.state === 'running' || job.grace !== undefined) n++;
      return n;
    },
    close,
  };
}

function keyOf(key: JobKey): string {
  return JSON.stringify([key.tool, key.thread, key.step, key.hash]);
}

function slotOf(key: JobKey): string {
  return JSON.stringify([key.tool, key.thread, key.step]);
}

function threadOf(key: JobKey): string | undefined {
  return key.thread === NO_THREAD ? undefined : key.thread;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const resultKey = (recordKey: string) => `result:${recordKey}`;
const markerKey = (recordKey: string) => `running:${recordKey}`;

/** The hash of a job's key: of everything the model is sent, so equal requests have equal keys. */
export function requestHash(value: unknown): string {
  return digest(JSON.stringify(value));
}

function graceOver(job: Job, graceMs: number): ExaiError {
  return new ExaiError(
    'cancelled',
    `no call collected the ${job.key.tool} job within its grace period of ${Math.round(graceMs / 1000)} s (EXAI_JOB_GRACE_SECS)`,
  );
}

function softRemaining(frame: CallFrame | undefined): number | undefined {
  if (!frame || frame.budget.ms <= 0) return undefined;
  return Math.max(0, frame.startedAt + frame.budget.ms - performance.now());
}

function storedView(request: JobRequest, value: ChatResponse): JobView {
  return {
    id: 'stored',
    tool: request.key.tool,
    model: value.model,
    phase: 'done',
    elapsed_s: Math.round(value.elapsedMs / 100) / 10,
    attempt: value.attempts,
    reasoning_tokens: value.usage.reasoningTokens ?? 0,
    output_tokens: value.usage.outputTokens,
    started_at: new Date(Date.now() - value.elapsedMs).toISOString(),
    collected: true,
    ...(value.costUsd !== undefined && { cost_usd: value.costUsd }),
  };
}

function markerAlive(marker: Marker): boolean {
  if (marker.host !== hostname() || marker.pid === process.pid) return true;
  try {
    process.kill(marker.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function markerView(marker: Marker): JobView {
  return {
    id: marker.id,
    tool: marker.tool,
    model: marker.model,
    phase: 'starting',
    elapsed_s: Math.round((Date.now() - Date.parse(marker.started_at)) / 100) / 10,
    attempt: 1,
    reasoning_tokens: 0,
    output_tokens: 0,
    started_at: marker.started_at,
    collected: false,
    note: 'running on another replica',
  };
}

/** The promise's value, SOFT when `softMs` passes first, or the signal's reason when it aborts first. */
function race<T>(
  promise: Promise<T>,
  signal: AbortSignal,
  softMs: number | undefined,
): Promise<T | typeof SOFT> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T | typeof SOFT>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = () => {
      signal.removeEventListener('abort', onAbort);
      if (timer !== undefined) clearTimeout(timer);
    };
    const onAbort = () => {
      done();
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (softMs !== undefined) {
      timer = setTimeout(() => {
        done();
        resolve(SOFT);
      }, softMs);
    }
    promise.then(
      value => {
        done();
        resolve(value);
      },
      error => {
        done();
        reject(error);
      },
    );
  });
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts; no timer is left behind. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
