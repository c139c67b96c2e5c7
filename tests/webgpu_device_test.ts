// WebGPU device creation on an NVIDIA-like fake adapter: what reaches requestDevice, driven by
// the wrapper alone and through tfjs-backend-webgpu 4.22's own backend factory.
import assert from "node:assert/strict";
import { tf } from "../core/tf.ts";
import {
  adapterFacts,
  describeAdapter,
  installWebgpuDeviceWrapper,
  lastWebgpuDevice,
  sanitizeDeviceDescriptor,
  wrapAdapter,
} from "../backend/webgpu-device.ts";

const U64_MAX = 18446744073709551615n;

/**
 * An adapter as Deno reports a discrete NVIDIA GPU: BigInt and > 2^53 limits, timestamp-query,
 * bgra8unorm-storage and shader-f16; requestDevice converts its descriptor as Deno's WebIDL does,
 * and `info` throws once a device exists (denoland/deno#28135).
 */
class FakeNvidiaAdapter {
  readonly features = new Set(["timestamp-query", "bgra8unorm-storage", "shader-f16"]);
  readonly limits: Record<string, unknown> = {
    maxBufferSize: U64_MAX,
    maxStorageBufferBindingSize: 2 ** 32 - 1,
    maxComputeWorkgroupStorageSize: 49152,
    maxComputeWorkgroupsPerDimension: 65535,
    maxComputeWorkgroupSizeX: 1024,
    maxComputeInvocationsPerWorkgroup: 1024,
    minStorageBufferOffsetAlignment: 32,
  };
  requests: Array<Record<string, unknown>> = [];
  private consumed = false;
  /** Feature names this fake "Deno" accepts (a real one rejects names outside its enum). */
  constructor(private accepted = ["timestamp-query", "bgra8unorm-storage", "shader-f16"]) {}

  get info() {
    if (this.consumed) {
      throw new Error(
        "The adapter cannot be reused, as it has been invalidated by a device creation",
      );
    }
    return {
      vendor: "nvidia",
      architecture: "hopper",
      device: "0x2335",
      description: "NVIDIA H200",
      isFallbackAdapter: false,
    };
  }

  requestDevice(desc: Record<string, unknown> = {}): Promise<unknown> {
    this.requests.push(structuredClone(desc));
    for (const f of (desc.requiredFeatures as unknown[]) ?? []) {
      if (typeof f !== "string" || !this.accepted.includes(f)) {
        return Promise.reject(
          new TypeError(
            `'${String(f)}' can not be converted to an enum: not a valid GPUFeatureName`,
          ),
        );
      }
    }
    for (const [k, v] of Object.entries((desc.requiredLimits as object) ?? {})) {
      if (typeof v === "bigint") {
        return Promise.reject(new TypeError("Cannot convert a BigInt value to a number"));
      }
      if (v > Number.MAX_SAFE_INTEGER) {
        return Promise.reject(new TypeError(`${k} is outside the accepted range`));
      }
      const have = this.limits[k];
      if (typeof have === "number" && !k.startsWith("min") && v > have) {
        return Promise.reject(new Error(`Limit '${k}' value ${v} is better than allowed ${have}`));
      }
    }
    this.consumed = true;
    // Enough of a GPUDevice for tfjs's WebGPUBackend constructor (it creates no GPU objects).
    return Promise.resolve({
      features: new Set(desc.requiredFeatures as string[]),
      limits: { ...this.limits, maxBufferSize: 2 ** 40 },
      queue: {},
      createBuffer() {
        throw new Error("fake device: no buffers");
      },
    });
  }
}

/** The descriptor tfjs-backend-webgpu 4.22 (dist/base.js) builds from an adapter. */
function tfjsDescriptor(a: FakeNvidiaAdapter): Record<string, unknown> {
  const l = a.limits;
  return {
    requiredFeatures: ["timestamp-query", ["bgra8unorm-storage"]],
    requiredLimits: {
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    },
  };
}

const EXPECTED = {
  requiredFeatures: ["timestamp-query", "bgra8unorm-storage"],
  requiredLimits: {
    maxComputeWorkgroupStorageSize: 49152,
    maxComputeWorkgroupsPerDimension: 65535,
    maxStorageBufferBindingSize: 2 ** 32 - 1,
    maxBufferSize: Number.MAX_SAFE_INTEGER,
    maxComputeWorkgroupSizeX: 1024,
    maxComputeInvocationsPerWorkgroup: 1024,
  },
};

Deno.test("without the wrapper, tfjs's descriptor fails on the NVIDIA-like adapter", async () => {
  const a = new FakeNvidiaAdapter();
  await assert.rejects(() => a.requestDevice(tfjsDescriptor(a)), /BigInt|enum/);
});

