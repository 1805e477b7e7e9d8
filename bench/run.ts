/**
 * `npm run bench [-- --only overhead,hang --runs 3]`, `npm run soak [-- --minutes 2]`.
 *
 * Each scenario runs in a fresh child process (a clean heap for the RSS figures, no JIT or GC state carried
 * over), and each starts its own fake-provider process. This parent only waits, prints and writes the report.
 */
import { fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startFakeProcess } from './lib/fake-process.js';
import { machineLine, renderScenario, writeReport } from './lib/report.js';
import type { Scenario, ScenarioResult } from './lib/scenario.js';

const SCENARIOS: Record<string, () => Promise<Scenario>> = {
  overhead: async () => (await import('./overhead.js')).overhead,
  mcp: async () => (await import('./mcp-e2e.js')).mcpEndToEnd,
  hang: async () => (await import('./hang-storm.js')).hangStorm,
  burst: async () => (await import('./burst.js')).burst,
  cancel: async () => (await import('./cancel.js')).cancelLatency,
  breaker: async () => (await import('./breaker.js')).breakerRecovery,
  soak: async () => (await import('./soak.js')).soak,
  startup: async () => (await import('./startup.js')).stdioStartup,
};
/** The soak has its own command; `npm run bench` runs the rest. */
const BENCH_DEFAULT = ['overhead', 'mcp', 'hang', 'burst', 'cancel', 'breaker', 'startup'];
const REPORT = fileURLToPath(new URL('../docs/BENCHMARKS.md', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
/** A scenario child that runs past this is killed and reported as failed (the soak gets its minutes more). */
const CHILD_LIMIT_MS = 5 * 60_000;

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    runs: { type: 'string' },
    minutes: { type: 'string' },
    /** Soak: the share of calls (0–0.9) that go to a slow model and are abandoned after their in_progress answer. */
    abandon: { type: 'string' },
    child: { type: 'string' },
    'no-report': { type: 'boolean', default: false },
    /** Re-render docs/BENCHMARKS.md from the data it holds, running nothing (after editing the text around it). */
    render: { type: 'boolean', default: false },
  },
});

const flags: Record<string, string> = {};
if (values.minutes !== undefined) flags.minutes = values.minutes;
if (values.abandon !== undefined) flags.abandon = values.abandon;

if (values.child) {
  await runChild(values.child);
} else if (values.render) {
  writeReport(REPORT, [], { command: '', date: '', machine: '' });
  console.error(`re-rendered ${REPORT}`);
} else {
  await runParent();
}

async function runChild(name: string): Promise<void> {
  const load = SCENARIOS[name];
  if (!load) throw new Error(`unknown scenario ${name}`);
  const scenario = await load();
  const fake = await startFakeProcess();
  try {
    const runs = values.runs ? Number(values.runs) : scenario.defaultRuns;
    const result = await scenario.run({
      runs,
      fake,
      log: message => console.error(`  [${name}] ${message}`),
      flags,
    });
    result.runs = runs;
    await new Promise<void>(resolve => process.send?.({ result }, () => resolve()));
  } finally {
    await fake.close();
  }
  process.exit(0);
}

async function runParent(): Promise<void> {
  const names = values.only ? values.only.split(',').map(s => s.trim()) : BENCH_DEFAULT;
  for (const name of names) {
    if (!SCENARIOS[name]) {
      console.error(`unknown scenario '${name}'; known: ${Object.keys(SCENARIOS).join(', ')}`);
      process.exit(2);
    }
  }
  const script =
    names.length === 1 && names[0] === 'soak' && process.env.npm_lifecycle_event === 'soak'
      ? 'soak'
      : 'bench';
  // `npm run soak` is `run.ts --only soak`: the command shown is the one typed, without the script's own part.
  const typed = process.argv.slice(2);
  const args = script === 'soak' && typed[0] === '--only' && typed[1] === 'soak' ? typed.slice(2) : typed;
  const command = `npm run ${script}${args.length ? ` -- ${args.join(' ')}` : ''}`;
  console.log(`# exai-mcp benchmarks: ${machineLine()}`);
  console.log(`# ${command}\n`);

  const results: ScenarioResult[] = [];
  let failed = 0;
  for (const name of names) {
    const started = performance.now();
    const load = loadavg()
      .map(x => x.toFixed(2))
      .join(' / ');
    console.error(`running ${name}… (load average ${load})`);
    try {
      const result = await runInChild(name);
      result.loadAtStart = load;
      results.push(result);
      console.log(`## ${result.title}\n\n${renderScenario(result)}\n`);
      console.error(`${name}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      failed++;
      console.error(`${name} failed: ${(error as Error).message}`);
    }
  }
  if (!values['no-report'] && results.length > 0) {
    writeReport(REPORT, results, {
      command,
      date: `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      machine: machineLine(),
    });
    console.error(`wrote ${REPORT}`);
  }
  process.exitCode = failed > 0 ? 1 : 0;
}

function runInChild(name: string): Promise<ScenarioResult> {
  const args = ['--child', name];
  if (values.runs) args.push('--runs', values.runs);
  if (values.minutes) args.push('--minutes', values.minutes);
  if (values.abandon) args.push('--abandon', values.abandon);
  const child = fork(SELF, args, {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const limitMs = CHILD_LIMIT_MS + (name === 'soak' ? Number(values.minutes ?? 10) * 60_000 : 0);
  return new Promise<ScenarioResult>((resolve, reject) => {
    let result: ScenarioResult | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} ran longer than ${limitMs / 60_000} minutes; killed`));
    }, limitMs);
    child.on('message', (message: { result: ScenarioResult }) => {
      result = message.result;
    });
    child.on('exit', code => {
      clearTimeout(timer);
      if (result) resolve(result);
      else reject(new Error(`${name} exited with code ${code} without a result`));
    });
  });
}
