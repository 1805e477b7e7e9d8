/**
 * 8. Stdio start-up: from spawning `exai-mcp` (what an IDE does at session start) to its answer to
 * `initialize`, against bare node answering the same line in the same run, alternating the two so machine
 * load affects both alike. The server uses its default SQLite store in a temp folder, as a real session does.
 * The client's next messages (`notifications/initialized`, `tools/list`) are written at spawn too, and the
 * time to the tools/list answer is the time to a fully loaded server.
 * BENCH_STARTUP_COMPARE=/path/to/other/dist/cli/main.js adds another build (e.g. the previous commit's) to the
 * same alternation, for an A/B on a busy machine.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Scenario, ScenarioResult } from './lib/scenario.js';
import { median, ms } from './lib/stats.js';

const BIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const GOAL_MS = 250;
const OPENING = [
  {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '0' } },
  },
  { jsonrpc: '2.0', method: 'notifications/initialized' },
  { jsonrpc: '2.0', id: 2, method: 'tools/list' },
]
  .map(m => `${JSON.stringify(m)}\n`)
  .join('');
/** Answers the first line it reads, as a server that loads nothing would. */
const BARE = `process.stdin.once('data', () => process.stdout.write('{"jsonrpc":"2.0","id":1,"result":{}}\\n'));`;

/** Linux clock ticks per second (`getconf CLK_TCK`), the unit of /proc/<pid>/stat's CPU times. */
const CLOCK_TICKS = 100;

/** CPU time (user + system) a process has used so far, in ms; NaN where /proc is not available. */
function cpuMs(pid: number | undefined): number {
  try {
    // Fields after the command name (which may hold spaces, hence the last ')'): utime is the 12th, stime the 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(')').at(-1)?.trim().split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

interface Answer {
  /** Spawn to the first line on stdout. */
  wallMs: number;
  /** CPU time the child had used when its answer arrived: less sensitive to machine load than wall time. */
  cpuMs: number;
  /** Spawn to the answer to tools/list (a server only; bare node answers one line). */
  listMs: number;
}

/** Time from spawn to the first line on stdout (and, with `list`, to the tools/list answer); then killed. */
async function timeToAnswer(
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  list = true,
): Promise<Answer> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { env, cwd, stdio: ['pipe', 'pipe', 'ignore'] });
  child.stdin.on('error', () => {});
  child.stdin.write(OPENING);
  try {
    return await new Promise<Answer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answers within 20 s')), 20_000);
      let out = '';
      let first: { wallMs: number; cpuMs: number } | undefined;
      child.stdout.on('data', chunk => {
        out += chunk;
        if (!first && out.includes('\n'))
          first = { wallMs: performance.now() - started, cpuMs: cpuMs(child.pid) };
        if (!first) return;
        if (!list || out.includes('"tools":[')) {
          clearTimeout(timer);
          resolve({ ...first, listMs: list ? performance.now() - started : Number.NaN });
        }
      });
      child.once('exit', code => {
        clearTimeout(timer);
        reject(new Error(`exited with ${code} before answering`));
      });
    });
  } finally {
    child.kill('SIGKILL');
  }
}

