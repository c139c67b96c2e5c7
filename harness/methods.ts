// Methods: named (path, coupling, loss) triples with the labels papers use, plus one
// "FM w/ <path>" method for every other discovered path so a new path file is benchmarked.
import type { MethodEntry } from "../results/schema.ts";
import type { Registry } from "./registry.ts";
import { UnknownNameError } from "./registry.ts";

type NamedMethod = Omit<MethodEntry, "family"> & { optional?: boolean };

/**
 * The comparison of Lipman et al. Table 1 (DDPM, Score Matching, ScoreFlow, FM w/ Diffusion, FM w/ OT)
 * plus OT-CFM and rectified flow (1-RF, 2-RF). Optional
 * methods run only when a filter names them (their label or coupling).
 * @example
 * NAMED_METHODS.find((m) => m.label === "2-RF")?.teacher; // "1-RF"
 */
export const NAMED_METHODS: NamedMethod[] = [
  { label: "FM w/ OT", path: "cond-ot", coupling: "independent", loss: "cfm" },
  { label: "FM w/ Diffusion", path: "vp-diffusion", coupling: "independent", loss: "cfm" },
  { label: "DDPM-style", path: "vp-diffusion", coupling: "independent", loss: "eps" },
  { label: "Score Matching", path: "vp-diffusion", coupling: "independent", loss: "dsm" },
  { label: "ScoreFlow", path: "vp-diffusion", coupling: "independent", loss: "scoreflow" },
  { label: "OT-CFM", path: "cond-ot", coupling: "minibatch-ot", loss: "cfm" },
  { label: "1-RF", path: "linear", coupling: "independent", loss: "cfm" },
  { label: "2-RF", path: "linear", coupling: "reflow", loss: "cfm", teacher: "1-RF" },
  {
    label: "OT-CFM (Sinkhorn)",
    path: "cond-ot",
    coupling: "minibatch-ot-sinkhorn",
    loss: "cfm",
    optional: true,
  },
];

export interface MethodFilter {
  methods?: string[];
  paths?: string[];
  couplings?: string[];
  losses?: string[];
}

/**
 * Resolve the method list: named methods whose plugins loaded, auto methods for other paths,
 * filtered by the CLI lists; teachers are added before the methods that need them.
 * @example
 * resolveMethods(reg, { methods: ["2-RF"] }).map((m) => m.label); // ["1-RF", "2-RF"]
 */
export function resolveMethods(reg: Registry, filter: MethodFilter = {}): MethodEntry[] {
  const available = (m: Omit<MethodEntry, "family">) =>
    reg.paths.has(m.path) && reg.couplings.has(m.coupling) && reg.losses.has(m.loss);
  const asked = (m: NamedMethod) =>
    !m.optional || filter.methods?.includes(m.label) || filter.couplings?.includes(m.coupling);
  const all: Omit<MethodEntry, "family">[] = NAMED_METHODS.filter((m) => available(m) && asked(m))
    .map(({ optional: _, ...m }) => m);
  const used = new Set(NAMED_METHODS.map((m) => m.path));
  for (const name of reg.paths.keys()) {
    if (!used.has(name)) {
      all.push({ label: `FM w/ ${name}`, path: name, coupling: "independent", loss: "cfm" });
    }
  }
  const withFamily = all.filter(available).map((m) => ({
    ...m,
    family: reg.paths.get(m.path)!.family,
  }));
  for (
    const [kind, list, map] of [
      ["path", filter.paths, reg.paths],
      ["coupling", filter.couplings, reg.couplings],
      ["loss", filter.losses, reg.losses],
    ] as const
  ) {
    for (const n of list ?? []) {
      if (!map.has(n)) throw new UnknownNameError(kind, n, [...map.keys()]);
    }
  }
  for (const n of filter.methods ?? []) {
    if (!withFamily.some((m) => m.label === n)) {
      throw new UnknownNameError("method", n, withFamily.map((m) => m.label));
    }
  }
  const keep = withFamily.filter((m) =>
    (!filter.methods || filter.methods.includes(m.label)) &&
    (!filter.paths || filter.paths.includes(m.path)) &&
    (!filter.couplings || filter.couplings.includes(m.coupling)) &&
    (!filter.losses || filter.losses.includes(m.loss))
  );
  return orderWithTeachers(keep, withFamily);
}

/**
 * Put each teacher before its students, pulling in teachers that the filter left out.
 * @example
 * orderWithTeachers([twoRf], all).map((m) => m.label); // ["1-RF", "2-RF"]
 */
export function orderWithTeachers(keep: MethodEntry[], all: MethodEntry[]): MethodEntry[] {
  const out: MethodEntry[] = [];
  const visit = (m: MethodEntry, chain: string[]) => {
    if (out.includes(m)) return;
    if (chain.includes(m.label)) {
      throw new Error(`reflow cycle: ${[...chain, m.label].join(" -> ")}`);
    }
    if (m.teacher) {
      const t = all.find((x) => x.label === m.teacher);
      if (!t) {
        throw new Error(`method "${m.label}" needs teacher "${m.teacher}", which is unavailable`);
      }
      visit(t, [...chain, m.label]);
    }
    out.push(m);
  };
  for (const m of keep) visit(m, []);
  return out;
}
