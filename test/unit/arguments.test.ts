import { describe, expect, it } from 'vitest';
import { closest, prepareArguments } from '../../src/toolkit/arguments.js';

const KNOWN = ['step', 'findings', 'relevant_files', 'files_checked', 'continuation_id', 'confidence'];

describe('reading arguments sent the pal and EXAI way', () => {
  it.each([
    ['relevant_file', 'relevant_files'],
    ['Relevant_Files', 'relevant_files'],
    ['continuation', 'continuation_id'],
    ['findngs', 'findings'],
    ['confidance', 'confidence'],
    ['colour', undefined],
    ['id', undefined],
  ])('suggests %s → %s', (name, expected) => {
    expect(closest(name, KNOWN)).toBe(expected);
  });

  it('maps an alias, merges it with our own list, keeps our field first, and names what had no effect', () => {
    const { args, notes } = prepareArguments(
      'chat',
      { files: ['/a'], absolute_file_paths: ['/a', '/b'], cwd: '/x', flies: [] },
      {
        known: ['files', 'prompt'],
        aliases: {
          absolute_file_paths: { map: value => ({ files: value }) },
          cwd: { ignored: 'not needed' },
        },
      },
    );
    expect(args).toEqual({ files: ['/a', '/b'] });
    expect(notes).toEqual({
      mapped: { absolute_file_paths: 'files' },
      ignored: ['cwd (not needed)', 'flies (did you mean files?)'],
    });
  });

  it('translates another server’s enum values and leaves ours alone', () => {
    const rules = { known: ['confidence'], valueAliases: { confidence: { partial: 'medium' } } };
    expect(prepareArguments('refactor', { confidence: 'partial' }, rules).args).toEqual({
      confidence: 'medium',
    });
    expect(prepareArguments('refactor', { confidence: 'high' }, rules).args).toEqual({ confidence: 'high' });
    expect(prepareArguments('refactor', { confidence: 'constructor' }, rules).args).toEqual({
      confidence: 'constructor',
    });
  });

  it('reads null as a field left out, as pal and EXAI do', () => {
    const { args, notes } = prepareArguments('debug', { step: 's', continuation_id: null }, { known: KNOWN });
    expect(args).toEqual({ step: 's' });
    expect(notes).toEqual({ mapped: {}, ignored: [] });
  });
});