export const stdioStartup: Scenario = {
  name: 'startup',
  title: 'Stdio start-up (spawn → initialize answered)',
  defaultRuns: 21,
  async run({ runs, log }): Promise<ScenarioResult> {
    const dir = mkdtempSync(join(tmpdir(), 'exai-bench-startup-'));
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      EXAI_DATA_DIR: join(dir, 'data'),
      GLM_API_KEY: 'bench-key',
      LOG_LEVEL: 'warn',
    };
    const compare = process.env.BENCH_STARTUP_COMPARE;
    const exai: Answer[] = [];
    const bare: Answer[] = [];
    const other: Answer[] = [];
    try {
      // One warm-up of each: the first spawn pays for the OS file cache.
      await timeToAnswer(['-e', BARE], env, dir, false);
      await timeToAnswer([BIN], env, dir);
      if (compare) await timeToAnswer([compare], env, dir);
      for (let i = 0; i < runs; i++) {
        bare.push(await timeToAnswer(['-e', BARE], env, dir, false));
        exai.push(await timeToAnswer([BIN], env, dir));
        if (compare) other.push(await timeToAnswer([compare], env, dir));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const wall = (answers: Answer[]) => answers.map(a => a.wallMs);
    const exaiMedian = median(wall(exai));
    const bareMedian = median(wall(bare));
    log(`exai ${ms(exaiMedian)}, bare node ${ms(bareMedian)}`);
    const row = (label: string, answers: Answer[]) => [
      label,
      ms(median(wall(answers))),
      ms(Math.min(...wall(answers))),
      ms(Math.max(...wall(answers))),
      answers === bare ? '–' : ms(median(wall(answers)) - bareMedian),
      ms(median(answers.map(a => a.cpuMs))),
      answers === bare ? '–' : ms(median(answers.map(a => a.listMs))),
    ];
    return {
      name: 'startup',
      title: this.title,
      setup: [
        `${runs} alternating spawns of each; node ${process.version}; \`node dist/cli/main.js\` with the SQLite store in a temp folder`,
        'Time from spawn to the first line on stdout, the answer to `initialize` (written at spawn with ' +
          '`notifications/initialized` and `tools/list`, as an IDE sends them); CPU: what the process had used by ' +
          'then (user + system, from /proc), which a busy machine inflates far less; tools/list: time from spawn to ' +
          'its answer, i.e. to a fully loaded server',
        ...(compare
          ? [`comparison: \`node ${compare}\` (BENCH_STARTUP_COMPARE) in the same alternation`]
          : []),
      ],
      tables: [
        {
          headers: [
            'process',
            'median',
            'min',
            'max',
            'over bare node',
            'CPU (median)',
            'tools/list (median)',
          ],
          rows: [
            row('exai-mcp (stdio)', exai),
            ...(compare ? [row('(comparison) the other build', other)] : []),
            row('(baseline) bare node', bare),
          ],
        },
      ],
      goals: [
        {
          goal: `stdio answers initialize ≤ ${GOAL_MS} ms (median)`,
          measured: `${ms(exaiMedian)} (bare node ${ms(bareMedian)})`,
          met: exaiMedian <= GOAL_MS,
        },
      ],
      notes: [
        'How: the stdio server reads stdin while it loads, and answers a first line that is an `initialize` at ' +
          'once (src/server/stdio-early.ts), from the identity the server is built from (src/server/identity.ts: ' +
          'name, version, capabilities, the instructions for the tools EXAI_TOOLS / EXAI_DISABLED_TOOLS serve) with ' +
          'the protocol version negotiated as the SDK does. Once loaded, the server is handed the same request under ' +
          'its own id and what was read since; its answer is checked against the one given (a difference is logged ' +
          'as early_initialize_mismatch) and not written. The answer needs node, the CLI entry and six small ' +
          'modules of ours: test/e2e/startup-modules.test.ts asserts on the module graph that they load no package ' +
          "(no zod, no SDK); test/unit/stdio-early.test.ts that the early answer equals createServer's for several " +
          'protocol versions and tool selections; test/e2e/stdio-early.test.ts that a client gets one answer to ' +
          'initialize and then the full tools/list. Any other first line (server/discover, an initialize with ' +
          '_meta, an invalid EXAI_TOOLS) waits for the full server, as before; so does a terminal (stdin a TTY).',
        'What it costs: tools/list (last column) is answered once the server has loaded, as before. A setting the ' +
          'server refuses (all but the two read early) or a store that cannot open now stops the server just after ' +
          'its answer to initialize rather than before it, with the same message on stderr and exit code 2.',
        'What loading the server costs (the time to tools/list), import by import in the order the stdio path loads ' +
          'them (CPU time, median of 7, load average 15): zod 140 ms, the MCP SDK 136 ms, cockatiel 54 ms, pino 35 ms, ' +
          "better-sqlite3 13 ms, exai-mcp's own modules 169 ms (about 100 files; the settings and tool schemas are " +
          'built with zod as they load). The CLI loads each command (http, ask, doctor) only when it runs; ' +
          '@redis/client (about 500 modules) loads only with REDIS_URL or EXAI_STORE=redis, prom-client only in the ' +
          'HTTP server (same test). The next lever for tools/list is the number of files: the same build bundled ' +
          'into one file with esbuild (tried, not shipped) loaded with 556 ms of CPU against 957 ms per file.',
      ],
    };
  },
};
