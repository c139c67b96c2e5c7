// Time per image per NFE of the ADM U-Net's forward pass (eval, batch 16 by default, wasm, one
// thread) beside TorchCFM's PyTorch model on the same machine, interleaved pass by pass:
//   PYTHONPATH=/tmp/tcfm deno run -A bench/adm_unet_time.ts [--preset torchcfm] [--batch 16] [--reps 3]
import { parseArgs } from "node:util";
import { tf } from "../core/tf.ts";
import { selectBackend } from "../backend/select.ts";
import { createAdmUNet } from "../plugins/models/adm-unet.ts";

/** Lines of a child's stdout, one at a time. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, nl);
      buf = buf.slice(nl + 1);
    }
  }
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      preset: { type: "string", default: "torchcfm" },
      batch: { type: "string", default: "16" },
      reps: { type: "string", default: "3" },
      backend: { type: "string", default: "wasm" },
      python: { type: "string", default: "/usr/bin/python3" },
    },
  });
  const batch = Number(values.batch), reps = Number(values.reps);
  const info = await selectBackend(values.backend);
  const shape = values.preset === "tiny" ? [8, 8, 3] : [32, 32, 3];
  const model = createAdmUNet({ shape, preset: values.preset!, seed: 0 });
  const x = tf.randomNormal([batch, ...shape], 0, 1, "float32", 1);
  const t = tf.randomUniform([batch], 0, 1, "float32", 2) as tf.Tensor1D;
  const pass = async () => {
    const start = performance.now();
    const y = model.apply(x, t);
    await y.data();
    y.dispose();
    return (performance.now() - start) / 1000;
  };
  await pass(); // warm-up
  const script = new URL("./adm_unet_torch.py", import.meta.url).pathname;
  const child = new Deno.Command(values.python!, {
    args: [script, "serve", "--preset", values.preset!, "--batch", String(batch)],
    env: { OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const out = lines(child.stdout);
  const writer = child.stdin.getWriter();
  const ready = JSON.parse((await out.next()).value!);
  const ours: number[] = [], theirs: number[] = [];
  for (let i = 0; i < reps; i++) {
    ours.push(await pass());
    await writer.write(new TextEncoder().encode("go\n"));
    theirs.push(JSON.parse((await out.next()).value!).seconds);
  }
  await writer.close();
  await child.status;
  const ratios = ours.map((s, i) => s / theirs[i]);
  const perImage = (s: number) => +(1000 * s / batch).toFixed(1);
  console.log(JSON.stringify({
    preset: values.preset,
    params: model.paramCount(),
    batch,
    backend: info.backend,
    device: info.device,
    notes: info.notes,
    torch: ready.torch,
    torchThreads: ready.threads,
    fmbenchSeconds: ours.map((s) => +s.toFixed(3)),
    torchSeconds: theirs.map((s) => +s.toFixed(3)),
    fmbenchMsPerImagePerNfe: perImage(median(ours)),
    torchMsPerImagePerNfe: perImage(median(theirs)),
    medianRatio: +median(ratios).toFixed(2),
    loadavg: Deno.loadavg(),
  }));
  tf.dispose([x, t]);
  model.dispose();
}
