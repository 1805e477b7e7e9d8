/**
 * A stdio server answers `initialize` before it loads the MCP SDK, zod and the rest: an IDE spawns its
 * servers at session start and waits for each answer (Codex left out the tools of a server that answered
 * late), and loading all that takes most of a second where bare node takes a tenth. So stdin is read while the
 * server loads, and a first line that is an initialize is answered at once. The answer says nothing
 * the full server would not: name, version, capabilities and instructions come from identity.ts, the served
 * tools from the same settings, and the protocol version is negotiated as the SDK does. Once the server has
 * loaded it is handed the same request under REPLAY_ID and everything read since; its own answer to the replay
 * is compared with the early one and not written (withoutReplayAnswer). Anything else as the first line (a
 * 2026-07-28 `server/discover`, an initialize with `_meta`, bad JSON, an EXAI_TOOLS the settings would refuse)
 * gets no early answer: the full server deals with it as before.
 */
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { isDeepStrictEqual } from 'node:util';
import { pick, readEnvFile } from '../config/env-file.js';
import { enabledTools, parseToolList, type ToolName } from '../config/tool-names.js';
import { type ServerIdentity, serverIdentity } from './identity.js';

/**
 * The protocol revisions the SDK negotiates through `initialize`, newest first: it answers the client's
 * version when listed, else the first. test/unit/stdio-early.test.ts holds this to the SDK's own list.
 */
export const INITIALIZE_PROTOCOL_VERSIONS = [
  '2025-11-25',
  '2025-06-18',
  '2025-03-26',
  '2024-11-05',
  '2024-10-07',
];

/** The id the replayed initialize carries, so the server's answer to it can be told from any other. */
export const REPLAY_ID = 'exai-mcp:early-initialize';

/** An initialize is a few hundred bytes: a longer first line is left to the server's own limits. */
const FIRST_LINE_MAX_BYTES = 1024 * 1024;

export interface InitializeAnswer extends ServerIdentity {
  protocolVersion: string;
}

export interface EarlyStdio {
  /** What was read from stdin before the server was ready, to be fed to it first, in order. */
  readonly pending: readonly Buffer[];
  /** stdin ended before a first whole line arrived. */
  readonly ended: boolean;
  /** The result already written to stdout, when initialize was answered early. */
  readonly answered?: InitializeAnswer;
}

/**
 * Starts reading stdin while the server loads: a first line that is an initialize is answered at once.
 * `handOver`, called once the server is ready to read stdin, stops the reading (stdin is left paused) and says
 * what was read and answered; a server ready before the first line simply reads it itself.
 */
export function readStdioEarly(
  version: string,
  env: NodeJS.ProcessEnv = process.env,
  stdin: NodeJS.ReadableStream = process.stdin,
  stdout: NodeJS.WritableStream = process.stdout,
): { handOver(): EarlyStdio } {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let state: EarlyStdio | undefined;
  const stop = () => {
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    stdin.off('error', onEnd);
    // Paused, what follows waits in the pipe until the server reads it.
    stdin.pause();
  };
  const onData = (chunk: Buffer | string) => {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    chunks.push(buffer);
    bytes += buffer.length;
    if (!buffer.includes(0x0a) && bytes <= FIRST_LINE_MAX_BYTES) return;
    stop();
    state = answerFirstLine(Buffer.concat(chunks), version, env, stdout);
  };
  const onEnd = () => {
    stop();
    state = { pending: [Buffer.concat(chunks)], ended: true };
  };
  stdin.on('data', onData);
  stdin.once('end', onEnd);
  stdin.once('error', onEnd);
  return {
    handOver() {
      if (state) return state;
      stop();
      return { pending: [Buffer.concat(chunks)], ended: false };
    },
  };
}

