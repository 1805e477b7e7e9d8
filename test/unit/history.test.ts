import { describe, expect, it } from 'vitest';
import {
  buildConversation,
  estimateTokens,
  keptFrom,
  numberLines,
  type PromptMessage,
  referencedFiles,
  tokenBudget,
} from '../../src/memory/history.js';
import type { ConversationTurn } from '../../src/memory/types.js';

function user(content: string, files?: string[]): ConversationTurn {
  return {
    role: 'user',
    content,
    timestamp: '2025-01-01T00:00:00.000Z',
    toolName: 'chat',
    ...(files ? { files } : {}),
  };
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
const roomy = { historyTokens: 100_000, fileTokens: 100_000, maxTurns: 20, tool: 'chat', readFile };

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

describe('numberLines', () => {
  it('prefixes each line with its number right-aligned in four columns and "│ ", as pal and EXAI do', () => {
    expect(numberLines('const a = 1;\n\nexport { a };\n')).toBe(
      '   1│ const a = 1;\n   2│ \n   3│ export { a };',
    );
  });

  it('widens the column past 9999 lines, reads CR LF and CR as line ends, and leaves an empty file empty', () => {
    const numbered = numberLines('x\n'.repeat(10_000)).split('\n');
    expect(numbered).toHaveLength(10_000);
    expect(numbered[0]).toBe('    1│ x');
    expect(numbered.at(-1)).toBe('10000│ x');
    expect(numberLines('a\r\nb\rc')).toBe('   1│ a\n   2│ b\n   3│ c');
    expect(numberLines('')).toBe('');
  });
});

/** Every message's text, in order: what a provider's prefix cache sees. */
const textOf = (messages: readonly PromptMessage[]) => messages.map(m => m.content).join('\n');
const count = (text: string, part: string) => text.split(part).length - 1;

describe('buildConversation', () => {
  it('lays out a first turn as one user message: its files, then the question', () => {
    const built = buildConversation([], user('is this sound?', ['/c.ts']), roomy);
    expect(built.messages).toEqual([
      {
        role: 'user',
        content:
          `--- BEGIN FILE: /c.ts ---\n   1│ ${'C'.repeat(40)}\n--- END FILE: /c.ts ---\n\nis this sound?\n\n` +
          'Files used in this turn: /c.ts',
      },
    ]);
    expect(built).toMatchObject({ filesEmbedded: ['/c.ts'], filesOmitted: [], turnsIncluded: 0 });
  });

  it('lays out earlier turns oldest first as alternating messages, the new question last, marked Turn k/MAX', () => {
    const built = buildConversation([user('first'), assistant('second')], user('third'), roomy);
    expect(built.messages).toEqual([
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'second' },
      { role: 'user', content: 'third\n\n(Turn 3/20)' },
    ]);
    expect(built).toMatchObject({
      turnsIncluded: 2,
      tokensUsed: built.messages.reduce((sum, m) => sum + estimateTokens(m.content), 0),
    });
  });

  it('makes each request begin with the whole previous one: its messages, the answer, then the new turn', () => {
    let turns: ConversationTurn[] = [];
    let previous: PromptMessage[] | undefined;
    for (let n = 1; n <= 4; n++) {
      const question = user(`question ${n}`, n === 1 ? ['/a.ts'] : n === 3 ? ['/c.ts'] : ['/a.ts']);
      const { messages } = buildConversation(turns, question, roomy);
      if (previous) {
        expect(messages.slice(0, previous.length)).toEqual(previous);
        expect(messages.slice(previous.length)).toEqual([
          { role: 'assistant', content: `answer ${n - 1}` },
          expect.objectContaining({ role: 'user' }),
        ]);
      }
      // /a.ts stays where turn 1 embedded it; /c.ts is embedded with the turn that brought it.
      expect(count(textOf(messages), '--- BEGIN FILE: /a.ts ---')).toBe(1);
      expect(messages[0]!.content.startsWith('--- BEGIN FILE: /a.ts ---')).toBe(true);
      previous = messages;
      turns = [...turns, question, assistant(`answer ${n}`)];
    }
    expect(previous!.at(-3)!.content).toContain('--- BEGIN FILE: /c.ts ---');
  });

  it('names the tool of turns recorded by another tool and starts a history that opens with an answer with a user message', () => {
    const step: ConversationTurn = {
      role: 'assistant',
      content: '{"step":"read the cache"}',
      timestamp: '2025-01-01T00:00:00.000Z',
      toolName: 'debug',
      modelName: 'glm-4.6',
      files: ['/c.ts'],
    };
    const built = buildConversation([step, { ...step, content: '{"step":"found it"}' }], user('why?'), roomy);
    expect(built.messages.map(m => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(built.messages[1]!.content).toContain(
      '[Answered by the debug tool via glm-4.6]\n{"step":"read the cache"}',
    );
    expect(built.messages[1]!.content).toContain('{"step":"found it"}');
    // A file named by an answer is embedded with the next user turn, never inside an answer.
    expect(built.messages[2]!.content.startsWith('--- BEGIN FILE: /c.ts ---')).toBe(true);
  });

  it('drops the oldest turns in chunks, down to half the history budget, so the start stays put for several turns', () => {
    const turns = Array.from({ length: 10 }, (_, i) => user(`turn-${i + 1} ${'x'.repeat(396)}`));
    const cost = estimateTokens(`turn-2 ${'x'.repeat(396)}\n\n(Turn 2/20)`);
    const budget = 350;
    const starts: number[] = [];
    for (let n = 1; n <= turns.length; n++) {
      const built = buildConversation(turns.slice(0, n - 1), turns[n - 1]!, {
        ...roomy,
        historyTokens: budget,
      });
      starts.push(n - 1 - built.turnsIncluded);
      // The newest earlier turns are the ones kept, within the budget.
      expect(built.turnsIncluded * cost).toBeLessThanOrEqual(budget);
      if (built.turnsIncluded > 0) expect(textOf(built.messages)).toContain(`turn-${n - 1} `);
    }
    // One turn a call would move the start at every call from the fourth on (0,0,0,0,1,2,3,4,5,6): seven cache
    // misses on the whole history. Halving moves it three times.
    expect(starts).toEqual([0, 0, 0, 0, 3, 3, 3, 6, 6, 6]);

    const built = buildConversation(turns.slice(0, 9), turns[9]!, { ...roomy, historyTokens: budget });
    const text = textOf(built.messages);
    expect(text).toContain('[Turns 1–6 of this conversation were left out to fit the history budget.]');
    for (const n of [7, 8, 9, 10]) expect(text).toContain(`turn-${n} `);
    expect(text).not.toContain('turn-6 ');
    expect(text.indexOf('turn-7 ')).toBeLessThan(text.indexOf('turn-10 '));
  });

  it('keeps the newest turn whenever it alone fits, and never goes over the budget', () => {
    expect(keptFrom([10, 10, 10, 90], 100)).toBe(3);
    expect(keptFrom([10, 120], 100)).toBe(2);
    expect(keptFrom([10, 120, 10], 100)).toBe(2);
    expect(keptFrom([40, 40, 40, 40, 40], 100)).toBe(4);
    expect(keptFrom([], 100)).toBe(0);
  });

  it('keeps the files of dropped turns at the very start, so a trim does not move them', () => {
    const turns = [user(`q1 ${'x'.repeat(396)}`, ['/a.ts']), assistant('a1'), user(`q2 ${'y'.repeat(396)}`)];
    const untrimmed = buildConversation(turns.slice(0, 2), turns[2]!, { ...roomy, historyTokens: 200 });
    const trimmed = buildConversation(turns, user('q3'), { ...roomy, historyTokens: 200 });
    expect(trimmed.turnsIncluded).toBeLessThan(turns.length);
    expect(trimmed.filesEmbedded).toEqual(['/a.ts']);
    const block = `--- BEGIN FILE: /a.ts ---\n   1│ ${'A'.repeat(400)}\n--- END FILE: /a.ts ---`;
    expect(untrimmed.messages[0]!.content.startsWith(block)).toBe(true);
    expect(trimmed.messages[0]!.content.startsWith(block)).toBe(true);
  });

  it('lists each file once, ordered by its newest reference', () => {
    const turns = [user('q1', ['/a.ts', '/b.ts']), user('q2', ['/c.ts']), user('q3', ['/a.ts'])];
    expect(referencedFiles(turns)).toEqual(['/a.ts', '/c.ts', '/b.ts']);
    const built = buildConversation(turns, user('q4'), roomy);
    expect(built.filesEmbedded).toEqual(['/a.ts', '/c.ts', '/b.ts']);
    const text = textOf(built.messages);
    for (const path of ['/a.ts', '/b.ts', '/c.ts'])
      expect(count(text, `--- BEGIN FILE: ${path} ---`)).toBe(1);
    // Each at its first reference, ahead of that turn's question.
    expect(text.indexOf('--- BEGIN FILE: /a.ts ---')).toBeLessThan(text.indexOf('q1'));
    expect(text.indexOf('--- BEGIN FILE: /b.ts ---')).toBeLessThan(text.indexOf('q1'));
    expect(text.indexOf('q1')).toBeLessThan(text.indexOf('--- BEGIN FILE: /c.ts ---'));
    expect(text.indexOf('--- BEGIN FILE: /c.ts ---')).toBeLessThan(text.indexOf('q2'));
  });

  it('embeds files newest first within the file budget, skipping only those that do not fit', () => {
    const turns = [user('q1', ['/c.ts']), user('q2', ['/b.ts']), user('q3', ['/a.ts'])];
    // /a.ts costs ~110 tokens with its markers, /b.ts the same, /c.ts ~20: room for /a.ts and /c.ts only.
    const built = buildConversation(turns, user('q4'), { ...roomy, fileTokens: 150 });
    expect(built.filesEmbedded).toEqual(['/a.ts', '/c.ts']);
    expect(built.filesOmitted).toEqual(['/b.ts']);
    const text = textOf(built.messages);
    expect(text).toContain('Not embedded (unreadable or over the file budget): /b.ts');
    expect(text).not.toContain('BBBB');
    // The note changes as files come and go, so it closes the last message, after everything stable.
    expect(built.messages.at(-1)!.content.endsWith('over the file budget): /b.ts')).toBe(true);
  });

  it("always embeds the new turn's own files, charging them to the file budget first", () => {
    const built = buildConversation([user('q1', ['/c.ts'])], user('q2', ['/a.ts', '/b.ts']), {
      ...roomy,
      fileTokens: 150,
    });
    expect(built.filesEmbedded).toEqual(['/a.ts', '/b.ts']);
    expect(built.filesOmitted).toEqual(['/c.ts']);
  });

  it('omits unreadable files, including when readFile throws', () => {
    const turns = [user('q1', ['/missing.ts', '/throws.ts', '/c.ts'])];
    const built = buildConversation(turns, user('q2'), {
      ...roomy,
      readFile: (p: string) => {
        if (p === '/throws.ts') throw new Error('EACCES');
        return files[p];
      },
    });
    expect(built.filesEmbedded).toEqual(['/c.ts']);
    expect(textOf(built.messages)).toContain(
      'Not embedded (unreadable or over the file budget): /missing.ts, /throws.ts',
    );
  });

  it('charges files to the file budget, not the history budget', () => {
    const turns = [user('q1', ['/a.ts']), user('q2')];
    const built = buildConversation(turns, user('q3'), { ...roomy, historyTokens: 40, fileTokens: 200 });
    expect(built).toMatchObject({ filesEmbedded: ['/a.ts'], turnsIncluded: 2 });
  });
});
