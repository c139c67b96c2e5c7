// WebGPU device creation that survives real adapters: wraps navigator.gpu.requestAdapter so that
// tfjs-backend-webgpu's requestDevice gets flat, known feature names and in-range limits, and
// reads adapter.info from a copy taken before the device exists.

/** What the manifest records about a WebGPU adapter. */
export interface AdapterFacts {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for a software adapter (llvmpipe, SwiftShader, WARP). */
  isFallback: boolean;
}

/** What reached the real requestDevice, and what was dropped or changed on the way. */
export interface DeviceRequestRecord {
  requiredFeatures: string[];
  requiredLimits: Record<string, number>;
  /** One line per feature or limit that was dropped or clamped, and per retry. */
  notes: string[];
}

/** The parts of a GPUAdapter this module touches (a fake one in tests). */
export interface AdapterLike {
  readonly features: { has(name: string): boolean };
  readonly limits: Record<string, unknown>;
  readonly info?: Record<string, unknown>;
  readonly isFallbackAdapter?: boolean;
  requestDevice(descriptor?: Record<string, unknown>): Promise<unknown>;
}

/** The parts of navigator.gpu this module touches. */
export interface GpuLike {
  requestAdapter(options?: Record<string, unknown>): Promise<AdapterLike | null>;
}

/**
 * Feature names of the WebGPU specification's GPUFeatureName enum (2025). A requested name must
 * be in this list and advertised by the adapter: Deno rejects any other string as "not a valid
 * enum value", and some versions advertise native-only names they do not accept back.
 * @example
 * WEBGPU_FEATURES.includes("shader-f16"); // true
 */
export const WEBGPU_FEATURES: readonly string[] = [
  "core-features-and-limits",
  "depth-clip-control",
  "depth32float-stencil8",
  "texture-compression-bc",
  "texture-compression-bc-sliced-3d",
  "texture-compression-etc2",
  "texture-compression-astc",
  "texture-compression-astc-sliced-3d",
  "timestamp-query",
  "indirect-first-instance",
  "shader-f16",
  "rg11b10ufloat-renderable",
  "bgra8unorm-storage",
  "float32-filterable",
  "float32-blendable",
  "clip-distances",
  "dual-source-blending",
  "subgroups",
  "texture-formats-tier1",
  "texture-formats-tier2",
  "primitive-index",
];

/** Largest integer a WebIDL [EnforceRange] unsigned long long accepts (2^53 - 1). */
const MAX_LIMIT = Number.MAX_SAFE_INTEGER;

function asNumber(v: unknown): number | undefined {
  if (typeof v === "bigint") return v > BigInt(MAX_LIMIT) ? MAX_LIMIT : Number(v);
  if (typeof v === "number" && Number.isFinite(v)) return v;
  return undefined;
}

function flatten(x: unknown, out: unknown[] = []): unknown[] {
  if (Array.isArray(x)) { for (const y of x) flatten(y, out); }
  else if (x !== undefined && x !== null) out.push(x);
  return out;
}

/**
 * Rewrite a GPUDeviceDescriptor so that Deno's requestDevice accepts it on this adapter:
 * required features become a flat list of distinct strings that are both WebGPU feature names
 * and advertised by the adapter (tfjs 4.22 passes `["bgra8unorm-storage"]` nested in an array);
 * every required limit becomes a number <= 2^53 - 1 and no better than the adapter's own value
 * (BigInt values, such as Deno's maxBufferSize of 2^64 - 1, are converted). Other members pass
 * through unchanged.
 * @example
 * const { descriptor, record } = sanitizeDeviceDescriptor(adapter, {
 *   requiredFeatures: ["timestamp-query", ["bgra8unorm-storage"]],
 *   requiredLimits: { maxBufferSize: adapter.limits.maxBufferSize },
 * });
 */
export function sanitizeDeviceDescriptor(
  adapter: Pick<AdapterLike, "features" | "limits">,
  desc: Record<string, unknown> = {},
): { descriptor: Record<string, unknown>; record: DeviceRequestRecord } {
  const notes: string[] = [];
  const features: string[] = [];
  for (const f of flatten(desc.requiredFeatures)) {
    const name = String(f);
    if (features.includes(name)) continue;
    if (!WEBGPU_FEATURES.includes(name)) notes.push(`feature "${name}" dropped: not a WebGPU name`);
    else if (!adapter.features.has(name)) {
      notes.push(`feature "${name}" dropped: the adapter does not offer it`);
    } else features.push(name);
  }
  const limits: Record<string, number> = {};
  const asked = (desc.requiredLimits ?? {}) as Record<string, unknown>;
  for (const [key, raw] of Object.entries(asked)) {
    if (raw === undefined || raw === null) continue;
    const want = asNumber(raw);
    const have = asNumber(adapter.limits[key]);
    if (want === undefined || want < 0) {
      notes.push(`limit ${key} dropped: value ${String(raw)} is not a non-negative number`);
      continue;
    }
    if (have === undefined) {
      notes.push(`limit ${key} dropped: the adapter does not report it`);
      continue;
    }
    // "min*" limits are alignments (smaller is better); the others are maxima.
    const value = key.startsWith("min") ? Math.max(want, have) : Math.min(want, have, MAX_LIMIT);
    if (value !== raw) {
      notes.push(`limit ${key}: ${String(raw)}${typeof raw === "bigint" ? "n" : ""} -> ${value}`);
    }
    limits[key] = value;
  }
  return {
    descriptor: { ...desc, requiredFeatures: features, requiredLimits: limits },
    record: { requiredFeatures: features, requiredLimits: limits, notes },
  };
}

