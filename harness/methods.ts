// Methods: named (path, coupling, loss) triples with the labels papers use, plus a method for every
// other discovered path, coupling, loss and time sampler (paired with the reference recipe's other
// parts) so a new plugin file of any kind is benchmarked, and recipes composed on the command line.
import type { MethodEntry } from "../results/schema.ts";
import type { Registry } from "./registry.ts";
import { UnknownNameError } from "./registry.ts";
import {
  DEFAULT_TIME_SAMPLER,
  parseTimeSampler,
  SHIPPED_TIME_SAMPLERS,
  type TimeSamplerChoice,
  timeSamplerSpec,
} from "./time-samplers.ts";

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
  // Tong et al.'s CIFAR-10 OT-CFM: sigma 0, so the straight path (TorchCFM's recipe).
  {
    label: "OT-CFM (sigma 0)",
    path: "linear",
    coupling: "minibatch-ot",
    loss: "cfm",
    optional: true,
  },
  {
    label: "OT-CFM (Sinkhorn)",
    path: "cond-ot",
    coupling: "minibatch-ot-sinkhorn",
    loss: "cfm",
    optional: true,
  },
];

/**
 * The reference recipe every auto method varies one part of: FM w/ OT (Lipman et al.'s best row).
 * @example
 * REFERENCE_RECIPE.path; // "cond-ot"
 */
export const REFERENCE_RECIPE = {
  label: "FM w/ OT",
  path: "cond-ot",
  coupling: "independent",
  loss: "cfm",
} as const;

/** A recipe as written: its plugins, and a time sampler spec when it names one. */
export interface Recipe {
  path: string;
  coupling: string;
  loss: string;
  /** A time sampler spec, e.g. "logit-normal" or "logit-normal:scale=0.5". */
  timeSampler?: string;
}

/**
 * The label of a (path, coupling, loss[, time sampler]) recipe that no named method has: the
 * reference recipe's label with what changed, e.g. "FM w/ OT + reversed", "FM w/ cosine",
 * "FM w/ cosine + eps", "FM w/ OT + logit-normal".
 * @example
 * composedLabel({ path: "cond-ot", coupling: "reversed", loss: "cfm" }); // "FM w/ OT + reversed"
 */
export function composedLabel(m: Recipe): string {
  const base = m.path === REFERENCE_RECIPE.path ? REFERENCE_RECIPE.label : `FM w/ ${m.path}`;
  const parts = [base];
  if (m.coupling !== REFERENCE_RECIPE.coupling) parts.push(m.coupling);
  if (m.loss !== REFERENCE_RECIPE.loss) parts.push(m.loss);
  if (m.timeSampler) parts.push(m.timeSampler);
  return parts.join(" + ");
}

/**
 * A recipe written on the command line as `path/coupling/loss[/time-sampler]` (e.g.
 * `cond-ot/reversed/cfm`, `cond-ot/independent/cfm/logit-normal:scale=0.5`), or undefined when
 * `spec` is a method label (labels hold a space; plugin names never do).
 * @example
 * parseRecipe("cond-ot/reversed/cfm"); // { path: "cond-ot", coupling: "reversed", loss: "cfm" }
 */
export function parseRecipe(spec: string): Recipe | undefined {
  // Method labels may hold "/" ("FM w/ OT") but always a space; plugin names never do.
  if (!spec.includes("/") || /\s/.test(spec)) return undefined;
  const parts = spec.split("/").map((x) => x.trim());
  if ((parts.length !== 3 && parts.length !== 4) || parts.some((x) => !x)) {
    throw new UnknownNameError(
      "recipe",
      spec,
      [],
      `--methods "${spec}": a recipe is path/coupling/loss or path/coupling/loss/time-sampler, ` +
        `e.g. cond-ot/minibatch-ot/cfm or cond-ot/independent/cfm/logit-normal`,
    );
  }
  const [path, coupling, loss, timeSampler] = parts;
  return timeSampler ? { path, coupling, loss, timeSampler } : { path, coupling, loss };
}

