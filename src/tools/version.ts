/**
 * version: exai-mcp's version, the runtime, and the configuration in force. Secrets (the settings table's
 * `secret` flag) are shown only as set or not set; URLs without their credentials (redactUrl).
 */
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Config } from '../config/load.js';
import { SETTINGS, type SettingKey } from '../config/settings.js';
import { redactUrl } from '../observability/redact.js';
import { leanSchema } from '../toolkit/json-schema.js';
import { reportResult } from '../toolkit/output.js';
import { runTool } from '../toolkit/run.js';
import type { ToolDeps } from '../toolkit/types.js';

const DESCRIPTION =
  'Version, runtime and every setting in force with its source; secrets shown only as set or not set, URLs\n' +
  'without the credentials they may hold.';

export function registerVersionTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(
    'version',
    {
      title: 'Version and configuration',
      description: DESCRIPTION,
      inputSchema: leanSchema(z.object({})),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (_args, ctx) =>
      runTool(deps, 'version', ctx, async () => {
        const body = {
          name: 'exai-mcp',
          version: deps.version,
          node: process.version,
          platform: `${process.platform}-${process.arch}`,
          uptime_secs: Math.round((Date.now() - deps.startedAt) / 1000),
          store: deps.store.kind,
          allowed_roots: deps.files.roots,
          config: redactedConfig(deps.config),
        };
        const changed = body.config.filter(c => c.source !== 'default');
        const markdown = [
          `# exai-mcp ${body.version}`,
          '',
          `Node ${body.node} on ${body.platform}; up ${body.uptime_secs} s; store ${body.store}.`,
          `Allowed roots: ${body.allowed_roots.join(', ')}`,
          '',
          `Settings not at their default (${changed.length} of ${body.config.length}; all in structuredContent):`,
          ...changed.map(c => `- ${c.env} = ${JSON.stringify(c.value)} (${c.source})`),
        ].join('\n');
        return reportResult('version', markdown, body);
      }),
  );
}

export interface ConfigEntry {
  env: string;
  value: unknown;
  source: string;
}

export function redactedConfig(config: Config): ConfigEntry[] {
  return (Object.keys(SETTINGS) as SettingKey[]).map(key => {
    const spec = SETTINGS[key];
    const source = config.sources[key];
    const value = config[key];
    return {
      env: source.from === 'default' ? (spec.env[0] ?? key) : source.name,
      value:
        value === undefined
          ? spec.secret
            ? 'not set'
            : null
          : spec.unit === 'url'
            ? redactUrl(String(value))
            : spec.secret
              ? 'set (redacted)'
              : value,
      source: source.from,
    };
  });
}
