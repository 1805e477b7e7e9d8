/**
 * The stall timer of one attempt: one timer for its whole life, however many chunks arrive.
 *
 * Content only ever moves the due time later, so instead of clearing and re-creating a timer per chunk (a
 * streamed answer has hundreds) the timer stays where it is and, when it fires before the due time, re-arms
 * for what is left. It is never late: after content the due time (`idle` after the latest content) only moves
 * later, and before any content it looks at least once per idle window, the soonest a first chunk's idle
 * window could end.
 */
export class Watchdog {
  readonly #started = performance.now();
  readonly #firstMs: number;
  readonly #idleMs: number;
  readonly #onStall: (what: string, ms: number) => void;
  #lastContent: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(firstMs: number, idleMs: number, onStall: (what: string, ms: number) => void) {
    this.#firstMs = firstMs;
    this.#idleMs = idleMs;
    this.#onStall = onStall;
    this.#timer = setTimeout(this.#check, Math.min(firstMs, idleMs));
  }

  /** Content arrived: the idle window starts again. */
  content(): void {
    this.#lastContent = performance.now();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  readonly #check = (): void => {
    this.#timer = undefined;
    const due =
      this.#lastContent === undefined ? this.#started + this.#firstMs : this.#lastContent + this.#idleMs;
    const left = due - performance.now();
    if (left > 0) {
      // Before any content, the first chunk may come at any moment and start an idle window that ends
      // before the first-token one: look again no later than one idle window from now.
      const next = this.#lastContent === undefined ? Math.min(left, this.#idleMs) : left;
      this.#timer = setTimeout(this.#check, next);
      return;
    }
    if (this.#lastContent === undefined) this.#onStall('no content arrived', this.#firstMs);
    else this.#onStall('no new content', this.#idleMs);
  };
}
