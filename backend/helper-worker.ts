// A helper thread (started by backend/helper-pool.ts): waits for a call's jobs, claims them one
// at a time, runs each on views of the caller's memory, and counts it done.
import { workerData } from "node:worker_threads";
import { decodeJob, JOB_SLOTS, type JobEnv, runJob } from "./helper-jobs.ts";
import {
  CLAIM,
  claim,
  COUNT_SHIFT,
  fail,
  finish,
  HELPED,
  NEXT_MASK,
  QUIT,
  READY,
  sharedBlock,
  waitForChange,
} from "./helper-protocol.ts";
import { blasAt } from "./native-blas.ts";

const shared = sharedBlock(workerData.sab as SharedArrayBuffer);
const path = workerData.blasPath as string | undefined;
let env: JobEnv = {};
try {
  // The BLAS now, so that a library this thread cannot open is reported at start.
  if (path) env = { blas: blasAt(path) };
  Atomics.add(shared.control, READY, 1);
} catch (e) {
  fail(shared, `helper thread could not start: ${(e as Error).message}`);
}
Atomics.notify(shared.control, READY);

for (
  let w = Atomics.load(shared.control, CLAIM);
  w !== QUIT;
  w = Atomics.load(shared.control, CLAIM)
) {
  const i = claim(shared.control, w);
  if (i < 0) {
    // Nothing to claim in this call: poll a while (the next call often follows within
    // microseconds), then sleep until the claim word changes.
    if ((w & NEXT_MASK) >= ((w >>> COUNT_SHIFT) & NEXT_MASK)) {
      waitForChange(shared.control, CLAIM, w);
    }
    continue;
  }
  const count = (w >>> COUNT_SHIFT) & NEXT_MASK;
  let error: unknown;
  try {
    runJob(decodeJob(shared.slots, i * JOB_SLOTS), env);
  } catch (e) {
    error = e;
  }
  Atomics.add(shared.control, HELPED, 1);
  finish(shared, count, error);
}
