/**
 * The tool definitions every agent turn carries: their size stays within budget with every tool on, and the
 * schemas hold nothing a portability linter (the MCP Inspector's --strict check) warns about.
 */
import type { Tool } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FULL_LIST_BUDGET,
  MODEL_VIEW_BUDGET,
  modelView,
  portabilityFindings,
} from '../helpers/tool-definitions.js';
import { startWorkflowServer, type WorkflowServer } from '../helpers/workflow-server.js';

describe('tool definitions', () => {
  let server: WorkflowServer;
  let tools: Tool[];

  beforeAll(async () => {
    server = await startWorkflowServer({});
    ({ tools } = await server.client.listTools());
  });

  afterAll(async () => {
    await server?.close();
  });

  it('fit the budget with all 17 tools on', async () => {
    expect(tools).toHaveLength(17);
    const full = JSON.stringify(await server.client.listTools({}, { cacheMode: 'bypass' }));
    expect(full.length).toBeLessThanOrEqual(FULL_LIST_BUDGET);
    expect(modelView(tools)).toBeLessThanOrEqual(MODEL_VIEW_BUDGET);
  });

  it('carry no zod artefacts: no $schema, no safe-integer bounds, no null branches, no output schemas', () => {
    const text = JSON.stringify(tools);
    expect(text).not.toContain('$schema');
    expect(text).not.toContain(String(Number.MAX_SAFE_INTEGER));
    expect(text).not.toContain('{"type":"null"}');
    expect(text).not.toContain('"additionalProperties":{}');
    expect(text).not.toContain('"description":""');
    for (const tool of tools) expect(tool.outputSchema, tool.name).toBeUndefined();
  });

  it('have schemas a portability linter accepts without a warning', () => {
    const findings = tools.flatMap(t => portabilityFindings(t.inputSchema).map(f => `${t.name}${f}`));
    expect(findings).toEqual([]);
  });

  it('still validate the fields they do not list, with a message that says what to fix', async () => {
    const debug = tools.find(t => t.name === 'debug');
    expect(Object.keys(debug?.inputSchema.properties ?? {})).not.toContain('files_checked');
    const { json } = await server.call('debug', {
      step: 'why does the cache miss?',
      step_number: 1,
      total_steps: 2,
      next_step_required: true,
      findings: 'nothing yet',
      files_checked: ['relative/path.ts'],
    });
    expect(String(json.content)).toContain('"relative/path.ts" is not an absolute path');
  });

  it('still return structuredContent, the same document as the text, without an output schema', async () => {
    const { json, result } = await server.call('chat', { prompt: 'hello', model: 'glm-4.5-flash' });
    expect(result.structuredContent).toEqual(json);
  });
});
