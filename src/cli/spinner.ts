/**
 * A one-line spinner on stderr while a call waits for its first token: model, elapsed time and attempt.
 * Only on a TTY; elsewhere (pipes, CI, tests) it writes nothing, so logs stay clean.
 */
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface Spinner {
  /** What the line says after the elapsed time, e.g. "attempt 2 after overloaded". */
  note(text: string): void;
  /** Writes a line of its own above the spinner (the spinner redraws on its next tick). */
  print(line: string): void;
  /** Clears the line; idempotent. */
  stop(): void;
}

export function startSpinner(label: string, stream: NodeJS.WriteStream = process.stderr): Spinner {
  if (!stream.isTTY) return { note: () => {}, print: line => stream.write(`${line}\n`), stop: () => {} };
  const started = performance.now();
  let frame = 0;
  let note = 'waiting for the first token';
  let stopped = false;
  const draw = () => {
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    stream.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${label} · ${secs} s · ${note}`);
  };
  draw();
  const timer = setInterval(draw, 100);
  return {
    note(text) {
      note = text;
    },
    print(line) {
      stream.write(`\r\x1b[2K${line}\n`);
      if (!stopped) draw();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      stream.write('\r\x1b[2K');
    },
  };
}
