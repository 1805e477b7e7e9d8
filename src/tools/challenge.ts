/**
 * challenge: no model call. Wraps the user's pushback in an instruction to reassess critically instead of
 * agreeing by reflex, and returns it for the calling assistant to act on. A tool rather than a prompt the
 * assistant writes itself: a tool call is something the assistant reaches for when the user disagrees.
 */
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { deferredSchema, readArguments, withNotes } from '../toolkit/arguments.js';
import { recordExchange, turn } from '../toolkit/conversation.js';
import { leanSchema } from '../toolkit/json-schema.js';
import { type ContinuationOffer, successResult } from '../toolkit/output.js';
import { runTool } from '../toolkit/run.js';
import type { ToolDeps } from '../toolkit/types.js';

export const challengeInputSchema = z.object({
  prompt: z
    .string()
    .min(1, 'prompt must not be empty')
    .describe("The user's pushback or claim, as they said it."),
});

const CHALLENGE_ARGUMENTS = { known: Object.keys(challengeInputSchema.shape) };

const DESCRIPTION =
  'When the user pushes back ("are you sure?", "that is wrong"): returns an instruction to reassess critically and hold or change your position with reasons, not agree by reflex. No model is called.';

const INSTRUCTIONS =
  'Present the challenge_prompt to yourself and follow it. Reassess the statement carefully and critically ' +
  'before responding. If, after reflection, you find reasons to disagree or qualify it, explain your reasoning. ' +
  'Likewise, if you find reasons to agree, articulate them clearly and justify your agreement.';

export function challengePrompt(statement: string): string {
  return (
    'CRITICAL REASSESSMENT – Do not automatically agree:\n\n' +
    `"${statement}"\n\n` +
    'Carefully evaluate the statement above. Is it accurate, complete, and well-reasoned? Investigate if needed ' +
    'before replying, and stay focused. If you identify flaws, gaps, or misleading points, explain them clearly. ' +
    'Likewise, if you find the reasoning sound, explain why it holds up. Respond with thoughtful analysis: stay ' +
    'to the point and avoid reflexive agreement.'
  );
}

export function registerChallengeTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(
    'challenge',
    {
      title: 'Challenge a statement instead of agreeing by reflex',
      description: DESCRIPTION,
      inputSchema: deferredSchema(leanSchema(challengeInputSchema)),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (raw, ctx) =>
      runTool(deps, 'challenge', ctx, async () => {
        const read = readArguments('challenge', challengeInputSchema, raw, CHALLENGE_ARGUMENTS);
        if ('failed' in read) return read.failed;
        const args = read.value;
        const wrapped = challengePrompt(args.prompt);
        const body = {
          status: 'challenge_accepted',
          original_statement: args.prompt,
          challenge_prompt: wrapped,
          instructions: INSTRUCTIONS,
        };
        let offer: ContinuationOffer | undefined;
        try {
          offer = await recordExchange(deps, {
            thread: undefined,
            toolName: 'challenge',
            user: turn('user', args.prompt, { toolName: 'challenge' }),
            assistant: turn('assistant', wrapped, { toolName: 'challenge' }),
            initialContext: { prompt: args.prompt },
          });
        } catch (error) {
          // The instruction is the point; a thread is a convenience that must not make the tool fail.
          deps.logger.warn({ event: 'memory_write_failed', err: error }, 'could not record the challenge');
        }
        const result = successResult('challenge', JSON.stringify(body, null, 2), {
          contentType: 'json',
          status: 'success',
          offer,
        });
        return withNotes(result, read.notes);
      }),
  );
}
