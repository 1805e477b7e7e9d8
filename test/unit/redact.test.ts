import { describe, expect, it } from 'vitest';
import { redactUrl, redactUrlsIn } from '../../src/observability/redact.js';

describe('URL redaction', () => {
  it.each([
    ['https://user:pass@host:8443/v1', 'https://***@host:8443/v1'],
    ['https://ghp_token@api.example/v1', 'https://***@api.example/v1'],
    ['redis://:secret@cache:6379/0', 'redis://***@cache:6379/0'],
    ['rediss://default:pw@cache.example:6380', 'rediss://***@cache.example:6380'],
    ['https://h/v1?api_key=k1&lang=en', 'https://h/v1?api_key=***&lang=en'],
    ['https://h/v1?token=a&token=b&x=1', 'https://h/v1?token=***&token=***&x=1'],
    [
      'https://h/v1?X-Amz-Signature=abc&access_token=t&password=p',
      'https://h/v1?X-Amz-Signature=***&access_token=***&password=***',
    ],
    ['https://h/cb#access_token=t', 'https://h/cb#***'],
  ])('%s is shown as %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });

  it('leaves a URL without credentials as it is', () => {
    for (const url of [
      'https://api.z.ai/api/paas/v4',
      'redis://redis:6379',
      'http://127.0.0.1:9/unset?lang=en',
    ])
      expect(redactUrl(url)).toBe(url);
  });

  it('hides a value it cannot parse rather than guess which part is secret', () => {
    expect(redactUrl('//user:pw@host/no-scheme')).toBe('<unparseable URL, hidden>');
  });

  it('redacts every URL inside a message and keeps the punctuation around it', () => {
    expect(redactUrlsIn('cannot reach redis://:pw@h:1/0. Check https://u:p@x/y?key=k, then retry')).toBe(
      'cannot reach redis://***@h:1/0. Check https://***@x/y?key=***, then retry',
    );
  });

  it('gives the same text when redacting twice', () => {
    const once = redactUrl('https://u:p@h/?token=t');
    expect(redactUrl(once)).toBe(once);
  });
});
