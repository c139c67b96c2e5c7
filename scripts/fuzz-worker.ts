// The fuzz test's worker: runs cases of one reader in a loop, classifying each as accepted,
// cleanly refused, crashed or over the allocation cap; the parent times it out when it hangs.
import { fuzzTargets } from "./fuzz-targets.ts";
import { rand } from "./fuzz-mutate.ts";
import { subSeed } from "../core/rng.ts";

/** What the parent asks: cases [from, to) of `reader`. */
export interface FuzzRequest {
  reader: string;
  seed: number;
  from: number;
  to: number;
  /** Largest single allocation (bytes) a case may make. */
  capBytes: number;
  /** Resident-memory ceiling (bytes) checked after each case. */
  rssBytes: number;
}

/** One case's outcome, posted to the parent. */
export interface FuzzResult {
  i: number;
  outcome: "accepted" | "refused" | "crashed" | "over-cap";
  detail?: string;
}

/** Thrown by the allocation guard: a case asked for more than the cap. */
class OverCap extends Error {}

let cap = Infinity;
let overCap: string | undefined;

/**
 * Route typed-array and ArrayBuffer construction through a check, so an allocation past the cap
 * is refused (and recorded, even if a reader swallowed the error) before it happens.
 */
function installAllocationGuard(): void {
  const g = globalThis as unknown as Record<string, unknown>;
  const names = [
    "ArrayBuffer",
    "Uint8Array",
    "Int8Array",
    "Uint8ClampedArray",
    "Uint16Array",
    "Int16Array",
    "Uint32Array",
    "Int32Array",
    "Float32Array",
    "Float64Array",
    "BigInt64Array",
    "BigUint64Array",
  ];
  for (const name of names) {
    const target = g[name] as { BYTES_PER_ELEMENT?: number } & (new (...a: unknown[]) => object);
    const per = target.BYTES_PER_ELEMENT ?? 1;
    const proxy: unknown = new Proxy(target, {
      construct(t, args, newTarget) {
        const a = args[0];
        const n = typeof a === "number"
          ? a
          : a !== null && typeof a === "object" && !(a instanceof ArrayBuffer) &&
              "length" in (a as object)
          ? Number((a as { length: number }).length)
          : 0;
        if (n * per > cap) {
          overCap = `new ${name}(${n}): ${n * per} bytes, over the cap of ${cap}`;
          throw new OverCap(overCap);
        }
        return Reflect.construct(t, args, newTarget === proxy ? t : newTarget);
      },
    });
    g[name] = proxy;
  }
}

installAllocationGuard();
const targets = new Map((await fuzzTargets()).map((t) => [t.name, t]));
const self = globalThis as unknown as {
  onmessage: (e: MessageEvent<FuzzRequest>) => void;
  postMessage: (m: unknown) => void;
};

function firstLine(e: unknown): string {
  const s = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return JSON.stringify(s.split("\n")[0].slice(0, 300));
}

self.onmessage = async (ev) => {
  const q = ev.data;
  const t = targets.get(q.reader)!;
  for (let i = q.from; i < q.to; i++) {
    const r = rand(subSeed(q.seed, `${q.reader}#${i}`));
    overCap = undefined;
    cap = Infinity; // mutation itself is not under test
    let input: Uint8Array;
    try {
      input = await t.mutate(r.pick(t.seeds), r);
    } catch (e) {
      self.postMessage({
        i,
        outcome: "crashed",
        detail: `the fuzz test's mutation: ${firstLine(e)}`,
      });
      continue;
    }
    cap = q.capBytes;
    let result: FuzzResult;
    try {
      const verdict = await t.read(input);
      result = { i, outcome: verdict };
    } catch (e) {
      result = t.refused(e)
        ? { i, outcome: "refused" }
        : { i, outcome: "crashed", detail: firstLine(e) };
    }
    cap = Infinity;
    if (overCap) result = { i, outcome: "over-cap", detail: overCap };
    const rss = Deno.memoryUsage().rss;
    if (rss > q.rssBytes) {
      result = { i, outcome: "over-cap", detail: `resident memory ${rss} bytes` };
    }
    self.postMessage(result);
  }
  self.postMessage({ done: true });
};
// Every seed must be accepted as it is, or the cases test nothing but the refusal path.
for (const t of targets.values()) {
  for (const seed of t.seeds) {
    const verdict = await Promise.resolve().then(() => t.read(seed)).catch((e) => String(e));
    if (verdict !== "accepted") self.postMessage({ badSeed: `${t.name} (${verdict})` });
  }
}
self.postMessage({ ready: true });
