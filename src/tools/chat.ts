/**
 * chat: a second opinion from GLM or Kimi, with files, images, web search and conversation threads.
 * Fields, defaults and the ToolOutput answer follow the Python system's chat tool (reference §2.2, §2.4).
 */
import type { McpServer, ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { ExaiError } from '../errors.js';
import type { BuiltHistory } from '../memory/index.js';
import type { ModelSpec } from '../providers/models.js';
import type { ChatMessage, ChatResponse, ContentPart } from '../providers/types.js';
import { CHAT_SYSTEM_PROMPT } from './chat-prompt.js';
import { lastModel, openThread, recordExchange, threadHistory, turn } from './conversation.js';
import type { LoadedFile } from './files.js';
import { leanSchema } from './json-schema.js';
import { CHAT_AUTO, chooseModel } from './model-choice.js';
import { type ContinuationOffer, successResult } from './output.js';
import { runTool } from './run.js';
import {
  continuationField,
  filesField,
  imagesField,
  modelField,
  temperatureField,
  thinkingFrom,
  thinkingModeField,
  webSearchField,
} from './schema.js';
import type { ToolDeps } from './types.js';

const DEFAULT_TEMPERATURE = 0.5;

export const chatInputSchema = z.object({
  prompt: z
    .string()
    .min(1, 'prompt must not be empty')
    .describe('Your question or plan, with the context needed.'),
  files: filesField,
  images: imagesField,
  model: modelField,
  temperature: temperatureField,
  thinking_mode: thinkingModeField,
  use_websearch: webSearchField,
  continuation_id: continuationField,
});

const DESCRIPTION =
  'A second opinion from another model (GLM or Kimi): brainstorm, check a plan, design or idea, compare approaches. Attach files and images when they matter; pass continuation_id back to continue the thread.';

export function registerChatTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(
    'chat',
    {
      title: 'Chat with a second-opinion model',
      description: DESCRIPTION,
      inputSchema: leanSchema(chatInputSchema),
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    (args, ctx) => runTool(deps, 'chat', ctx, signal => chat(deps, args, ctx, signal)),
  );
}

type ChatArgs = z.output<typeof chatInputSchema>;

async function chat(deps: ToolDeps, args: ChatArgs, ctx: ServerContext, signal: AbortSignal) {
  const thinking = thinkingFrom(args.thinking_mode);
  const thread = await openThread(deps, args.continuation_id);
  const model = chooseModel(deps, args.model ?? lastModel(thread), CHAT_AUTO, thinking);
  const files = deps.files.readFiles(args.files ?? []);
  const images = deps.files.loadImages(args.images ?? []);
  if (images.length > 0 && !model.vision) {
    const vision = deps.gateway.registry
      .list()
      .filter(m => m.vision)
      .map(m => m.name);
    throw new ExaiError(
      'bad_request',
      `${model.name} does not accept images. Use a vision model (${vision.join(', ')}) or leave out images`,
      { retryable: false, model: model.name },
    );
  }
  const history = threadHistory(deps, thread, model);
  const messages: ChatMessage[] = [
    { role: 'system', content: CHAT_SYSTEM_PROMPT },
    { role: 'user', content: userContent(args.prompt, files, images, history) },
  ];

  const progress = deps.progress(ctx, { tool: 'chat', model: model.name });
  let response: ChatResponse;
  try {
    response = await deps.gateway.chat({
      messages,
      model: model.name,
      temperature: args.temperature ?? DEFAULT_TEMPERATURE,
      thinking,
      webSearch: args.use_websearch,
      signal,
      onEvent: event => progress.onEvent(event),
    });
  } finally {
    progress.stop();
  }
  // The answer raced a cancel: the caller has gone, and a cancelled turn is never stored.
  if (signal.aborted) throw new ExaiError('cancelled', 'The chat call was cancelled');

  let offer: ContinuationOffer | undefined;
  let memoryWarning: string | undefined;
  try {
    offer = await recordExchange(deps, {
      thread,
      toolName: 'chat',
      user: turn('user', args.prompt, {
        toolName: 'chat',
        ...(files.length > 0 && { files: files.map(f => f.path) }),
        ...(args.images?.length && { images: args.images.filter(i => !i.startsWith('data:')) }),
      }),
      assistant: turn('assistant', response.content, {
        toolName: 'chat',
        modelProvider: response.provider,
        modelName: response.model,
        metadata: { usage: { ...response.usage } },
      }),
      initialContext: { prompt: args.prompt, files: files.map(f => f.path), model: model.name },
    });
  } catch (error) {
    // The answer is worth more than the thread: return it, and say the thread was not saved.
    deps.logger.warn({ event: 'memory_write_failed', err: error }, 'could not record the chat exchange');
    memoryWarning = `The answer could not be saved to the conversation thread: ${(error as Error).message}`;
  }

  return successResult('chat', response.content, {
    offer,
    metadata: metadataFor(model, response, thinking, args.use_websearch, files, history, memoryWarning),
  });
}

function userContent(
  prompt: string,
  files: LoadedFile[],
  images: string[],
  history: BuiltHistory | undefined,
): string | ContentPart[] {
  const parts: string[] = [];
  if (history?.text) parts.push(history.text, '', '=== NEW USER INPUT ===');
  parts.push(prompt);
  const inHistory = new Set(history?.filesEmbedded ?? []);
  const fresh = files.filter(f => !inHistory.has(f.path));
  if (fresh.length > 0) {
    parts.push('', '=== FILES ===');
    for (const f of fresh)
      parts.push(`--- BEGIN FILE: ${f.path} ---\n${f.content}\n--- END FILE: ${f.path} ---`);
    parts.push('=== END FILES ===');
  }
  const text = parts.join('\n');
  if (images.length === 0) return text;
  return [{ type: 'text', text }, ...images.map(url => ({ type: 'image_url' as const, image_url: { url } }))];
}

function metadataFor(
  model: ModelSpec,
  response: ChatResponse,
  thinking: boolean,
  webSearch: boolean,
  files: LoadedFile[],
  history: BuiltHistory | undefined,
  memoryWarning: string | undefined,
): Record<string, unknown> {
  return {
    model_used: response.model,
    provider_used: response.provider,
    model_requested: model.name,
    thinking,
    use_websearch: webSearch,
    elapsed_ms: response.elapsedMs,
    attempts: response.attempts,
    finish_reason: response.finishReason,
    usage: {
      input_tokens: response.usage.inputTokens,
      output_tokens: response.usage.outputTokens,
      total_tokens: response.usage.totalTokens,
    },
    ...(files.length > 0 && { files: files.map(f => f.path) }),
    ...(history && {
      history_turns_included: history.turnsIncluded,
      history_files_embedded: history.filesEmbedded,
    }),
    ...(response.fallbackFrom && { fallback_from: response.fallbackFrom }),
    ...(response.webSearch?.length && { web_search_results: response.webSearch.length }),
    ...(memoryWarning && { memory_warning: memoryWarning }),
  };
}
