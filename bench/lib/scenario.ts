/** What a scenario is and what it hands back to the runner and the report. */
import type { FakeProcess } from './fake-process.js';

export interface Goal {
  goal: string;
  measured: string;
  /** undefined: not measured in this run (say why in `measured`). */
  met: boolean | undefined;
}

export interface ResultTable {
  caption?: string;
  headers: string[];
  rows: string[][];
}

export interface ScenarioResult {
  name: string;
  title: string;
  /** What was run, settings included, one line each. */
  setup: string[];
  tables: ResultTable[];
  goals: Goal[];
  notes: string[];
  /** Set by the runner: how many runs the figures are medians of. */
  runs?: number;
  /** Set by the runner: the 1/5/15-minute load averages as the scenario started (other work skews figures). */
  loadAtStart?: string;
}

export interface ScenarioContext {
  runs: number;
  /** A fake-provider process started for this scenario; the scenario starts the instances it needs. */
  fake: FakeProcess;
  /** Progress on stderr, so a long run shows it is alive. */
  log(message: string): void;
  /** Free-form flags from the command line (e.g. --minutes for the soak). */
  flags: Record<string, string>;
}

export interface Scenario {
  name: string;
  title: string;
  defaultRuns: number;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}
