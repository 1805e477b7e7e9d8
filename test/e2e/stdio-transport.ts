/**
 * A client transport that spawns the built server and keeps every line it writes to stdout, so a test can
 * assert that nothing but JSON-RPC ever reaches the protocol channel (one stray log line breaks a client).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/client';
import { BIN, exited, stopChild } from './harness.js';

export class RecordingStdioTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: JSONRPCMessage) => void) | undefined;

  /** Every line the server wrote to stdout, as written. */
  readonly stdoutLines: string[] = [];
  /** Lines that were not a JSON-RPC 2.0 message. */
  readonly badLines: string[] = [];
  stderr = '';
  #child: ChildProcess | undefined;
  #buffer = '';

  constructor(private readonly options: { env: Record<string, string>; cwd: string; args?: string[] }) {}

  get child(): ChildProcess {
    if (!this.#child) throw new Error('transport not started');
    return this.#child;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, [BIN, ...(this.options.args ?? [])], {
      cwd: this.options.cwd,
      env: this.options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#child = child;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.#onData(chunk));
    child.stderr.on('data', chunk => {
      this.stderr += chunk;
    });
    child.stdin.on('error', () => {});
    child.on('error', error => this.onerror?.(error));
    child.on('exit', () => this.onclose?.());
    await once(child, 'spawn');
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    let newline = this.#buffer.indexOf('\n');
    while (newline !== -1) {
      const line = this.#buffer.slice(0, newline).replace(/\r$/, '');
      this.#buffer = this.#buffer.slice(newline + 1);
      newline = this.#buffer.indexOf('\n');
      this.stdoutLines.push(line);
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        message = undefined;
      }
      if (
        typeof message !== 'object' ||
        message === null ||
        (message as { jsonrpc?: unknown }).jsonrpc !== '2.0'
      ) {
        this.badLines.push(line);
        continue;
      }
      this.onmessage?.(message as JSONRPCMessage);
    }
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.#child?.stdin;
    if (!stdin || stdin.destroyed) throw new Error('the server process is gone');
    stdin.write(`${JSON.stringify(message)}\n`);
  }

  /** Closes stdin (the MCP way to end a stdio session) and waits for the exit; kills after a grace period. */
  async close(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.stdin?.end();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>(resolve => {
      timer = setTimeout(() => resolve('late'), 5_000);
    });
    const code = await Promise.race([exited(child), late]);
    clearTimeout(timer);
    if (code === 'late') await stopChild(child);
  }
}