export interface MethodFilter {
  methods?: string[];
  paths?: string[];
  couplings?: string[];
  losses?: string[];
  /**
   * Time sampler specs (--time-samplers): every selected method without one is also run with
   * each of them ("uniform" is the method itself).
   */
  timeSamplers?: string[];
}

/**
 * A method trained with a time sampler: its label gains " + <spec>", the rest (teacher too) stays.
 * A uniform choice is the method itself.
 * @example
 * withTimeSampler(fmOt, { choice: { name: "u-shaped", params: { a: 4 } }, registry: reg }).label; // "FM w/ OT + u-shaped"
 */
export function withTimeSampler<M extends Omit<MethodEntry, "family">>(
  m: M,
  { choice, registry: reg }: { choice: TimeSamplerChoice; registry: Registry },
): M {
  if (choice.name === DEFAULT_TIME_SAMPLER) return m;
  const spec = timeSamplerSpec(choice, reg.timeSamplers.get(choice.name)!);
  return { ...m, label: `${m.label} + ${spec}`, timeSampler: choice };
}

/**
 * A label "<method> + <time sampler spec>" for a method without a time sampler, or undefined when
 * the label does not end in a loaded time sampler's name (it may be another kind of label).
 */
function timeSamplerLabel(
  reg: Registry,
  label: string,
  methods: Array<Omit<MethodEntry, "family">>,
): Omit<MethodEntry, "family"> | undefined {
  const cut = label.lastIndexOf(" + ");
  if (cut < 0) return undefined;
  const spec = label.slice(cut + 3);
  if (!reg.timeSamplers.has(spec.split(":")[0].trim())) return undefined;
  const base = methods.find((m) => m.label === label.slice(0, cut) && !m.timeSampler);
  if (!base) return undefined;
  return withTimeSampler(base, {
    choice: parseTimeSampler(spec, { registry: reg, where: `--methods "${label}"` }),
    registry: reg,
  });
}

/**
 * Resolve the method list: named methods whose plugins loaded; an auto method for every other
 * path (`FM w/ <path>`), coupling (`FM w/ OT + <coupling>`), loss (`FM w/ OT + <loss>`) and
 * time sampler fmbench does not ship (`FM w/ OT + <sampler>`), each the reference recipe with
 * that one part changed; recipes `path/coupling/loss[/time-sampler]` and labels
 * `<method> + <time sampler spec>` given in `filter.methods`; all filtered by the CLI lists, then
 * crossed with `filter.timeSamplers`. Teachers are added before their students.
 * @example
 * resolveMethods(reg, { methods: ["2-RF"] }).map((m) => m.label); // ["1-RF", "2-RF"]
 * resolveMethods(reg, { methods: ["cond-ot/reversed/cfm"] })[0].label; // "FM w/ OT + reversed"
 */
