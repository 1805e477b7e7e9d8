import { describe, expect, it } from 'vitest';
import {
  buildConversationHistory,
  estimateTokens,
  referencedFiles,
  tokenBudget,
} from '../../src/memory/history.js';
import type { ConversationTurn, Thread } from '../../src/memory/types.js';

function thread(turns: ConversationTurn[]): Thread {
  return {
    id: '0f8fad5b-d9cb-469f-a165-70867728950e',
    toolName: 'chat',
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
    turns,
    initialContext: {},
    state: {},
  };
}

function user(content: string, files?: string[]): ConversationTurn {
  return { role: 'user', content, timestamp: '2025-01-01T00:00:00.000Z', ...(files ? { files } : {}) };
}

function assistant(content: string): ConversationTurn {
  return {
    role: 'assistant',
    content,
    timestamp: '2025-01-01T00:00:00.000Z',
    toolName: 'chat',
    modelName: 'glm-4.6',
  };
}

const files: Record<string, string> = {
  '/a.ts': 'A'.repeat(400),
  '/b.ts': 'B'.repeat(400),
  '/c.ts': 'C'.repeat(40),
};
const readFile = (p: string): string | undefined => files[p];
const roomy = { historyTokens: 100_000, fileTokens: 100_000, maxTurns: 20, readFile };

describe('tokenBudget', () => {
  it('splits a window below 300K tokens 60/40 with files 30% and history 50% of content', () => {
    expect(tokenBudget(200_000)).toEqual({
      content: 120_000,
      response: 80_000,
      files: 36_000,
      history: 60_000,
    });
    expect(tokenBudget(299_999).content).toBe(Math.floor(299_999 * 0.6));
  });

  it('splits a window of 300K tokens or more 80/20 with files and history 40% each', () => {
    expect(tokenBudget(300_000)).toEqual({
      content: 240_000,
      response: 60_000,
      files: 96_000,
      history: 96_000,
    });
  });
});

describe('estimateTokens', () => {
  it('counts about four characters per token for Latin text', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abcd'.repeat(100))).toBe(100);
    expect(estimateTokens('abc')).toBe(1);
  });

  it('counts CJK-heavy text at 0.6 tokens per character', () => {
    expect(estimateTokens('你好世界'.repeat(25))).toBe(60);
    const mostlyLatin = `${'a'.repeat(90)}${'漢'.repeat(10)}`;
    expect(estimateTokens(mostlyLatin)).toBe(25);
  });
});

describe('buildConversationHistory', () => {
  it('returns nothing for a thread without turns', () => {
    expect(buildConversationHistory(thread([]), roomy)).toEqual({
      text: '',
      tokensUsed: 0,
      filesEmbedded: [],
      turnsIncluded: 0,
    });
  });

  it('wraps turns oldest first in the continuation markers with a Turn k/MAX line', () => {
    const built = buildConversationHistory(
      thread([user('first'), assistant('second'), user('third')]),
      roomy,
    );
    const { text } = built;
    expect(text.startsWith('=== CONVERSATION HISTORY (CONTINUATION) ===')).toBe(true);
    expect(text.endsWith('=== END CONVERSATION HISTORY ===')).toBe(true);
    expect(text).toContain('Turn 3/20');
    expect(text).toContain('--- Turn 1 (User) ---');
    expect(text).toContain('--- Turn 2 (Assistant using chat via glm-4.6) ---');
    expect(text.indexOf('first')).toBeLessThan(text.indexOf('second'));
    expect(text.indexOf('second')).toBeLessThan(text.indexOf('third'));
    expect(text).not.toContain('FILES REFERENCED');
    expect(built).toMatchObject({ turnsIncluded: 3, tokensUsed: estimateTokens(text) });
  });

  it('keeps the newest turns that fit the history budget and says how many were left out', () => {
    const turns = Array.from({ length: 10 }, (_, i) => user(`turn-${i + 1} ${'x'.repeat(396)}`));
    const built = buildConversationHistory(thread(turns), { ...roomy, historyTokens: 350 });
    expect(built.turnsIncluded).toBe(3);
    expect(built.text).toContain('[Turns 1–7 omitted to fit the history budget.]');
    for (const n of [8, 9, 10]) expect(built.text).toContain(`--- Turn ${n} (User) ---`);
    expect(built.text).not.toContain('turn-7 ');
    expect(built.text.indexOf('turn-8 ')).toBeLessThan(built.text.indexOf('turn-10 '));
  });

  it('lists each file once, ordered by its newest reference', () => {
    const turns = [user('q1', ['/a.ts', '/b.ts']), user('q2', ['/c.ts']), user('q3', ['/a.ts'])];
    expect(referencedFiles(turns)).toEqual(['/a.ts', '/c.ts', '/b.ts']);
    const built = buildConversationHistory(thread(turns), roomy);
    expect(built.filesEmbedded).toEqual(['/a.ts', '/c.ts', '/b.ts']);
    expect(built.text.split('--- BEGIN FILE: /a.ts ---')).toHaveLength(2);
    const section = built.text.indexOf('=== FILES REFERENCED IN THIS CONVERSATION ===');
    expect(section).toBeGreaterThan(0);
    expect(section).toBeLessThan(built.text.indexOf('--- Turn 1'));
  });

  it('embeds files newest first within the file budget, skipping only those that do not fit', () => {
    const turns = [user('q1', ['/c.ts']), user('q2', ['/b.ts']), user('q3', ['/a.ts'])];
    // /a.ts costs ~110 tokens with its markers, /b.ts the same, /c.ts ~20: room for /a.ts and /c.ts only.
    const built = buildConversationHistory(thread(turns), { ...roomy, fileTokens: 150 });
    expect(built.filesEmbedded).toEqual(['/a.ts', '/c.ts']);
    expect(built.text).toContain('Not embedded (unreadable or over the file budget): /b.ts');
    expect(built.text).not.toContain('BBBB');
  });

  it('omits unreadable files, including when readFile throws', () => {
    const turns = [user('q1', ['/missing.ts', '/throws.ts', '/c.ts'])];
    const built = buildConversationHistory(thread(turns), {
      ...roomy,
      readFile: p => {
        if (p === '/throws.ts') throw new Error('EACCES');
        return files[p];
      },
    });
    expect(built.filesEmbedded).toEqual(['/c.ts']);
    expect(built.text).toContain(
      'Not embedded (unreadable or over the file budget): /missing.ts, /throws.ts',
    );
  });

  it('charges files to the file budget, not the history budget', () => {
    const turns = [user('q1', ['/a.ts']), user('q2')];
    const built = buildConversationHistory(thread(turns), { ...roomy, historyTokens: 40, fileTokens: 200 });
    expect(built).toMatchObject({ filesEmbedded: ['/a.ts'], turnsIncluded: 2 });
  });
});
