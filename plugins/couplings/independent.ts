// Independent coupling: the source and data batches are paired as drawn (x0 ~ p0, x1 ~ q apart).
import { defineCoupling } from "../../core/mod.ts";

/**
 * Returns the batches unchanged. Ownership: pair() returns new tensors (clones, which share the
 * data buffers cheaply) that the caller owns and must dispose; it never disposes its inputs, so
 * the caller may dispose x0 and x1 right after the call.
 */
export default defineCoupling({
  name: "independent",
  description: "Independent pairing: (x0, x1) drawn independently from the source and the data",
  pair(x0, x1, _ctx) {
    return Promise.resolve([x0.clone(), x1.clone()]);
  },
});
