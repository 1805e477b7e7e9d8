/** What `exai-mcp http` (and `npm start`) prints on stderr: where it listens and how to connect a client. */
import type { App } from '../server/app.js';
import type { RunningHttpServer } from '../server/http.js';
import { isWildcardHost } from '../server/http-guards.js';

export function httpBanner(app: App, http: RunningHttpServer): string {
  const local = isWildcardHost(http.host)
    ? http.url.replace(/\/\/[^/]+/, `//127.0.0.1:${http.port}`)
    : http.url;
  const auth = app.config.httpToken ? ' --header "Authorization: Bearer $EXAI_HTTP_TOKEN"' : '';
  const providers = app.gateway
    .status()
    .map(p => (p.configured ? `${p.label} ready` : `${p.label} has no key (${p.keyVariables[0]})`))
    .join(', ');
  const lines = [
    '',
    `exai-mcp ${app.version} listening on ${http.url}`,
    `  health:    ${local.replace(/\/mcp$/, '/healthz')}`,
    `  providers: ${providers}`,
    `  roots:     ${app.files.unshared ? 'no folder shared (set EXAI_ALLOWED_ROOTS)' : app.files.roots.join(', ')}`,
    '',
    'Add it to Claude Code:',
    `  claude mcp add --transport http exai ${local}${auth}`,
    '',
  ];
  if (!app.gateway.status().some(p => p.configured)) {
    lines.push(
      'No API key is configured: listmodels, status, version and challenge work; chat answers with an error',
      'until GLM_API_KEY or KIMI_API_KEY is set (environment or .env) and the server restarted.',
      '',
    );
  }
  if (app.files.unshared) lines.push(`Files: ${app.files.unshared}.`, '');
  lines.push('Stop with Ctrl-C.', '');
  return lines.join('\n');
}
