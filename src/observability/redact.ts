/**
 * URLs as they may be shown: in `version`, `status`, `listmodels`, `doctor` and logs. A base URL or REDIS_URL
 * can carry credentials (`https://user:pass@host`, `redis://:secret@host`, `?api_key=…`); the scheme, host,
 * port and path say where the server talks to, which is what a reader needs, and the rest becomes `***`.
 */

/** Query parameters whose value is a credential by the look of their name. */
const SECRET_PARAM =
  /key|token|secret|pass|pwd|auth|sig|credential|session|bearer|jwt|cookie|access|private|^code$/i;

const MASK = '***';

/** `https://user:pw@host:8443/v1?api_key=k&lang=en` → `https://***@host:8443/v1?api_key=***&lang=en`. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not a URL we can take apart, so nothing in it can be told safe.
    return '<unparseable URL, hidden>';
  }
  const hadUserinfo = parsed.username !== '' || parsed.password !== '';
  parsed.username = '';
  parsed.password = '';
  const params = [...parsed.searchParams];
  if (params.some(([name]) => SECRET_PARAM.test(name)))
    parsed.search = new URLSearchParams(
      params.map(([name, value]): [string, string] => [name, SECRET_PARAM.test(name) ? MASK : value]),
    ).toString();
  // A fragment is never needed to find a host, and OAuth-style flows put tokens there.
  if (parsed.hash !== '') parsed.hash = MASK;
  let shown = parsed.toString();
  if (hadUserinfo) shown = shown.replace('//', `//${MASK}@`);
  // URLSearchParams percent-encodes the mask; show it as typed.
  return shown.replaceAll('%2A%2A%2A', MASK);
}

/** Every URL written inside a message (an error text, a log line), redacted in place. */
export function redactUrlsIn(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi, match => {
    // A URL at the end of a sentence keeps its full stop or comma outside.
    const tail = /[.,;:)\]]+$/.exec(match)?.[0] ?? '';
    const url = tail === '' ? match : match.slice(0, -tail.length);
    return `${redactUrl(url)}${tail}`;
  });
}
