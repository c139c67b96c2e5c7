// Load a PyTorch state dict of TorchCFM's UNetModelWrapper into the ADM U-Net's variables:
// names checked one to one, shapes checked (naming a preset that fits), layouts transposed.
import type { StateDictTensor, tf } from "../../../core/mod.ts";
import { ADM_PRESETS, type AdmConfig } from "./config.ts";
import { buildAdmNet } from "./network.ts";
import { AdmParams, type ParamEntry, toTfLayout } from "./params.ts";

/**
 * The state-dict names and PyTorch shapes of a configuration on data of shape [H, W, C], in
 * state_dict order (no tensors are made).
 * @example
 * stateDictShapes(ADM_PRESETS.tiny, [8, 8, 3])[0]; // { name: "time_embed.0.weight", shape: [128, 32] }
 */
export function stateDictShapes(
  cfg: AdmConfig,
  shape: number[],
): Array<{ name: string; shape: number[] }> {
  const p = new AdmParams({ seed: 0, materialize: false });
  buildAdmNet(p, cfg, shape);
  return p.entries.map((e) => ({ name: e.name, shape: e.torchShape }));
}

const same = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
const fmt = (s: number[]) => `[${s.join(", ")}]`;

/**
 * The presets whose state dict on `shape` has exactly these names and shapes.
 * @example
 * fittingPresets(tensors, [32, 32, 3]); // ["torchcfm"] for a TorchCFM CIFAR-10 checkpoint
 */
export function fittingPresets(tensors: Map<string, StateDictTensor>, shape: number[]): string[] {
  return Object.entries(ADM_PRESETS).filter(([, cfg]) => {
    let want: Array<{ name: string; shape: number[] }>;
    try {
      want = stateDictShapes(cfg, shape);
    } catch {
      return false;
    }
    return want.length === tensors.size &&
      want.every((w) => tensors.has(w.name) && same(tensors.get(w.name)!.shape, w.shape));
  }).map(([name]) => name);
}

/**
 * Set every variable from a PyTorch state dict of TorchCFM's UNetModelWrapper (values row-major
 * in PyTorch's layout; conv weights OIHW, linear [out, in]), after checking it whole: a
 * DataParallel "module." prefix on every key is dropped; the first missing and unexpected keys are named;
 * a shape mismatch names the first mismatched key with both shapes and the preset that fits the
 * state dict, where one does. Nothing is assigned unless everything matches.
 * @example
 * loadAdmStateDict({ entries, label: "adm-unet:torchcfm", shape: [32, 32, 3], tensors });
 */
export function loadAdmStateDict(opts: {
  entries: ParamEntry[];
  /** "adm-unet:<preset>", for messages. */
  label: string;
  shape: number[];
  tensors: Map<string, StateDictTensor>;
}): void {
  let tensors = opts.tensors;
  const keys = [...tensors.keys()];
  if (keys.length > 0 && keys.every((k) => k.startsWith("module."))) {
    tensors = new Map(keys.map((k) => [k.slice("module.".length), opts.tensors.get(k)!]));
  }
  const fits = () => {
    const f = fittingPresets(tensors, opts.shape);
    return f.length
      ? `preset ${f.map((p) => `"${p}"`).join(" or ")} fits this state dict`
      : "no preset fits this state dict";
  };
  const expected = new Set(opts.entries.map((e) => e.name));
  const missing = opts.entries.map((e) => e.name).filter((n) => !tensors.has(n));
  const unexpected = [...tensors.keys()].filter((n) => !expected.has(n));
  if (missing.length || unexpected.length) {
    // The verdict first (which preset fits), then the first key of each kind: one short line.
    const more = (n: number) => (n > 1 ? ` and ${n - 1} more` : "");
    const parts = [];
    if (missing.length) parts.push(`missing key "${missing[0]}"${more(missing.length)}`);
    if (unexpected.length) {
      const u = unexpected[0];
      parts.push(`unexpected key "${u}" ${fmt(tensors.get(u)!.shape)}${more(unexpected.length)}`);
    }
    throw new Error(`${opts.label}: state dict does not match (${fits()}): ${parts.join("; ")}`);
  }
  for (const e of opts.entries) {
    const t = tensors.get(e.name)!;
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (!same(t.shape, e.torchShape)) {
      throw new Error(
        `${opts.label}: state dict key "${e.name}" has shape ${fmt(t.shape)}, the model expects ` +
          `${fmt(e.torchShape)}; ${fits()}`,
      );
    }
    if (t.data.length !== n) {
      throw new Error(
        `${opts.label}: state dict key "${e.name}" holds ${t.data.length} values for shape ` +
          `${fmt(t.shape)}`,
      );
    }
  }
  for (const e of opts.entries) {
    const t = tensors.get(e.name)!;
    const value: tf.Tensor = toTfLayout(t.data, e.torchShape, e.layout);
    e.variable.assign(value);
    value.dispose();
  }
}
