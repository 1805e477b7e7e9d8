/**
 * `exai-mcp ask "<prompt>"`: one call through the full provider stack. The answer streams to stdout as it
 * arrives; progress and errors go to stderr; the exit code is 0 only on success.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.js';
import { isExaiError, toExaiError } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { createGateway } from '../providers/gateway.js';
import type { CallEvent, ChatResponse } from '../providers/types.js';
import { type Spinner, startSpinner } from './spinner.js';

export const ASK_USAGE = `Usage: exai-mcp ask "<prompt>" [options]

Sends one prompt through the full provider stack (deadlines, retries, breaker, fallback).

Options:
  -m, --model <name>   model name, alias or "auto" (default: DEFAULT_MODEL)
      --thinking       ask for thinking (sent as each model's rules say; effort high)
      --websearch      let the model search the web
      --system <text>  a system prompt
      --json           print the whole response object as JSON instead of streaming the answer
  -h, --help           show this help

Exit codes: 0 answered, 1 the call failed, 2 bad usage or configuration, 130 interrupted.`;

export async function runAsk(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    process.stderr.write(`exai-mcp ask: ${(error as Error).message}\n\n${ASK_USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${ASK_USAGE}\n`);
    return 0;
  }
  const prompt = positionals.join(' ').trim();
  if (!prompt) {
    process.stderr.write(`exai-mcp ask: a prompt is required.\n\n${ASK_USAGE}\n`);
    return 2;
  }

  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  // A one-shot command keeps stderr for people: JSON logs only when LOG_LEVEL is set on purpose.
  const level = config.sources.logLevel.from === 'default' ? 'warn' : config.logLevel;
  const logger = createLogger({ level });
  const gateway = createGateway(config, { logger });
  const interrupt = new AbortController();
  let spinner: Spinner | undefined;
  const onSigint = () => interrupt.abort(new Error('interrupted (Ctrl-C)'));
  process.once('SIGINT', onSigint);

  try {
    const request = {
      model: values.model ?? config.defaultModel,
      messages: [
        ...(values.system ? [{ role: 'system' as const, content: values.system }] : []),
        { role: 'user' as const, content: prompt },
      ],
      thinking: values.thinking ?? false,
      webSearch: values.websearch ?? false,
      signal: interrupt.signal,
      onEvent: (event: CallEvent) => reportProgress(event, spinner),
    };
    const model = gateway.resolveModel(request.model);
    process.stderr.write(`→ ${model.name} (${model.provider})\n`);
    spinner = startSpinner(model.name);

    let response: ChatResponse | undefined;
    if (values.json) {
      response = await gateway.chat(request);
      spinner.stop();
      process.stdout.write(`${JSON.stringify(response, null, 2)}\n`);
    } else {
      for await (const chunk of gateway.stream(request)) {
        if (chunk.type === 'content') {
          spinner.stop();
          process.stdout.write(chunk.text);
        } else if (chunk.type === 'done') response = chunk.response;
      }
      process.stdout.write('\n');
    }
    if (response) {
      const via = response.fallbackFrom
        ? ` (fallback from ${response.fallbackFrom.model}: ${response.fallbackFrom.reason})`
        : '';
      process.stderr.write(
        `✓ ${response.model}${via} in ${(response.elapsedMs / 1000).toFixed(1)} s, ${response.attempts} attempt(s), ${response.usage.totalTokens} tokens\n`,
      );
    }
    return 0;
  } catch (thrown) {
    spinner?.stop();
    const error = toExaiError(thrown);
    process.stderr.write(`✗ ${error.kind}: ${error.message}\n`);
    if (isExaiError(thrown) && thrown.kind === 'cancelled' && interrupt.signal.aborted) return 130;
    return 1;
  } finally {
    spinner?.stop();
    process.off('SIGINT', onSigint);
    gateway.close();
    logger.flush();
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      model: { type: 'string', short: 'm' },
      thinking: { type: 'boolean' },
      websearch: { type: 'boolean' },
      system: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function reportProgress(event: CallEvent, spinner: Spinner | undefined): void {
  const print = (line: string) => (spinner ? spinner.print(line) : process.stderr.write(`${line}\n`));
  if (event.type === 'attempt_start') spinner?.note(`attempt ${event.attempt}`);
  else if (event.type === 'delta' && event.channel === 'reasoning') spinner?.note('thinking');
  else if (event.type === 'retry') {
    print(
      `… ${event.model}: attempt ${event.attempt} ${event.reason}; retrying in ${(event.delayMs / 1000).toFixed(1)} s`,
    );
  } else if (event.type === 'fallback') {
    print(`… ${event.from.model} unavailable (${event.reason}); falling back to ${event.to.model}`);
  } else if (event.type === 'web_search') {
    print(`… web search round ${event.iteration}`);
  }
}
