// Run a function with console.log and console.error captured, for tests of what the CLI prints.

/** What `fn` returned, and what it printed to console.log (`out`) and console.error (`err`). */
export interface Captured<T> {
  value: T;
  out: string;
  err: string;
}

/**
 * Runs `fn` with console.log and console.error captured (not printed), and restores both after.
 * @example
 * const { value, err } = await captureConsole(() => main(["--lr", "0"]));
 * // value === 2, err holds the usage error
 */
export async function captureConsole<T>(fn: () => Promise<T>): Promise<Captured<T>> {
  const log = console.log, error = console.error;
  let out = "", err = "";
  console.log = (...a: unknown[]) => void (out += a.join(" ") + "\n");
  console.error = (...a: unknown[]) => void (err += a.join(" ") + "\n");
  try {
    return { value: await fn(), out, err };
  } finally {
    console.log = log;
    console.error = error;
  }
}
