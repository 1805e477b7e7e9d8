import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/providers/types.js';
import { CHARS_PER_TOKEN, estimateTokens } from '../../src/tokens.js';

/** Messages as the providers build them. */
const tokensOf = (messages: ChatMessage[]) => estimateTokens(messages);

describe('estimateTokens', () => {
  it('counts 3.5 characters per token for Latin text and code, rounding up', () => {
    expect(CHARS_PER_TOKEN).toBe(3.5);
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('x'.repeat(3_500))).toBe(1_000);
    expect(estimateTokens('abcdefg'.repeat(50))).toBe(100);
    expect(estimateTokens('abc')).toBe(1);
  });

  it('counts CJK text at 0.6 tokens per character, character by character in mixed text', () => {
    expect(estimateTokens('你'.repeat(1_000))).toBe(600);
    expect(estimateTokens('你好世界'.repeat(25))).toBe(60);
    expect(estimateTokens('ひらがなカタカナ한국어'.repeat(10))).toBe(66);
    // 70 Latin characters are 20 tokens, 10 ideographs 6 more.
    expect(estimateTokens(`${'a'.repeat(70)}${'漢'.repeat(10)}`)).toBe(26);
  });

  it('counts messages by their text, reasoning and tool-call arguments, and an image as 1,000 tokens', () => {
    expect(tokensOf([{ role: 'user', content: 'x'.repeat(3_500) }])).toBe(1_000);
    expect(
      tokensOf([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'abcdefg' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          ],
        },
      ]),
    ).toBe(1_002);
    expect(
      tokensOf([
        {
          role: 'assistant',
          content: 'x'.repeat(35),
          reasoning_content: 'y'.repeat(35),
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: 'z'.repeat(35) } }],
        },
      ]),
    ).toBe(30);
  });

  it('a message and its text alone cost the same, so budgets built either way agree', () => {
    const text = `${'code();\n'.repeat(40)}注释${'漢'.repeat(7)}`;
    expect(tokensOf([{ role: 'user', content: text }])).toBe(estimateTokens(text));
  });
});
