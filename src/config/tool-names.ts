/**
 * The names of the tools, in the order tools/list reports them, and the profiles EXAI_TOOLS accepts. Data
 * only, so the settings can check names at startup; the server factory checks that it registers exactly
 * these.
 */
export const TOOL_NAMES = [
  'chat',
  'challenge',
  'listmodels',
  'status',
  'version',
  'thinkdeep',
  'debug',
  'analyze',
  'codereview',
  'refactor',
  'testgen',
  'planner',
  'precommit',
  'secaudit',
  'docgen',
  'tracer',
  'consensus',
] as const;

export type ToolName = (typeof TOOL_NAMES)[number];

/** What most sessions use; the rest stay one setting away. */
export const TOOL_PROFILES: Readonly<Record<string, readonly ToolName[]>> = {
  compact: [
    'chat',
    'codereview',
    'precommit',
    'debug',
    'thinkdeep',
    'consensus',
    'planner',
    'status',
    'listmodels',
  ],
  all: TOOL_NAMES,
};

export function isToolName(name: string): name is ToolName {
  return (TOOL_NAMES as readonly string[]).includes(name);
}

/**
 * Splits a comma- or space-separated list of tool names and profiles into tool names, or says which entries
 * are unknown and what is valid.
 */
export function parseToolList(
  raw: string,
  options: { profiles: boolean },
): { names: ToolName[] } | { error: string } {
  const entries = raw
    .split(/[\s,]+/)
    .map(s => s.trim().toLowerCase())
    .filter(s => s !== '');
  const names: ToolName[] = [];
  const unknown: string[] = [];
  for (const entry of entries) {
    const profile = options.profiles ? TOOL_PROFILES[entry] : undefined;
    if (profile) names.push(...profile);
    else if (isToolName(entry)) names.push(entry);
    else unknown.push(entry);
  }
  if (unknown.length > 0) {
    const profiles = options.profiles ? ` or a profile (${Object.keys(TOOL_PROFILES).join(', ')})` : '';
    return {
      error: `unknown tool ${unknown.map(u => `"${u}"`).join(', ')}: use tool names${profiles}, separated by commas. Valid tools: ${TOOL_NAMES.join(', ')}`,
    };
  }
  if (names.length === 0) return { error: 'names no tool: leave it unset for all tools' };
  return { names: TOOL_NAMES.filter(n => names.includes(n)) };
}

/** The tools to serve: the allow-list (default all) minus the disabled ones, in tools/list order. */
export function enabledTools(settings: {
  tools: readonly ToolName[] | undefined;
  disabledTools: readonly ToolName[] | undefined;
}): ToolName[] {
  const allowed = settings.tools ?? TOOL_NAMES;
  const disabled = new Set(settings.disabledTools ?? []);
  return TOOL_NAMES.filter(n => allowed.includes(n) && !disabled.has(n));
}