export function resolveMethods(reg: Registry, filter: MethodFilter = {}): MethodEntry[] {
  const available = (m: Omit<MethodEntry, "family">) =>
    reg.paths.has(m.path) && reg.couplings.has(m.coupling) && reg.losses.has(m.loss);
  const recipes = (filter.methods ?? []).map((spec) => ({ spec, recipe: parseRecipe(spec) }));
  const asked = (m: NamedMethod) =>
    !m.optional || filter.methods?.includes(m.label) || filter.couplings?.includes(m.coupling) ||
    filter.methods?.some((l) => l.startsWith(`${m.label} + `)) ||
    recipes.some(({ recipe: r }) =>
      r && r.path === m.path && r.coupling === m.coupling && r.loss === m.loss
    );
  const all: Omit<MethodEntry, "family">[] = NAMED_METHODS.filter((m) => available(m) && asked(m))
    .map(({ optional: _, ...m }) => m);
  const addOnce = (m: Omit<MethodEntry, "family">) => {
    if (!all.some((x) => x.label === m.label)) all.push(m);
  };
  const ref = REFERENCE_RECIPE;
  const auto = (m: { path: string; coupling: string; loss: string }) => {
    if (!all.some((x) => x.label === composedLabel(m))) all.push({ label: composedLabel(m), ...m });
  };
  const named = (part: "path" | "coupling" | "loss") => new Set(NAMED_METHODS.map((m) => m[part]));
  for (const path of reg.paths.keys()) {
    if (!named("path").has(path)) auto({ path, coupling: ref.coupling, loss: ref.loss });
  }
  for (const [coupling, plugin] of reg.couplings) {
    // A coupling that needs a teacher (reflow-like) has no teacher in the reference recipe.
    if (!named("coupling").has(coupling) && !plugin.needsTeacher) {
      auto({ path: ref.path, coupling, loss: ref.loss });
    }
  }
  for (const loss of reg.losses.keys()) {
    if (!named("loss").has(loss)) auto({ path: ref.path, coupling: ref.coupling, loss });
  }
  // A time sampler fmbench does not ship (a dropped-in file) trains the reference recipe; the
  // shipped ones run when asked for.
  for (const name of reg.timeSamplers.keys()) {
    if (!SHIPPED_TIME_SAMPLERS.includes(name)) {
      const choice = parseTimeSampler(name, { registry: reg, where: `time sampler ${name}` });
      const m = withTimeSampler({
        label: ref.label,
        path: ref.path,
        coupling: ref.coupling,
        loss: ref.loss,
      }, { choice: choice, registry: reg });
      addOnce(m);
    }
  }
  // Recipes asked for on the command line: a named method's label when one has that recipe.
  const labels: string[] = [];
  for (const { spec, recipe } of recipes) {
    if (!recipe) {
      const m = all.some((x) => x.label === spec) ? undefined : timeSamplerLabel(reg, spec, all);
      if (m) addOnce(m);
      labels.push(m?.label ?? spec);
      continue;
    }
    for (
      const [kind, name, map] of [
        ["path", recipe.path, reg.paths],
        ["coupling", recipe.coupling, reg.couplings],
        ["loss", recipe.loss, reg.losses],
      ] as const
    ) {
      if (!map.has(name)) {
        throw new UnknownNameError(`${kind} in recipe ${spec}`, name, [...map.keys()]);
      }
    }
    if (reg.couplings.get(recipe.coupling)!.needsTeacher) {
      const students = NAMED_METHODS.filter((m) => m.teacher).map((m) => m.label);
      throw new UnknownNameError(
        "recipe",
        spec,
        students,
        `--methods "${spec}": coupling ${recipe.coupling} needs a teacher method, so it runs ` +
          `through a named method with one: ${students.join(", ")}`,
      );
    }
    const { timeSampler: tsSpec, ...plain } = recipe;
    const same = all.find((m) =>
      m.path === plain.path && m.coupling === plain.coupling && m.loss === plain.loss &&
      !m.timeSampler
    ) ?? { label: composedLabel(plain), ...plain };
    const m = tsSpec
      ? withTimeSampler(same, {
        choice: parseTimeSampler(tsSpec, { registry: reg, where: `--methods "${spec}"` }),
        registry: reg,
      })
      : same;
    addOnce(m);
    labels.push(m.label);
  }
  if (filter.methods) filter = { ...filter, methods: labels };
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
  // --time-samplers: each kept method without a time sampler also runs with each one listed.
  const choices = (filter.timeSamplers ?? []).map((spec) =>
    parseTimeSampler(spec, { registry: reg, where: "--time-samplers" })
  );
  const crossed: MethodEntry[] = [];
  for (const m of keep) {
    const variants = m.timeSampler
      ? []
      : choices.map((choice) => withTimeSampler(m, { choice, registry: reg }));
    for (const x of [m, ...variants]) {
      if (!crossed.some((y) => y.label === x.label)) crossed.push(x);
    }
  }
  return orderWithTeachers(crossed, withFamily);
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
