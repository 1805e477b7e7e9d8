import { describe, expect, it } from 'vitest';
import { ExaiError } from '../../src/errors.js';
import { failedAnalysis, filesNeeded, parseExpertText } from '../../src/workflow/expert-result.js';

describe('expert result parsing', () => {
  it('uses the JSON object as is', () => {
    expect(parseExpertText('{"status":"analysis_complete","summary":"a, b"}')).toEqual({
      status: 'analysis_complete',
      summary: 'a, b',
    });
  });

  it('accepts JSON in a Markdown fence or wrapped in a sentence', () => {
    expect(parseExpertText('```json\n{"status":"no_bug_found"}\n```')).toEqual({ status: 'no_bug_found' });
    expect(
      parseExpertText('Here is my analysis: {"status":"analysis_complete","n":1} Hope it helps.'),
    ).toEqual({
      status: 'analysis_complete',
      n: 1,
    });
  });

  it('keeps prose as raw analysis with a note on why it did not parse', () => {
    const result = parseExpertText('The bug is in the cache.');
    expect(result).toMatchObject({ status: 'analysis_complete', raw_analysis: 'The bug is in the cache.' });
    expect(result.parse_error).toMatch(/^The expert's answer is not the JSON object it was asked for/);
  });

  it('keeps JSON that is not an object as raw analysis', () => {
    expect(parseExpertText('[1, 2]')).toMatchObject({ status: 'analysis_complete', raw_analysis: '[1, 2]' });
    expect(String(parseExpertText('[1, 2]').parse_error)).toContain('an array, not an object');
  });

  it('reports an empty answer as empty_response', () => {
    expect(parseExpertText('  \n')).toMatchObject({ status: 'empty_response', raw_analysis: '' });
  });

  it('turns a timeout into analysis_timeout and anything else into analysis_error', () => {
    const timeout = failedAnalysis(new ExaiError('timeout', 'expert analysis timed out after 0.5 s'), 500);
    expect(timeout).toEqual({
      status: 'analysis_timeout',
      error: 'Expert analysis did not finish: expert analysis timed out after 0.5 s.',
      raw_analysis: '',
      timeout_duration: '0.5 s',
    });
    expect(failedAnalysis(new ExaiError('upstream_error', 'GLM glm-4.6: HTTP 500'), 500)).toMatchObject({
      status: 'analysis_error',
      error: 'Expert analysis failed: GLM glm-4.6: HTTP 500',
    });
  });

  it('reads files_needed whatever shape the expert used', () => {
    expect(filesNeeded({ files_needed: ['/a.ts', 3, ''] })).toEqual(['/a.ts']);
    expect(filesNeeded({ files_needed: '/b.ts' })).toEqual(['/b.ts']);
    expect(filesNeeded({ status: 'x' })).toEqual([]);
  });
});
