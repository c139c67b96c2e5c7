// Entropic minibatch OT coupling: pairs sampled from the Sinkhorn plan (epsilon 0.05).
import { createMinibatchOt } from "./minibatch-ot.ts";

export default createMinibatchOt({ method: "sinkhorn", epsilon: 0.05 });
