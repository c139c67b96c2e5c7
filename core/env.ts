// Read an environment variable without needing --allow-env: absent and not granted read the same.

/**
 * The variable's value, or undefined when it is unset or the process may not read it (no
 * --allow-env for it): optional settings then keep their defaults instead of failing.
 * @example
 * envVar("FMBENCH_BLAS") ?? "auto";
 */
export function envVar(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}
