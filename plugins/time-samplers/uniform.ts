// Uniform training times on the path's time range: the default, as fmbench has always drawn them.
import { defineTimeSampler, uniformTimes } from "../../core/mod.ts";

export default defineTimeSampler({
  name: "uniform",
  description: "t ~ U(t0, t1) on the path's time range: the default, the plain (unweighted) " +
    "flow-matching objective",
  params: {},
  prepare: ({ path }) => uniformTimes(path.tRange),
});
