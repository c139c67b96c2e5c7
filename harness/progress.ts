// Progress reporting: a redrawn bar per training run on a terminal, periodic plain lines otherwise.
import type { TrainProgress } from "./train.ts";

export interface ProgressSink {
  update(p: TrainProgress): void;
  done(summary: string): void;
}

/**
 * Where a suite run shows itself: the CLI's terminal display, a --jobs worker's messages to its
 * parent, or a test's capture. `worker` is the 0-based --jobs worker a line comes from (absent in
 * a single process).
 * @example
 * const display: SuiteDisplay = { log: (line) => console.error(line) };
 * await runSuite({ ...input, display });
 */
export interface SuiteDisplay {
  /** A line that stays (a finished piece of a run, a warning). */
  log(line: string, worker?: number): void;
  /** The progress of one training run (default: {@link progressFor}). */
  progress?(label: string, worker?: number): ProgressSink;
  /** A --jobs worker's status line (starting, evaluating, done). */
  status?(worker: number, text: string): void;
  /** The run is over: clear anything redrawn, before the summary is printed. */
  finish?(): void;
}

const enc = new TextEncoder();

/**
 * Seconds as "42s" or "3m05s" ("?" when not finite).
 * @example
 * fmtSecs(185); // "3m05s"
 */
export function fmtSecs(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s` : `${s.toFixed(0)}s`;
}

/**
 * A training progress update as one line of text.
 * @example
 * progressStats({ step: 10, total: 100, loss: 0.5, itPerSec: 9 }); // "10/100 loss 0.5000 9.0 it/s ETA 10s"
 */
export function progressStats(p: TrainProgress): string {
  const eta = (p.total - p.step) / p.itPerSec;
  return `${p.step}/${p.total} loss ${p.loss.toFixed(4)} ${p.itPerSec.toFixed(1)} it/s ETA ${
    fmtSecs(eta)
  }`;
}

/**
 * The terminal's width in columns, or undefined when it is not known: no terminal, or one that
 * reports 0 columns (a serial console, some CI runners, a terminal inside a container).
 * @example
 * const width = terminalColumns() ?? 120;
 */
export function terminalColumns(
  size: () => { columns: number } = Deno.consoleSize,
): number | undefined {
  try {
    const { columns } = size();
    return Number.isFinite(columns) && columns > 0 ? columns : undefined;
  } catch {
    return undefined; // not a terminal
  }
}

/**
 * `text` cut to fit one line of a terminal `columns` wide (so that a redrawn line never wraps);
 * unchanged when the width is unknown.
 * @example
 * fitLine("a long progress line", 10); // "a long pr"
 */
export function fitLine(text: string, columns: number | undefined): string {
  return columns === undefined ? text : text.slice(0, Math.max(20, columns - 1));
}

/**
 * A bar on a TTY (stderr), or a line every `every` seconds when not a terminal.
 * @example
 * const sink = progressFor("moons FM w/ OT", { tty: false, every: 30 });
 * sink.update({ step: 500, total: 2000, loss: 0.8312, itPerSec: 120 }); // a line every 30 s
 */
export function progressFor(
  label: string,
  opts: { tty?: boolean; every?: number } = {},
): ProgressSink {
  const tty = opts.tty ?? Deno.stderr.isTerminal();
  const every = (opts.every ?? 10) * 1000;
  let lastLine = 0;
  return {
    update(p) {
      const stats = progressStats(p);
      if (tty) {
        const width = 24;
        const filled = Math.round((p.step / p.total) * width);
        const bar = "█".repeat(filled) + "░".repeat(width - filled);
        const line = fitLine(`${label} ${bar} ${stats}`, terminalColumns());
        Deno.stderr.writeSync(enc.encode(`\r\x1b[2K${line}`));
      } else if (performance.now() - lastLine >= every || p.step === p.total) {
        lastLine = performance.now();
        console.error(`${label} ${stats}`);
      }
    },
    done(summary) {
      if (tty) Deno.stderr.writeSync(enc.encode(`\r\x1b[2K`));
      console.error(`${label} ${summary}`);
    },
  };
}

/**
 * A byte counter for downloads: a redrawn bar on a terminal (stderr), a plain line every `every`
 * seconds otherwise. Call the returned function with bytes done and the total (if known).
 * @example
 * const report = byteProgress("fid weights");
 * report(1 << 20, 92 << 20); // "fid weights ██░░… 1.0 of 92.0 MB"
 */
export function byteProgress(
  label: string,
  opts: { tty?: boolean; every?: number } = {},
): (done: number, total: number | undefined) => void {
  const tty = opts.tty ?? Deno.stderr.isTerminal();
  const every = (opts.every ?? 10) * 1000;
  let last = 0;
  const mb = (b: number) => (b / 1e6).toFixed(1);
  return (done, total) => {
    const finished = total !== undefined && done >= total;
    const now = performance.now();
    if (!finished && now - last < (tty ? 100 : every)) return;
    last = now;
    const of = total ? ` of ${mb(total)} MB` : " MB";
    if (tty) {
      const width = 24;
      const filled = total ? Math.round((Math.min(done, total) / total) * width) : 0;
      const bar = total ? `${"█".repeat(filled)}${"░".repeat(width - filled)} ` : "";
      Deno.stderr.writeSync(enc.encode(`\r\x1b[2K${label} ${bar}${mb(done)}${of}`));
      if (finished) Deno.stderr.writeSync(enc.encode("\n"));
    } else {
      console.error(`${label} ${mb(done)}${of}`);
    }
  };
}
