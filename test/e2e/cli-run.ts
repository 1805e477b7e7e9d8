/** Runs the built `exai-mcp` binary once, as a person would from a shell, and collects what it printed. */
import { spawn } from 'node:child_process';
import { BIN } from './harness.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Node's own flags, before the script (e.g. `--require` a preload). */
  nodeArgs?: string[];
  /** Written to stdin, which is then closed; without it stdin is /dev/null. */
  stdin?: string;
}

export function runCli(
  args: string[],
  env: Record<string, string>,
  cwd: string,
  options: CliOptions = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], {
      cwd,
      env,
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (options.stdin !== undefined) child.stdin?.end(options.stdin);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', d => {
      stdout += d;
    });
    child.stderr?.on('data', d => {
      stderr += d;
    });
    child.once('error', reject);
    child.once('close', code => resolve({ code, stdout, stderr }));
  });
}
