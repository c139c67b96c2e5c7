// k-rectified flow coupling: pairs (x0, Phi(x0)) generated once by an earlier method's model.
import { defineCoupling, tf } from "../../core/mod.ts";

export default defineCoupling({
  name: "reflow",
  description: "Reflow (Liu et al.): train on pairs (x0, Phi(x0)) from a teacher method's ODE, " +
    "generated once per run and cached with their provenance",
  needsTeacher: true,
  async pair(x0, _x1, ctx) {
    if (!ctx.teacher) {
      throw new Error('coupling "reflow" needs a teacher method (e.g. 2-RF reflows 1-RF)');
    }
    const [a, b] = await ctx.teacher.pairs(x0.shape[0], ctx.seed);
    if (a.shape.join() !== x0.shape.join()) {
      tf.dispose([a, b]);
      throw new Error(`reflow pairs have shape ${a.shape}, batch has ${x0.shape}`);
    }
    return [a, b];
  },
});
