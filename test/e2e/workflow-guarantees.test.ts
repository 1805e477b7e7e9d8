/**
 * The core promises, for every workflow tool, through the real MCP client against the fake provider: a
 * hanging expert answers as analysis_timeout within its budget, a cancel closes the upstream socket,
 * concurrent workflows stay apart, and a workflow survives a restart (SQLite store, new server instance).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';
import {
  EXPERT_TOOLS,
  initRepo,
  modeUrl,
  startWorkflowServer,
  step1Extras,
  tempDir,
  type WorkflowServer,
  walk,
} from '../helpers/workflow-server.js';

const ALL_TOOLS = [...EXPERT_TOOLS, 'planner', 'tracer', 'docgen', 'consensus'];

const FAST_EXPERT = {
  EXPERT_ANALYSIS_TIMEOUT_SECS: '0.5',
  GLM_TIMEOUT_SECS: '0.5',
  KIMI_TIMEOUT_SECS: '0.5',
};

function steps(tool: string, dir: string, name: string, total = 3) {
  const step = (n: number, extra: Record<string, unknown> = {}) => ({
    step: `${name} step ${n}`,
    step_number: n,
    total_steps: total,
    next_step_required: n < total,
    findings: `${name}-finding-${n}`,
    ...extra,
  });
  return [step(1, step1Extras(tool, dir)), ...Array.from({ length: total - 1 }, (_, i) => step(i + 2))];
}

describe.each(ALL_TOOLS)('%s', tool => {
  let fake: FakeProvider;
  let dir: ReturnType<typeof tempDir>;
  const servers: WorkflowServer[] = [];

  beforeEach(async () => {
    fake = await startFakeProvider();
    dir = tempDir();
    if (tool === 'precommit') initRepo(dir.path);
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
    await fake.close();
    dir.cleanup();
  });

  async function start(mode: string, env: Record<string, string> = {}) {
    const server = await startWorkflowServer({
      dir: dir.path,
      env: { GLM_API_URL: modeUrl(fake.url, mode), ...env },
    });
    servers.push(server);
    return server;
  }

  it('two concurrent workflows on one server never see each other’s findings', async () => {
    const s = await start('delay,ms=50', { EXAI_STORE: 'sqlite' });
    const [alpha, beta] = await Promise.all([
      walk(s, tool, steps(tool, dir.path, 'alpha')),
      walk(s, tool, steps(tool, dir.path, 'beta')),
    ]);
    expect(alpha[0]!.continuation_id).not.toBe(beta[0]!.continuation_id);
    // The final answers hold the workflow's own findings (and, for the expert tools, the fake's echo of the
    // expert prompt): never the other workflow's.
    const a = JSON.stringify(alpha.at(-1));
    const b = JSON.stringify(beta.at(-1));
    expect(a).toContain('alpha-finding-1');
    expect(a).not.toContain('beta');
    expect(b).toContain('beta-finding-3');
    expect(b).not.toContain('alpha');
  });

  it('continues after a restart, on a new server instance over the same SQLite store', async () => {
    const s1 = await start('ok', { EXAI_STORE: 'sqlite' });
    const [one, two, three] = steps(tool, dir.path, 'restart');
    const [first] = await walk(s1, tool, [one!]);
    await s1.call(tool, { ...two, continuation_id: first!.continuation_id });
    await s1.close();
    servers.splice(servers.indexOf(s1), 1);
    const s2 = await start('ok', { EXAI_STORE: 'sqlite' });
    const { json, result } = await s2.call(tool, { ...three, continuation_id: first!.continuation_id });
    expect(result.isError).toBeFalsy();
    expect(json.step_number).toBe(3);
    expect(JSON.stringify(json)).toContain('restart-finding-2');
  });

  if (!EXPERT_TOOLS.includes(tool) && tool !== 'consensus') return;

  it('a hanging model answers within its budget while the workflow answers, and the socket closes', async () => {
    const s = await start('hang', FAST_EXPERT);
    const all = steps(tool, dir.path, 'hang', 2);
    // consensus consults at step 1; the others call the expert at the final step.
    const [first] = tool === 'consensus' ? [] : await walk(s, tool, [all[0]!]);
    const started = performance.now();
    const { json } =
      tool === 'consensus'
        ? await s.call(tool, all[0]!)
        : await s.call(tool, { ...all[1], relevant_files: [], continuation_id: first!.continuation_id });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(3_000);
    if (tool === 'consensus') {
      expect(json).toMatchObject({ accumulated_responses: [{ status: 'error', error_kind: 'timeout' }] });
    } else {
      expect(json).toMatchObject({
        status: 'error',
        expert_analysis_status: 'analysis_timeout',
        continuation_id: first!.continuation_id,
      });
    }
    await fake.waitForActive(0, 2_000);
  });

  it('cancelling during the model call closes the upstream socket', async () => {
    const s = await start('hang');
    const all = steps(tool, dir.path, 'cancel', 2);
    const [first] = tool === 'consensus' ? [] : await walk(s, tool, [all[0]!]);
    const controller = new AbortController();
    const args = tool === 'consensus' ? all[0]! : { ...all[1], continuation_id: first!.continuation_id };
    const call = s.call(tool, args, { signal: controller.signal });
    await vi.waitFor(() => expect(fake.stats().activeRequests).toBe(1), { timeout: 5_000, interval: 10 });
    controller.abort(new Error('the user pressed Esc'));
    await expect(call).rejects.toThrow();
    await fake.waitForActive(0, 2_000);
  });
});
