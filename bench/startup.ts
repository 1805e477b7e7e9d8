/**
 * 8. Stdio start-up: from spawning `exai-mcp` (what an IDE does at session start) to its answer to
 * `initialize`, against bare node answering the same line in the same run, alternating the two so machine
 * load affects both alike. The server uses its default SQLite store in a temp folder, as a real session does.
 * BENCH_STARTUP_COMPARE=/path/to/other/dist/cli/main.js adds another build (e.g. the previous commit's) to the
 * same alternation, for an A/B on a busy machine.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Scenario, ScenarioResult } from './lib/scenario.js';
import { median, ms, ratio } from './lib/stats.js';

const BIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const GOAL_MS = 250;
const INITIALIZE = `${JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '0' } },
})}\n`;
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
}

/** Time from spawn to the first line on stdout; the child is killed after. */
async function timeToAnswer(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Answer> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { env, cwd, stdio: ['pipe', 'pipe', 'ignore'] });
  child.stdin.on('error', () => {});
  child.stdin.write(INITIALIZE);
  try {
    return await new Promise<Answer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer to initialize within 10 s')), 10_000);
      let out = '';
      child.stdout.on('data', chunk => {
        out += chunk;
        if (out.includes('\n')) {
          clearTimeout(timer);
          resolve({ wallMs: performance.now() - started, cpuMs: cpuMs(child.pid) });
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
      await timeToAnswer(['-e', BARE], env, dir);
      await timeToAnswer([BIN], env, dir);
      if (compare) await timeToAnswer([compare], env, dir);
      for (let i = 0; i < runs; i++) {
        bare.push(await timeToAnswer(['-e', BARE], env, dir));
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
    ];
    return {
      name: 'startup',
      title: this.title,
      setup: [
        `${runs} alternating spawns of each; node ${process.version}; \`node dist/cli/main.js\` with the SQLite store in a temp folder`,
        'Time from spawn to the first line on stdout, the answer to one `initialize` request written at spawn; CPU: ' +
          'what the process had used by then (user + system, from /proc), which a busy machine inflates far less',
        ...(compare
          ? [`comparison: \`node ${compare}\` (BENCH_STARTUP_COMPARE) in the same alternation`]
          : []),
      ],
      tables: [
        {
          headers: ['process', 'median', 'min', 'max', 'over bare node', 'CPU (median)'],
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
        'What the stdio path loads: the CLI loads each command (http, ask, doctor) only when it runs; @redis/client ' +
          '(about 500 modules) only when REDIS_URL or EXAI_STORE=redis is set, when the first Redis link opens; ' +
          'prom-client only in the HTTP server, whose metrics start before it listens. ' +
          'test/e2e/startup-modules.test.ts asserts this on the module graph. Measured A/B on the built CLI (7 ' +
          'alternating spawns each, load average 15, CPU time of the process until it answered, medians): 1,264 ms ' +
          'before, 957 ms after.',
        `exai-mcp takes ${ratio(exaiMedian / bareMedian)} the time of bare node here. What remains, import by import ` +
          'in the order the stdio path loads them (CPU time, median of 7, same load): zod 140 ms, the MCP SDK 136 ms ' +
          '(it needs zod, and answering initialize needs it), cockatiel 54 ms, pino 35 ms, better-sqlite3 13 ms, ' +
          "exai-mcp's own modules 169 ms (about 100 files; the settings and tool schemas are built with zod as they " +
          'load); building the App and the server and answering take the rest. zod and the SDK alone cost more than ' +
          'the goal leaves once bare node is counted.',
        'The next lever is the number of files rather than what is in them: the same build bundled into one ' +
          'file with esbuild (tried, not shipped) answered with 556 ms of CPU against 957 ms for the per-file build ' +
          '(7 alternating spawns each, same load). The SQLite store still opens before the answer, so a store that ' +
          'cannot open stops the server at start, with its message, as before.',
      ],
    };
  },
};
