/**
 * `exai-mcp ask "<prompt>"`: one call through the full provider stack. The answer streams to stdout as it
 * arrives; progress, reasoning and errors go to stderr; the exit code is 0 only on success.
 */
import { text } from 'node:stream/consumers';
import { parseArgs } from 'node:util';
import { type Config, ConfigError, loadConfig } from '../config/load.js';
import { isExaiError, toExaiError } from '../errors.js';
import { createLogger, resolveLogFormat } from '../observability/logger.js';
import { createGateway, type ModelGateway } from '../providers/gateway.js';
import type { ModelSpec } from '../providers/models.js';
import type { CallEvent, ChatResponse, WebSearchResult } from '../providers/types.js';
import { Deadline } from '../resilience/deadline.js';
import { callMetadata } from '../toolkit/usage-metadata.js';
import { type Spinner, startSpinner } from './spinner.js';

export const ASK_USAGE = `Usage: exai-mcp ask "<prompt>" [options]
       echo "<prompt>" | exai-mcp ask [options]     (or: exai-mcp ask - < prompt.txt)

Sends one prompt through the full provider stack (deadlines, retries, breaker, fallback).

Options:
  -m, --model <name>   model name, alias or "auto" (default: DEFAULT_MODEL)
      --fallback       if the model's provider has no key or fails, answer with the other provider's model
      --thinking       ask for thinking (sent as each model's rules say; effort high); the reasoning is
                       shown dimmed on stderr
      --websearch      let the model search the web; the sources it read are listed after the answer
      --system <text>  a system prompt
      --json           print the answer as JSON, with the tools' metadata names (model_used, usage, …)
  -h, --help           show this help

Exit codes: 0 answered, 1 the call failed, 2 bad usage or configuration (no key), 130 interrupted.`;

type Values = ReturnType<typeof parse>['values'];

