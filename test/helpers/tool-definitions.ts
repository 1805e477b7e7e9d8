/** Measures of tools/list shared by the surface tests and the README check. */
import type { Tool } from '@modelcontextprotocol/client';

/** Budgets in characters of JSON: the whole tools/list answer, and what a model reads of each tool. */
export const FULL_LIST_BUDGET = 24_000;
export const MODEL_VIEW_BUDGET = 16_000;

export function modelView(tools: readonly Tool[]): number {
  return JSON.stringify(
    tools.map(t => ({ name: t.name, description: t.description, inputSchema: t.inputSchema })),
  ).length;
}

/**
 * What the Inspector's schema lint reports, restated: a bare `true`/`false` schema, a `type` array, a remote
 * `$ref`, and a schema object with no validation keyword at all (`{}` or description-only).
 */
export function portabilityFindings(schema: unknown, path = ''): string[] {
  if (typeof schema === 'boolean') return [`${path}: bare ${schema}`];
  if (typeof schema !== 'object' || schema === null) return [];
  const node = schema as Record<string, unknown>;
  const found: string[] = [];
  if (Array.isArray(node.type)) found.push(`${path}: type union ${JSON.stringify(node.type)}`);
  if (typeof node.$ref === 'string' && !node.$ref.startsWith('#')) found.push(`${path}: remote $ref`);
  const keywords = Object.keys(node).filter(
    k => !['description', 'title', 'default', 'examples'].includes(k),
  );
  if (keywords.length === 0) found.push(`${path}: untyped schema`);
  for (const key of ['properties', '$defs', 'patternProperties']) {
    const map = node[key];
    if (typeof map === 'object' && map !== null) {
      for (const [name, sub] of Object.entries(map))
        found.push(...portabilityFindings(sub, `${path}/${name}`));
    }
  }
  for (const key of ['items', 'additionalProperties', 'not', 'propertyNames']) {
    if (key in node) found.push(...portabilityFindings(node[key], `${path}/${key}`));
  }
  for (const key of ['anyOf', 'oneOf', 'allOf']) {
    const list = node[key];
    if (!Array.isArray(list)) continue;
    for (const [i, sub] of list.entries()) found.push(...portabilityFindings(sub, `${path}/${key}/${i}`));
  }
  return found;
}