/**
 * A plain copy of an adapter's identity; `adapter.info` is read here, once.
 * @example
 * const facts = adapterFacts(await navigator.gpu.requestAdapter());
 */
export function adapterFacts(
  adapter: Pick<AdapterLike, "info" | "isFallbackAdapter">,
): AdapterFacts {
  const info = (adapter.info ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" ? v : v === undefined ? "" : String(v));
  return {
    vendor: str(info.vendor),
    architecture: str(info.architecture),
    device: str(info.device),
    description: str(info.description),
    isFallback: Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false),
  };
}

/**
 * One line naming the adapter: vendor, architecture, device id and description.
 * @example
 * describeAdapter({ vendor: "nvidia", architecture: "hopper", device: "0x2335",
 *   description: "NVIDIA H200", isFallback: false }); // "nvidia hopper 0x2335 NVIDIA H200"
 */
export function describeAdapter(f: AdapterFacts): string {
  const name = [f.vendor, f.architecture, f.device, f.description].filter((s) => s).join(" ");
  return `${name || "unknown adapter"}${f.isFallback ? " (software fallback)" : ""}`;
}

/** What the wrapper saw last: the adapter and the device request that reached it. */
let last: { facts?: AdapterFacts; request?: DeviceRequestRecord } = {};

/**
 * The adapter and device request of the last wrapped adapter (after tfjs created its device); a
 * copy, with neither field set before any adapter was wrapped.
 * @example
 * lastWebgpuDevice().request?.requiredFeatures; // what reached requestDevice, sanitised
 */
export function lastWebgpuDevice(): { facts?: AdapterFacts; request?: DeviceRequestRecord } {
  return { ...last };
}

/**
 * Make `adapter` safe for tfjs-backend-webgpu in place: `info` becomes a copy taken now (tfjs
 * reads it after requestDevice, which some Deno versions refuse: "the adapter cannot be reused"),
 * and requestDevice sanitises its descriptor (see sanitizeDeviceDescriptor). If the device still
 * cannot be created, it retries without features, then with the adapter's defaults, and records
 * why. Returns the adapter.
 * @example
 * const adapter = wrapAdapter(await navigator.gpu.requestAdapter());
 * const device = await adapter.requestDevice({ requiredFeatures: [["bgra8unorm-storage"]] });
 */
export function wrapAdapter<A extends AdapterLike>(adapter: A): A {
  if ((adapter as { __fmbenchWrapped?: boolean }).__fmbenchWrapped) return adapter;
  const facts = adapterFacts(adapter);
  const info = { ...snapshotInfo(adapter.info), isFallbackAdapter: facts.isFallback };
  const original = adapter.requestDevice;
  const request = async (desc?: Record<string, unknown>) => {
    const { descriptor, record } = sanitizeDeviceDescriptor(adapter, desc);
    last = { facts, request: record };
    const attempts: Array<[string, Record<string, unknown>]> = [
      ["", descriptor],
      ["without features", { ...descriptor, requiredFeatures: [] }],
      ["with the adapter's default limits", {
        ...descriptor,
        requiredFeatures: [],
        requiredLimits: {},
      }],
    ];
    let firstError: unknown;
    for (const [what, d] of attempts) {
      try {
        const device = await original.call(adapter, d);
        if (what) {
          record.notes.push(`requestDevice retried ${what} after: ${errorLine(firstError)}`);
          record.requiredFeatures = d.requiredFeatures as string[];
          record.requiredLimits = d.requiredLimits as Record<string, number>;
        }
        return device;
      } catch (e) {
        firstError ??= e;
      }
    }
    throw firstError;
  };
  Object.defineProperty(adapter, "info", { value: info, configurable: true });
  Object.defineProperty(adapter, "requestDevice", { value: request, configurable: true });
  Object.defineProperty(adapter, "__fmbenchWrapped", { value: true });
  return adapter;
}

function snapshotInfo(info: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!info || typeof info !== "object") return out;
  // GPUAdapterInfo's members are prototype getters: copy them by name.
  for (
    const k of [
      "vendor",
      "architecture",
      "device",
      "description",
      "subgroupMinSize",
      "subgroupMaxSize",
      "isFallbackAdapter",
    ]
  ) {
    const v = (info as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function errorLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0].slice(0, 200);
}

/**
 * Patch `gpu.requestAdapter` (navigator.gpu by default) so every adapter it returns is wrapped
 * by wrapAdapter. Call before tfjs-backend-webgpu's backend factory runs (tf.setBackend). Idempotent.
 * @example
 * installWebgpuDeviceWrapper();
 * await tf.setBackend("webgpu");
 * console.log(lastWebgpuDevice().request);
 */
export function installWebgpuDeviceWrapper(
  // deno-lint-ignore no-explicit-any
  gpu: GpuLike | undefined = (globalThis.navigator as any)?.gpu,
): boolean {
  if (!gpu) return false;
  if ((gpu as { __fmbenchWrapped?: boolean }).__fmbenchWrapped) return true;
  const original = gpu.requestAdapter;
  const requestAdapter = async (options?: Record<string, unknown>) => {
    const adapter = await original.call(gpu, options);
    return adapter ? wrapAdapter(adapter) : adapter;
  };
  Object.defineProperty(gpu, "requestAdapter", { value: requestAdapter, configurable: true });
  Object.defineProperty(gpu, "__fmbenchWrapped", { value: true, configurable: true });
  return true;
}
