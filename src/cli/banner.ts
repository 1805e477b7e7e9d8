/** What `exai-mcp http` (and `npm start`) prints on stderr: where it listens and how to connect a client. */
import { basename, isAbsolute, relative } from 'node:path';
import type { App } from '../server/app.js';
import { isWildcardHost } from '../server/http/guards.js';
import type { RunningHttpServer } from '../server/http/server.js';

export function httpBanner(app: App, http: RunningHttpServer): string {
  const local = isWildcardHost(http.host)
    ? http.url.replace(/\/\/[^/]+/, `//127.0.0.1:${http.port}`)
    : http.url;
  const origin = local.replace(/\/mcp$/, '');
  const token = app.config.httpToken !== undefined;
  const auth = token ? ' --header "Authorization: Bearer $EXAI_HTTP_TOKEN"' : '';
  // The server never calls a provider at start-up, so a key is only known to be present, not to work.
  const providers = app.gateway
    .status()
    .map(p =>
      p.configured ? `${p.label} key set, not checked` : `${p.label} has no key (${p.keyVariables[0]})`,
    )
    .join('; ');
  const lines = [
    '',
    `exai-mcp ${app.version} listening on ${http.url}`,
    `  status:    ${origin}/ (live status page${token ? '; its data needs the token' : ''})`,
    `  metrics:   ${origin}/metrics (Prometheus${token ? ', with the token' : ''})`,
    `  health:    ${origin}/healthz`,
    `  providers: ${providers}`,
    `  roots:     ${app.files.unshared ? 'no folder shared (set EXAI_ALLOWED_ROOTS)' : app.files.roots.join(', ')}`,
    `  check:     ${selfCommand()} doctor (tries each key with one tiny call)`,
    '',
    'Add it to Claude Code:',
    `  claude mcp add --transport http exai ${local}${auth}`,
    '',
  ];
  if (!app.gateway.status().some(p => p.configured)) {
    lines.push(
      'No API key is configured: listmodels, status, version, challenge and workflow steps before the last',
      'work; a call that needs a model answers with an error until GLM_API_KEY or KIMI_API_KEY is set',
      '(environment or .env) and the server restarted.',
      '',
    );
  }
  if (app.files.unshared) lines.push(`Files: ${app.files.unshared}.`, '');
  lines.push('Stop with Ctrl-C.', '');
  return lines.join('\n');
}

/**
 * How the user can run this same program again: `exai-mcp` when it was started through the installed
 * command, else `node <script>` (a clone, where `exai-mcp` is not on PATH), relative to the working folder
 * when the script is inside it.
 */
export function selfCommand(
  script: string | undefined = process.argv[1],
  cwd: string = process.cwd(),
): string {
  if (script === undefined || basename(script) === 'exai-mcp') return 'exai-mcp';
  const near = relative(cwd, script);
  const path = near !== '' && !near.startsWith('..') && !isAbsolute(near) ? near : script;
  return `node ${/\s/.test(path) ? `"${path}"` : path}`;
}