export async function runAsk(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    return usageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${ASK_USAGE}\n`);
    return 0;
  }
  // `ask -`, or no prompt with something piped in: the prompt is stdin.
  const fromStdin =
    (positionals.length === 1 && positionals[0] === '-') ||
    (positionals.length === 0 && process.stdin.isTTY !== true);
  const prompt = (fromStdin ? await text(process.stdin) : positionals.join(' ')).trim();
  if (!prompt) {
    return usageError(
      fromStdin
        ? 'the prompt read from stdin is empty.'
        : 'a prompt is required (as an argument, or on stdin).',
    );
  }

  let config: Config;
  try {
    config = loadConfig(values.fallback ? { overrides: { fallbackOnFailure: true } } : {});
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  // A one-shot command keeps stderr for people: retries and fallbacks are reported below in words, so the
  // logs say only errors unless LOG_LEVEL is set on purpose.
  const level = config.sources.logLevel.from === 'default' ? 'error' : config.logLevel;
  const logger = createLogger({
    level,
    format: resolveLogFormat(config.logFormat, process.stderr.isTTY === true),
  });
  const gateway = createGateway(config, { logger });
  // The call's budget: no time of its own (each provider's deadline applies), ended by Ctrl-C.
  const interrupt = Deadline.open({ label: 'ask' });
  let spinner: Spinner | undefined;
  const onSigint = () => interrupt.cancel(new Error('interrupted (Ctrl-C)'));
  process.once('SIGINT', onSigint);

  try {
    const chosen = chooseModel(gateway, values);
    if (typeof chosen === 'string') {
      process.stderr.write(`exai-mcp ask: ${chosen}\n`);
      return 2;
    }
    const { model, note } = chosen;
    if (note) process.stderr.write(`… ${note}\n`);
    const request = {
      model: model.name,
      messages: [
        ...(values.system ? [{ role: 'system' as const, content: values.system }] : []),
        { role: 'user' as const, content: prompt },
      ],
      thinking: values.thinking ?? false,
      webSearch: values.websearch ?? false,
      budget: interrupt,
      onEvent: (event: CallEvent) => reportProgress(event, spinner),
    };
    process.stderr.write(`→ ${model.name} (${model.provider})\n`);
    spinner = startSpinner(model.name);

    let response: ChatResponse | undefined;
    if (values.json) {
      response = await gateway.chat(request);
      spinner.stop();
      process.stdout.write(`${JSON.stringify(jsonAnswer(response, values), null, 2)}\n`);
    } else {
      const reasoning = reasoningWriter(process.stderr);
      for await (const chunk of gateway.stream(request)) {
        if (chunk.type === 'reasoning') {
          spinner.stop();
          reasoning.write(chunk.text);
        } else if (chunk.type === 'content') {
          spinner.stop();
          reasoning.end();
          process.stdout.write(chunk.text);
        } else response = chunk.response;
      }
      reasoning.end();
      process.stdout.write('\n');
      if (response?.webSearch?.length) process.stdout.write(sourcesText(response.webSearch));
    }
    if (response) process.stderr.write(`${summary(response, values)}\n`);
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
    interrupt.dispose();
    gateway.close();
    logger.flush();
  }
}

function usageError(message: string): number {
  process.stderr.write(`exai-mcp ask: ${message}\n\n${ASK_USAGE}\n`);
  return 2;
}

/**
 * The model to call, or why none can be: a model named with -m needs its own provider's key unless
 * --fallback lets the gateway fall back to the other provider; the default model moves to whichever
 * provider has a key (a Kimi key alone is enough for `ask "…"`).
 */
function chooseModel(gateway: ModelGateway, values: Values): { model: ModelSpec; note?: string } | string {
  const status = gateway.status();
  const keyless = status.filter(p => !p.configured);
  if (keyless.length === status.length) {
    return `no API key is set: set ${status.map(p => `${p.keyVariables[0]} (${p.label})`).join(' or ')} in the environment or in .env, then run it again.`;
  }
  const named = values.model !== undefined && values.model.trim().toLowerCase() !== 'auto';
  const model = gateway.resolveModel(values.model);
  if (gateway.isConfigured(model.provider)) return { model };
  const missing = keyless.find(p => p.provider === model.provider);
  const keys = missing?.keyVariables.join(' or ') ?? 'its key';
  const alternative = gateway.registry.equivalentOf(model);
  if (named) {
    if (values.fallback) return { model };
    const other = alternative ? `, or pass --fallback to answer with ${alternative.name}` : '';
    return `${model.name} is a ${missing?.label ?? model.provider} model and ${keys} is not set: set it${other}.`;
  }
  const instead =
    alternative && gateway.isConfigured(alternative.provider) ? alternative : gateway.autoModel('general');
  return {
    model: instead,
    note: `the default model ${model.name} needs ${keys}; answering with ${instead.name}`,
  };
}

/** Reasoning on stderr as it streams, dimmed on a terminal so the answer stands out. */
function reasoningWriter(stream: NodeJS.WriteStream): { write(text: string): void; end(): void } {
  const dim = stream.isTTY === true;
  let open = false;
  let ended = false;
  return {
    write(text) {
      if (ended) return;
      if (!open) {
        stream.write(dim ? '\x1b[2mthinking: ' : 'thinking: ');
        open = true;
      }
      stream.write(text);
    },
    end() {
      if (open && !ended) stream.write(dim ? '\x1b[22m\n' : '\n');
      ended = true;
    },
  };
}

function sourcesText(results: readonly WebSearchResult[]): string {
  const lines = results.map((r, i) => {
    const title = r.title ?? r.media ?? 'untitled';
    return `  ${i + 1}. ${title}${r.link ? ` <${r.link}>` : ''}${r.publishDate ? ` (${r.publishDate})` : ''}`;
  });
  return `\nSources:\n${lines.join('\n')}\n`;
}

function summary(response: ChatResponse, values: Values): string {
  const via = response.fallbackFrom
    ? ` (fallback from ${response.fallbackFrom.model}: ${response.fallbackFrom.reason})`
    : '';
  const parts = [
    `${response.attempts} attempt${response.attempts === 1 ? '' : 's'}`,
    `${response.usage.totalTokens} tokens`,
  ];
  if (values.thinking) {
    const reasoned = response.reasoningContent !== '' || (response.usage.reasoningTokens ?? 0) > 0;
    parts.push(
      response.adjustments?.thinking === false
        ? `thinking off (${response.model} does not think)`
        : reasoned
          ? 'thinking on'
          : 'thinking on, no reasoning text returned',
    );
  }
  if (values.websearch) {
    const sources = response.webSearch?.length ?? 0;
    const skipped = response.adjustments?.webSearchSkipped;
    parts.push(
      skipped
        ? `no web search: ${skipped}`
        : sources > 0
          ? `${sources} web source${sources === 1 ? '' : 's'}`
          : `web search on, ${response.usage.webSearches ?? 0} search(es), no sources returned`,
    );
  }
  return `✓ ${response.model}${via} in ${(response.elapsedMs / 1000).toFixed(1)} s, ${parts.join(', ')}`;
}

/** The chat tool's answer shape and metadata names, so a script can read `ask --json` like a tool answer. */
function jsonAnswer(response: ChatResponse, values: Values): Record<string, unknown> {
  return {
    status: 'success',
    content: response.content,
    content_type: 'text',
    ...(response.reasoningContent !== '' && { reasoning_content: response.reasoningContent }),
    ...(response.webSearch?.length && {
      sources: response.webSearch.map(r => ({
        ...(r.title !== undefined && { title: r.title }),
        ...(r.link !== undefined && { link: r.link }),
        ...(r.media !== undefined && { media: r.media }),
        ...(r.publishDate !== undefined && { publish_date: r.publishDate }),
      })),
    }),
    metadata: {
      ...callMetadata(response),
      ...(values.model !== undefined && { model_requested: values.model }),
      thinking: values.thinking ?? false,
      use_websearch: values.websearch ?? false,
    },
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      model: { type: 'string', short: 'm' },
      fallback: { type: 'boolean' },
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