Deno.test("wrapped requestDevice gets flat known features and in-range numeric limits", async () => {
  const a = wrapAdapter(new FakeNvidiaAdapter());
  await a.requestDevice(tfjsDescriptor(a));
  assert.equal(a.requests.length, 1);
  assert.deepEqual(a.requests[0], EXPECTED);
  // shader-f16 was offered but not asked for, so it is not required.
  const rec = lastWebgpuDevice().request!;
  assert.deepEqual(rec.requiredFeatures, EXPECTED.requiredFeatures);
  assert.ok(rec.notes.some((n) => n.startsWith("limit maxBufferSize: 18446744073709551615n ->")));
  // info is the copy taken before the device existed; the fake's own getter would now throw.
  assert.equal(a.info!.vendor, "nvidia");
  assert.equal(a.info!.isFallbackAdapter, false);
});

Deno.test("limits: above the adapter, negative, unknown or alignments are fixed or dropped", () => {
  const a = new FakeNvidiaAdapter();
  const { descriptor, record } = sanitizeDeviceDescriptor(a, {
    label: "x",
    requiredFeatures: [[["shader-f16"]], "shader-f16", "wgpu-native-only", "float32-filterable"],
    requiredLimits: {
      maxStorageBufferBindingSize: 2 ** 40,
      maxComputeWorkgroupSizeX: -1,
      maxFancyThings: 3,
      minStorageBufferOffsetAlignment: 4,
      maxBufferSize: undefined,
    },
  });
  assert.deepEqual(descriptor, {
    label: "x",
    requiredFeatures: ["shader-f16"],
    requiredLimits: {
      maxStorageBufferBindingSize: 2 ** 32 - 1,
      minStorageBufferOffsetAlignment: 32,
    },
  });
  assert.equal(record.notes.length, 6, record.notes.join("; "));
});

Deno.test("a feature the adapter offers but the runtime rejects: retried without features", async () => {
  const a = wrapAdapter(new FakeNvidiaAdapter(["timestamp-query"]));
  await a.requestDevice(tfjsDescriptor(a));
  assert.equal(a.requests.length, 2);
  assert.deepEqual(a.requests[1].requiredFeatures, []);
  assert.deepEqual(a.requests[1].requiredLimits, EXPECTED.requiredLimits);
  const rec = lastWebgpuDevice().request!;
  assert.ok(rec.notes.some((n) => /retried without features after: .*enum/.test(n)), rec.notes[0]);
});

Deno.test("tfjs-backend-webgpu's own factory builds its backend on the wrapped fake adapter", async () => {
  await import("@tensorflow/tfjs-backend-webgpu");
  // deno-lint-ignore no-explicit-any
  const registry = (tf.engine() as any).registryFactory;
  if (!registry.webgpu) {
    console.log("skip: tfjs-backend-webgpu registered no factory (no navigator.gpu here)");
    return;
  }
  const adapter = new FakeNvidiaAdapter();
  const fakeGpu = { requestAdapter: () => Promise.resolve(adapter) };
  const nav = globalThis.navigator;
  Object.defineProperty(nav, "gpu", { value: fakeGpu, configurable: true });
  try {
    // Unwrapped: tfjs fails the way Deno does on a real NVIDIA adapter.
    await assert.rejects(() => registry.webgpu.factory(), /BigInt|enum/);
    adapter.requests = [];
    assert.ok(installWebgpuDeviceWrapper(fakeGpu as never));
    const backend = await registry.webgpu.factory();
    assert.deepEqual(adapter.requests, [EXPECTED]);
    assert.equal(backend.adapterInfo.vendor, "nvidia");
    assert.equal(backend.adapterInfo.architecture, "hopper");
    assert.equal(backend.supportTimestampQuery, true);
    const facts = lastWebgpuDevice().facts!;
    assert.equal(describeAdapter(facts), "nvidia hopper 0x2335 NVIDIA H200");
  } finally {
    // deno-lint-ignore no-explicit-any
    delete (nav as any).gpu;
  }
  assert.notEqual(globalThis.navigator.gpu, fakeGpu);
});

Deno.test("adapterFacts reads old and new fallback flags", () => {
  assert.equal(adapterFacts({ info: { vendor: "x" }, isFallbackAdapter: true }).isFallback, true);
  const f = adapterFacts({ info: { description: "llvmpipe", isFallbackAdapter: true } });
  assert.equal(describeAdapter(f), "llvmpipe (software fallback)");
  assert.equal(describeAdapter(adapterFacts({})), "unknown adapter");
});
