/**
 * chat: a second opinion from GLM or Kimi, with files, images, web search and conversation threads.
 * Fields, defaults and the ToolOutput answer follow the chat tool of the Python EX-AI MCP server
 * (https://github.com/Zazzles2908/EX-AI-MCP-Server), so agents prompted against it keep working.
 */

import { basename } from 'node:path';
import type { CallToolResult, McpServer, ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { secondsToMs } from '../config/load.js';
import { ExaiError } from '../errors.js';
import type { LoadedFile } from '../files/policy.js';
import { inProgressFields, isJobPending, jsonResult } from '../jobs/pending.js';
import { NO_THREAD, requestHash } from '../jobs/registry.js';
import { clientName } from '../jobs/soft-budget.js';
import { referencedFiles, tokenBudget } from '../memory/index.js';
import { roundUsd } from '../providers/cost.js';
import type { ChatMessage, ChatResponse, ContentPart } from '../providers/types.js';
import type { Deadline } from '../resilience/deadline.js';
import {
  type ArgumentRules,
  deferredSchema,
  failedResult,
  readArguments,
  withNotes,
} from '../toolkit/arguments.js';
import {
  conversationMessages,
  lastModel,
  openThread,
  recordExchange,
  turn,
} from '../toolkit/conversation.js';
import { leanSchema } from '../toolkit/json-schema.js';
import { CHAT_AUTO, chooseModel, threadModel } from '../toolkit/model-choice.js';
import { type ContinuationOffer, successResult, toolResult } from '../toolkit/output.js';
import { oversizedPrompt } from '../toolkit/prompt-size.js';
import { runTool } from '../toolkit/run.js';
import {
  continuationField,
  filesField,
  imagesField,
  modelField,
  modelFieldFor,
  temperatureField,
  thinkingFrom,
  thinkingModeField,
  webSearchField,
} from '../toolkit/schema.js';
import type { ToolDeps } from '../toolkit/types.js';
import { callMetadata, threadCostUsd } from '../toolkit/usage-metadata.js';
import { CHAT_SYSTEM_PROMPT } from './chat-prompt.js';

const DEFAULT_TEMPERATURE = 0.5;

export const chatInputSchema = z.object({
  prompt: z.string().describe('Your question, with context; empty: taken from prompt.txt in files.'),
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

/** pal's chat names (since 2025-10): its file list, and the folder its code-generation feature wrote to. */
const CHAT_ARGUMENTS: ArgumentRules = {
  known: Object.keys(chatInputSchema.shape),
  aliases: {
    absolute_file_paths: { map: value => ({ files: value }) },
    working_directory_absolute_path: { ignored: 'accepted; chat writes no files here' },
  },
};

export function registerChatTool(server: McpServer, deps: ToolDeps): void {
  const { schema, advertised } = chatSchemaFor(allowedModels(deps));
  server.registerTool(
    'chat',
    {
      title: 'Chat with a second-opinion model',
      description: DESCRIPTION,
      inputSchema: advertised,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    (raw, ctx) =>
      runTool(
        deps,
        'chat',
        ctx,
        async budget => {
          const read = readArguments('chat', schema, raw, CHAT_ARGUMENTS);
          if ('failed' in read) return read.failed;
          return withNotes(await chat(deps, read.value, ctx, budget), read.notes);
        },
        clientName(server, ctx),
      ),
  );
}

type ChatArgs = z.output<typeof chatInputSchema>;

/** Built once per allowed-models list and shared by every server of the process (see stepInputSchema). */
const chatSchemas = new Map<string, ReturnType<typeof buildChatSchemas>>();
function buildChatSchemas(allowed: readonly string[] | undefined) {
  const schema = chatInputSchema.extend({ model: modelFieldFor(allowed) });
  return { schema, advertised: deferredSchema(leanSchema(schema)) };
}

function chatSchemaFor(allowed: readonly string[] | undefined): ReturnType<typeof buildChatSchemas> {
  const key = allowed === undefined ? '' : `allowed:${allowed.join('\n')}`;
  let schema = chatSchemas.get(key);
  if (!schema) {
    schema = buildChatSchemas(allowed);
    chatSchemas.set(key, schema);
  }
  return schema;
}

/** The usable models when the server limits them, for the model field's description. */
export function allowedModels(deps: Pick<ToolDeps, 'gateway'>): string[] | undefined {
  const { registry } = deps.gateway;
  if (!registry.allowedNames('glm') && !registry.allowedNames('kimi')) return undefined;
  return registry.list().map(m => m.name);
}

async function chat(
  deps: ToolDeps,
  sent: ChatArgs,
  ctx: ServerContext,
  budget: Deadline,
): Promise<CallToolResult> {
  const { signal } = budget;
  const oversized = oversizedPrompt(
    'chat',
    'prompt',
    sent.prompt,
    'Save the prompt to a file named prompt.txt, put its absolute path in files, and send prompt as an empty string.',
  );
  if (oversized) return toolResult({ ...oversized, continuation_offer: null }, true);
  const prompted = await withPromptFile(deps, sent);
  // An empty prompt is a wrong call, not a failed one: it answers like every other argument error.
  if ('refused' in prompted) return failedResult('chat', prompted.refused);
  const { args, promptFile } = prompted;
  const thinking = thinkingFrom(args.thinking_mode);
  const thread = await openThread(deps, args.continuation_id);
  // A thread remembers its model; one the vendor has retired continues on its successor, and the answer says so.
  const stored = args.model === undefined ? threadModel(deps.gateway, lastModel(thread)) : undefined;
  const model = chooseModel(deps, args.model ?? stored?.model, CHAT_AUTO, thinking);
  // Vision is checked before any image is read: a request that cannot be sent costs no I/O.
  if ((args.images?.length ?? 0) > 0 && !model.vision) {
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
  const { files, omitted, folders } = await deps.files.readFilesWithin(
    args.files ?? [],
    tokenBudget(model.contextWindow).files,
    signal,
  );
  const images = await deps.files.loadImages(args.images ?? [], signal);
  // Built before the call and stored as is, so the next call of this thread lays it out the same.
  const question = turn('user', args.prompt, {
    toolName: 'chat',
    ...(files.length > 0 && { files: files.map(f => f.path) }),
    ...(args.images?.length && { images: args.images.filter(i => !i.startsWith('data:')) }),
  });
  const conversation = await conversationMessages(deps, thread, model, question, files, signal);
  const earlier = new Set(referencedFiles(thread?.turns ?? []));
  const history: HistoryUse | undefined = thread && {
    turnsIncluded: conversation.turnsIncluded,
    filesEmbedded: conversation.filesEmbedded.filter(path => earlier.has(path)),
  };
  const messages: ChatMessage[] = [
    { role: 'system', content: CHAT_SYSTEM_PROMPT },
    ...withImages(conversation.messages, images),
  ];

  const progress = deps.progress(ctx, { tool: 'chat', model: model.name });
  const request = {
    messages,
    model: model.name,
    temperature: args.temperature ?? DEFAULT_TEMPERATURE,
    thinking,
    ...(args.thinking_mode !== undefined && { thinkingLevel: args.thinking_mode }),
    webSearch: args.use_websearch,
  };
  let response: ChatResponse;
  try {
    ({ value: response } = await deps.jobs.run(
      {
        key: { thread: thread?.id ?? NO_THREAD, tool: 'chat', step: 'chat', hash: requestHash(request) },
        model: model.name,
        // The provider's own budget, as a chat call has always had (fallback included).
        budgetMs: secondsToMs(
          model.provider === 'glm' ? deps.config.glmTimeoutSecs : deps.config.kimiTimeoutSecs,
        ),
        label: `chat with ${model.name}`,
        // Asking the same thing again later is a new question; only a call collecting this job gets this answer.
        once: true,
        work: (deadline, onEvent) => deps.gateway.chat({ ...request, budget: deadline, onEvent }),
      },
      { ctx, signal, watcher: progress },
    ));
  } catch (thrown) {
    if (!isJobPending(thrown)) throw thrown;
    // The call to repeat is the one the agent sent (a prompt.txt stays a file).
    const fields = inProgressFields(thrown, 'chat', sent);
    return jsonResult({
      ...fields,
      content: fields.next_steps,
      content_type: 'text',
      metadata: { tool_name: 'chat', model_requested: model.name },
      continuation_offer: null,
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
      user: question,
      assistant: turn('assistant', response.content, {
        toolName: 'chat',
        modelProvider: response.provider,
        modelName: response.model,
        metadata: {
          usage: { ...response.usage },
          ...(response.costUsd !== undefined && { cost_usd: response.costUsd }),
        },
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
    metadata: {
      ...metadataFor(args.model, response, thinking, args.use_websearch, files, history, memoryWarning),
      ...(promptFile !== undefined && { prompt_file: promptFile }),
      ...(folders.length > 0 && { files_expanded: folders }),
      ...(omitted.length > 0 && { files_omitted: omitted }),
      ...(response.costUsd !== undefined && {
        thread_cost_usd: roundUsd(threadCostUsd(thread?.turns ?? []) + response.costUsd),
      }),
      ...(stored?.replacedFrom && {
        model_retired: stored.replacedFrom,
        model_replaced_from: stored.replacedFrom,
        model_replaced_note: `This thread used ${stored.replacedFrom}, which its vendor retired; it continues on ${model.name}.`,
      }),
    },
  });
}

/** pal's name for a prompt sent as a file, for prompts too big to send inline. */
const PROMPT_FILE = 'prompt.txt';

/**
 * An empty prompt is read from a prompt.txt among the files (pal's convention), which then leaves the file
 * list: it is the question, not material. A prompt given inline leaves a prompt.txt an ordinary file.
 */
async function withPromptFile(
  deps: ToolDeps,
  args: ChatArgs,
): Promise<{ args: ChatArgs; promptFile?: string } | { refused: string }> {
  if (args.prompt.trim() !== '') return { args };
  const path = args.files?.find(file => basename(file) === PROMPT_FILE);
  if (path === undefined) {
    return {
      refused: `prompt is empty: write the question in prompt, or save it to a file named ${PROMPT_FILE} and list its absolute path in files`,
    };
  }
  const read = await deps.files.readOne(path);
  if (!read.ok) return { refused: `Cannot use ${path} as the prompt: ${read.reason}` };
  if (read.file.content.trim() === '')
    return { refused: `prompt is empty, and so is ${path}: write the question in one of them` };
  return {
    args: { ...args, prompt: read.file.content, files: args.files?.filter(file => file !== path) },
    promptFile: path,
  };
}

/** What a continuation took from its thread: earlier turns laid out, and earlier files embedded (newest first). */
interface HistoryUse {
  turnsIncluded: number;
  filesEmbedded: string[];
}

/** Images ride on the new (last) message, after its text; a later call names them in the text only. */
function withImages(messages: readonly ChatMessage[], images: readonly string[]): ChatMessage[] {
  if (images.length === 0) return [...messages];
  const last = messages.at(-1)!;
  const parts: ContentPart[] = [
    { type: 'text', text: String(last.content) },
    ...images.map(url => ({ type: 'image_url' as const, image_url: { url } })),
  ];
  return [...messages.slice(0, -1), { ...last, content: parts }];
}

function metadataFor(
  requested: string | undefined,
  response: ChatResponse,
  thinking: boolean,
  webSearch: boolean,
  files: LoadedFile[],
  history: HistoryUse | undefined,
  memoryWarning: string | undefined,
): Record<string, unknown> {
  return {
    ...callMetadata(response),
    // Only a model the caller named: a default or an automatic choice was not requested.
    ...(requested !== undefined && { model_requested: requested }),
    thinking,
    use_websearch: webSearch,
    ...(files.length > 0 && { files: files.map(f => f.path) }),
    ...(history && {
      history_turns_included: history.turnsIncluded,
      history_files_embedded: history.filesEmbedded,
    }),
    ...(memoryWarning && { memory_warning: memoryWarning }),
  };
}