/** Answers `read`'s first line when it is an initialize; what the server is to read first either way. */
function answerFirstLine(
  read: Buffer,
  version: string,
  env: NodeJS.ProcessEnv,
  stdout: NodeJS.WritableStream,
): EarlyStdio {
  const newline = read.indexOf(0x0a);
  const served = newline === -1 ? undefined : servedTools(env);
  const early =
    served && earlyAnswer(read.subarray(0, newline).toString('utf8'), serverIdentity(version, served));
  if (!early) return { pending: [read], ended: false };
  stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id: early.id, result: early.result })}\n`);
  return {
    pending: [Buffer.from(`${early.replay}\n`), read.subarray(newline + 1)],
    ended: false,
    answered: early.result,
  };
}

/**
 * The answer to `line` when it is an initialize the full server would accept, and the same request under
 * REPLAY_ID; undefined for anything else. Only the shape the SDK checks is accepted, so the server never
 * refuses a request that was answered early.
 */
export function earlyAnswer(
  line: string,
  identity: ServerIdentity,
): { id: string | number; result: InitializeAnswer; replay: string } | undefined {
  const message = parseOrUndefined(line);
  if (!isRecord(message) || message.jsonrpc !== '2.0' || message.method !== 'initialize') return undefined;
  const { id, params } = message;
  if (typeof id !== 'string' && typeof id !== 'number') return undefined;
  // `_meta` may claim a 2026-07-28 envelope, which the SDK serves differently: left to it.
  if (!isRecord(params) || params._meta !== undefined) return undefined;
  const { protocolVersion, capabilities, clientInfo } = params;
  if (typeof protocolVersion !== 'string' || !isRecord(capabilities) || !isRecord(clientInfo))
    return undefined;
  if (typeof clientInfo.name !== 'string' || typeof clientInfo.version !== 'string') return undefined;
  const negotiated = INITIALIZE_PROTOCOL_VERSIONS.includes(protocolVersion)
    ? protocolVersion
    : (INITIALIZE_PROTOCOL_VERSIONS[0] as string);
  return {
    id,
    result: { protocolVersion: negotiated, ...identity },
    replay: JSON.stringify({ ...message, id: REPLAY_ID }),
  };
}

/**
 * Which tools the server will serve, read as the settings read EXAI_TOOLS and EXAI_DISABLED_TOOLS (the
 * environment, then .env in the working directory); undefined when either is invalid, so the settings report it.
 */
export function servedTools(
  env: NodeJS.ProcessEnv,
  envFile: string = resolve('.env'),
): ((tool: ToolName) => boolean) | undefined {
  let fileEnv: Record<string, string>;
  try {
    fileEnv = readEnvFile(envFile);
  } catch {
    return undefined;
  }
  const list = (name: string, profiles: boolean) => {
    const found = pick([name], env, fileEnv);
    return found === undefined ? { names: undefined } : parseToolList(found.value, { profiles });
  };
  const tools = list('EXAI_TOOLS', true);
  const disabledTools = list('EXAI_DISABLED_TOOLS', false);
  if ('error' in tools || 'error' in disabledTools) return undefined;
  const enabled = new Set<ToolName>(enabledTools({ tools: tools.names, disabledTools: disabledTools.names }));
  return tool => enabled.has(tool);
}

/**
 * stdout for the server's transport after an early answer: writes everything through to `out` except the
 * server's answer to the replay, which goes to `onAnswer` instead (the client has its answer already).
 */
export function withoutReplayAnswer(
  out: NodeJS.WritableStream,
  onAnswer: (message: unknown) => void,
): Writable {
  let waiting = true;
  const marker = JSON.stringify(REPLAY_ID);
  const filter = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (waiting && chunk.includes(marker)) {
        const message = parseOrUndefined(chunk.toString('utf8'));
        if (isRecord(message) && message.id === REPLAY_ID && message.method === undefined) {
          waiting = false;
          onAnswer(message);
          done();
          return;
        }
      }
      out.write(chunk, error => done(error ?? undefined));
    },
  });
  // The transport watches its stdout for errors (a client gone: EPIPE); they happen on `out`.
  const onError = (error: Error) => filter.destroy(error);
  out.on('error', onError);
  filter.once('close', () => out.off('error', onError));
  return filter;
}

/** Whether the server's answer to the replay says what the early answer said. */
export function sameAnswer(message: unknown, answered: InitializeAnswer): boolean {
  return isRecord(message) && isDeepStrictEqual(message.result, answered);
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
