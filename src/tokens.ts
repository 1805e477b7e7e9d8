/**
 * The one token estimate of exai-mcp, without a tokenizer: what a prompt, a file or a stored turn will cost.
 * It sizes the output budget against the context window, checks the spending cap before a call, fits files
 * and history into a model's window, and scales the first-token timeout.
 *
 * Why 3.5 characters per token: English prose runs about 4 (https://help.openai.com/en/articles/4936856), but
 * the text sent here is mostly code, paths and JSON, which split into more, shorter tokens. Every use above is
 * safer with an estimate that is too high than too low: a prompt counted too small overflows the context
 * window (the provider refuses it) or overshoots the spending cap, while one counted too large only leaves
 * some room unused. CJK text costs far more per character, about 0.6 tokens each. An image is a flat
 * 1,000-token allowance: providers count images by their size, which the estimate does not decode.
 */

export const CHARS_PER_TOKEN = 3.5;
const TOKENS_PER_CJK_CHAR = 0.6;
const TOKENS_PER_IMAGE = 1_000;

/** What the estimate reads of a chat message: its text parts, reasoning and tool-call arguments. */
export interface CountedMessage {
  readonly content: string | readonly CountedPart[];
  readonly reasoning_content?: string;
  readonly tool_calls?: readonly { readonly function: { readonly arguments: string } }[];
}

type CountedPart = { readonly type: 'text'; readonly text: string } | { readonly type: 'image_url' };

/** Estimated tokens of a text, or of chat messages (text, reasoning, tool-call arguments and images). */
export function estimateTokens(input: string | readonly CountedMessage[]): number {
  const tally = { latin: 0, cjk: 0, images: 0 };
  if (typeof input === 'string') count(input, tally);
  else
    for (const message of input) {
      if (typeof message.content === 'string') count(message.content, tally);
      // Anything else that is not a part list is left for serialisation to refuse, as a local failure.
      else if (Array.isArray(message.content))
        for (const part of message.content as readonly CountedPart[]) {
          if (part.type === 'text') count(part.text, tally);
          else tally.images++;
        }
      if (message.reasoning_content) count(message.reasoning_content, tally);
      for (const call of message.tool_calls ?? []) count(call.function.arguments, tally);
    }
  return (
    Math.ceil(tally.latin / CHARS_PER_TOKEN + tally.cjk * TOKENS_PER_CJK_CHAR) +
    tally.images * TOKENS_PER_IMAGE
  );
}

function count(text: string, tally: { latin: number; cjk: number }): void {
  for (let i = 0; i < text.length; i++) {
    if (isCjk(text.charCodeAt(i))) tally.cjk++;
    else tally.latin++;
  }
}

function isCjk(code: number): boolean {
  return (
    (code >= 0x3000 && code <= 0x30ff) || // CJK punctuation, Hiragana, Katakana
    (code >= 0x3400 && code <= 0x4dbf) || // CJK Extension A
    (code >= 0x4e00 && code <= 0x9fff) || // CJK Unified Ideographs
    (code >= 0xac00 && code <= 0xd7af) || // Hangul syllables
    (code >= 0xf900 && code <= 0xfaff) || // CJK compatibility ideographs
    (code >= 0xff00 && code <= 0xffef) // full-width forms
  );
}
