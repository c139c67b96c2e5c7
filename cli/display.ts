// The single progress display of a --jobs run: on a terminal, one redrawn line per worker under a
// summary line; in logs, finished-run lines prefixed by worker and a progress line every 10 s.
import {
  fitLine,
  fmtSecs,
  type ProgressSink,
  progressStats,
  type SuiteDisplay,
  terminalColumns,
  type TrainProgress,
} from "../harness/mod.ts";

const enc = new TextEncoder();

/** What the display shows of one worker. */
interface WorkerLine {
  status: string;
  lastPlain: number;
}

/**
 * Progress of N workers in one place. `write` receives raw terminal output (tests pass their
 * own); `tty` picks the redrawn block or plain lines.
 * @example
 * const d = new JobsDisplay(2, 24, { tty: false });
 * d.progress("[1/3] moons · FM w/ OT · mlp", 0).update({ step: 10, total: 100, loss: 1, itPerSec: 5 });
 */
export class JobsDisplay implements SuiteDisplay {
  #lines: WorkerLine[];
  #drawn = 0;
  #lastDraw = 0;
  #runsDone = 0;
  #start = performance.now();
  readonly #tty: boolean;
  readonly #write: (s: string) => void;
  readonly #every: number;
  readonly #columns: () => number | undefined;

  constructor(
    workers: number,
    readonly totalRuns: number,
    opts: {
      tty?: boolean;
      write?: (s: string) => void;
      everySeconds?: number;
      /** The terminal's width (default: terminalColumns(); undefined when unknown). */
      columns?: () => number | undefined;
    } = {},
  ) {
    this.#columns = opts.columns ?? (() => terminalColumns());
    this.#tty = opts.tty ?? Deno.stderr.isTerminal();
    // Plain lines go through console.error (so callers that capture the console see them).
    this.#write = opts.write ??
      (this.#tty
        ? (s) => Deno.stderr.writeSync(enc.encode(s))
        : (s) => console.error(s.endsWith("\n") ? s.slice(0, -1) : s));
    this.#every = (opts.everySeconds ?? 10) * 1000;
    this.#lines = Array.from(
      { length: workers },
      () => ({ status: "starting", lastPlain: -Infinity }),
    );
  }

  /** A line that stays (a finished run, a warning): above the block, or prefixed in logs. */
  log(line: string, worker = 0): void {
    // A run ends in its eval line, a failure, or a skip of a run finished before (resume).
    if (/: eval [\d.]+s|: FAILED:|, skipped \(resume\)$/.test(line)) this.#runsDone++;
    this.#clear();
    this.#write(`[w${worker + 1}] ${line}\n`);
    this.#draw(true);
  }

  /** The progress of a worker's training run; when it ends, the worker is evaluating. */
  progress(label: string, worker = 0): ProgressSink {
    return {
      update: (p) => this.#update(worker, label, p),
      done: (summary) => {
        this.log(`${label} ${summary}`, worker);
        this.status(worker, `${label}: evaluating`);
      },
    };
  }

  #update(worker: number, label: string, p: TrainProgress): void {
    const text = `${label} ${progressStats(p)}`;
    this.status(worker, text);
    const w = this.#lines[worker];
    if (!this.#tty && (performance.now() - w.lastPlain >= this.#every || p.step === p.total)) {
      w.lastPlain = performance.now();
      this.#write(`[w${worker + 1}] ${text}\n`);
    }
  }

  /** Replace a worker's status line (evaluating, idle, done). */
  status(worker: number, text: string): void {
    this.#lines[worker].status = text;
    this.#draw(false);
  }

  /** Remove the block (before the final summary is printed). */
  finish(): void {
    this.#clear();
  }

  #header(): string {
    const secs = (performance.now() - this.#start) / 1000;
    return `fmbench --jobs ${this.#lines.length}: ${this.#runsDone}/${this.totalRuns} runs ` +
      `finished · ${fmtSecs(secs)} elapsed`;
  }

  #clear(): void {
    if (!this.#tty || this.#drawn === 0) return;
    this.#write(`\x1b[${this.#drawn}F\x1b[0J`);
    this.#drawn = 0;
  }

  #draw(force: boolean): void {
    if (!this.#tty) return;
    const now = performance.now();
    if (!force && now - this.#lastDraw < 100) return;
    this.#lastDraw = now;
    // A terminal that reports 0 columns has an unknown width: 120, not every line cut to 20.
    const cols = this.#columns() ?? 120;
    const rows = [this.#header(), ...this.#lines.map((l, i) => `  w${i + 1} ${l.status}`)]
      .map((r) => fitLine(r, cols));
    this.#clear();
    this.#write(rows.map((r) => `\x1b[2K${r}\n`).join(""));
    this.#drawn = rows.length;
  }
}
