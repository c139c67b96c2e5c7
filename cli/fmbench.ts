// One entry point for a self-contained executable (`deno compile`): `fmbench bench|report|
// adapter|unet-step|conv-micro ...`, for machines without Deno (the GPU proof, scripts/).
import { parseArgs } from "node:util";
import { convGradsMicro, convGradsTable, exportUnet, unetMicro } from "../probes/mod.ts";
import {
  BackendUnavailableError,
  lastWebgpuDevice,
  selectBackend,
  tf,
  webgpuAdapter,
} from "../backend/mod.ts";
import { unexpectedMessage } from "./explain-error.ts";

/**
 * The text `fmbench help` prints (also after the error for a missing or unknown command): the
 * commands and their arguments.
 * @example
 * console.log(USAGE); // "fmbench <command> [args]\n\n  bench [flags] ..."
 */
export const USAGE = `fmbench <command> [args]

  bench [flags]        the benchmark (as deno task bench; --help lists its flags)
  report DIR|--merge   re-render or merge reports (as deno task report)
  adapter              the WebGPU adapter, and the device fmbench creates on it, as JSON
  unet-step [--backend NAME] [--preset small] [--batch 128] [--reps 3] [--micro-batch N]
                       time one U-Net training step and one velocity evaluation (JSON)
  conv-micro [BATCH] [REPS]
                       webgpu convolution gradients, tfjs's kernels against fmbench's (Markdown)
  unet-export FILE [PRESET]
                       random U-Net weights, an input and its output (cpu backend) as safetensors,
                       for python3 bench/torch_unet.py --check FILE
`;

/** `fmbench adapter`: what Deno's WebGPU finds and what device tfjs gets on it. */
async function adapter(): Promise<number> {
  const probe = await webgpuAdapter(true);
  const out: Record<string, unknown> = { probe };
  if (probe.facts) {
    try {
      const info = await selectBackend("webgpu");
      // deno-lint-ignore no-explicit-any
      const device = (tf.backend() as any).device;
      const limits: Record<string, unknown> = {};
      for (const k in device.limits) limits[k] = String(device.limits[k]);
      out.backend = info;
      out.deviceRequest = lastWebgpuDevice().request;
      out.deviceFeatures = [...device.features];
      out.deviceLimits = limits;
      const x = tf.tensor([1, 2, 3, 4], [2, 2]);
      out.smokeTest = Array.from(await tf.matMul(x, x).data()); // [7, 10, 15, 22]
    } catch (e) {
      out.error = e instanceof Error ? e.message : String(e);
    }
  }
  console.log(JSON.stringify(out, null, 2));
  return probe.facts && !out.error ? 0 : 1;
}

async function unetStep(args: string[]): Promise<number> {
  const { values: v } = parseArgs({
    args,
    options: {
      backend: { type: "string", default: "webgpu" },
      preset: { type: "string", default: "small" },
      batch: { type: "string", default: "128" },
      reps: { type: "string", default: "3" },
      "micro-batch": { type: "string" },
    },
  });
  const info = await selectBackend(v.backend);
  const r = await unetMicro(info.backend, {
    preset: v.preset,
    batch: Number(v.batch),
    reps: Number(v.reps),
    microBatch: v["micro-batch"] ? Number(v["micro-batch"]) : undefined,
  });
  console.log(JSON.stringify({ ...r, device: info.device, notes: info.notes }, null, 2));
  return 0;
}

async function convMicro(args: string[]): Promise<number> {
  const info = await selectBackend("webgpu");
  const batch = Number(args[0] ?? 128), reps = Number(args[1] ?? 3);
  console.log(`webgpu convolution gradients on ${info.device}\n`);
  console.log(convGradsTable(await convGradsMicro({ batch, reps }), batch));
  return 0;
}

/**
 * Dispatch a command; returns the exit code.
 * @example
 * Deno.exit(await main(Deno.args)); // e.g. main(["report", "runs/x"]) -> 0
 */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "bench":
        return await (await import("./bench.ts")).main(rest, { handleSignals: true });
      case "report":
        return await (await import("./report.ts")).main(rest);
      case "adapter":
        return await adapter();
      case "unet-step":
        return await unetStep(rest);
      case "conv-micro":
        return await convMicro(rest);
      case "unet-export": {
        if (!rest[0]) {
          console.error(`error: unet-export needs an output file\n\n${USAGE}`);
          return 2;
        }
        await selectBackend("cpu");
        await Deno.writeFile(rest[0], await exportUnet(rest[1] ?? "tiny"));
        return 0;
      }
      case undefined:
      case "help":
      case "--help":
      case "-h":
        console.log(USAGE);
        return command === undefined ? 2 : 0;
      default:
        console.error(`error: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof BackendUnavailableError) {
      console.error(`error: ${e.message}`);
      return 2;
    }
    if (e instanceof TypeError && "code" in e && String(e.code).startsWith("ERR_PARSE_ARGS")) {
      console.error(`error: ${command}: ${e.message}\n\n${USAGE}`); // a bad flag (parseArgs)
      return 2;
    }
    console.error(`error: ${unexpectedMessage(e)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
