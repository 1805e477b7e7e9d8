import { describe, expect, test } from 'vitest';
import { type HeaderBag, header, parseRetryAfter } from '../../src/http/headers.js';

describe('header', () => {
  test.each<[string, HeaderBag, string | undefined]>([
    ['a lower-case name as node:http gives it', { 'content-type': 'application/json' }, 'application/json'],
    ['a name in another case', { 'Content-Type': 'text/plain' }, 'text/plain'],
    ['the first of repeated values', { 'content-type': ['a', 'b'] }, 'a'],
    ['trimmed', { 'content-type': '  text/html ' }, 'text/html'],
    ['an empty value as absent', { 'content-type': '' }, undefined],
    ['an empty lower-case value, then another spelling', { 'content-type': ' ', 'Content-Type': 'x' }, 'x'],
    ['absent', { accept: '*/*' }, undefined],
  ])('reads %s', (_name, headers, expected) => {
    expect(header(headers, 'content-type')).toBe(expected);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-11-20T12:00:00Z');
  test.each<[string, HeaderBag, number | undefined]>([
    ['retry-after-ms in ms, fractions allowed', { 'retry-after-ms': '1500.5' }, 1500.5],
    ['retry-after-ms wins over retry-after', { 'retry-after-ms': '200', 'retry-after': '30' }, 200],
    ['retry-after in seconds', { 'retry-after': '30' }, 30_000],
    ['retry-after in decimal seconds', { 'retry-after': '1.5' }, 1500],
    ['retry-after as an HTTP date', { 'retry-after': 'Thu, 20 Nov 2025 12:00:07 GMT' }, 7000],
    ['header names in any case', { 'Retry-After': '2' }, 2000],
    ['the first of repeated values', { 'retry-after': ['3', '9'] }, 3000],
    [
      'falls back to retry-after when retry-after-ms is garbage',
      { 'retry-after-ms': 'soon', 'retry-after': '4' },
      4000,
    ],
    ['ignores a negative value', { 'retry-after-ms': '-5' }, undefined],
    ['ignores a date in the past', { 'retry-after': 'Thu, 20 Nov 2025 11:59:00 GMT' }, undefined],
    ['ignores garbage', { 'retry-after': 'later please' }, undefined],
    ['ignores an empty value', { 'retry-after': '' }, undefined],
    ['is undefined without the headers', { 'content-type': 'application/json' }, undefined],
  ])('%s', (_name, headers, expected) => {
    expect(parseRetryAfter(headers, now)).toBe(expected);
  });
});
