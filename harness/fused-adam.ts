// Adam as one JS loop per variable on the CPU backends (wasm, cpu): the same update as tfjs's
// AdamOptimizer, without its ~15 kernel launches per variable; optional global-norm clipping.
import { tf } from "../core/tf.ts";
import { hostView, onHostBackend } from "../backend/host-view.ts";

/** A named tensor, as tfjs optimizers take and return them. */
type NamedTensor = { name: string; tensor: tf.Tensor };

/**
 * tfjs's Adam update (bias-corrected moments, epsilon outside the square root) done in place on
 * host arrays: m and v live in JS, and each variable gets one new tensor per step. `clipNorm` > 0
 * first scales all gradients by min(1, clipNorm / (global norm + 1e-6)). getWeights/setWeights
 * use tfjs Adam's layout (iter, then every m, then every v), so checkpoints are interchangeable.
 * @example
 * const opt = new FusedAdam(1e-3);
 * opt.minimize(() => tf.sum(tf.square(w)) as tf.Scalar); // one Adam step on the variable w
 */
export class FusedAdam extends tf.Optimizer {
  static get className(): string {
    return "FusedAdam";
  }
  /**
   * Plain prototype-chain instanceof: tf.Optimizer's own Symbol.hasInstance accepts any object
   * with minimize/applyGradients, which would make every tfjs optimizer a "FusedAdam".
   */
  static override [Symbol.hasInstance](x: unknown): boolean {
    return Function.prototype[Symbol.hasInstance].call(this, x);
  }
  /** Global gradient-norm clip applied before the update (0 = off). */
  clipNorm = 0;
  private m: Float32Array[] = [];
  private v: Float32Array[] = [];
  private names: string[] = [];

  constructor(
    public learningRate: number,
    public beta1 = 0.9,
    public beta2 = 0.999,
    public epsilon = 1e-7,
  ) {
    super();
  }

  /**
   * One Adam step for the named gradients; the variables are found by name, as tfjs does.
   * @example
   * const opt = new FusedAdam(1e-3);
   * const { grads } = tf.variableGrads(() => tf.sum(tf.square(w)) as tf.Scalar);
   * opt.applyGradients(grads);
   */
  override applyGradients(grads: tf.NamedTensorMap | NamedTensor[]): void {
    const list = Array.isArray(grads)
      ? grads.map((g) => [g.name, g.tensor] as const)
      : Object.keys(grads).map((k) => [k, grads[k]] as const);
    let scale = 1;
    if (this.clipNorm > 0) {
      let sq = 0;
      for (const [, g] of list) {
        const a = hostView(g);
        for (let j = 0; j < a.length; j++) sq += a[j] * a[j];
      }
      scale = Math.min(1, this.clipNorm / (Math.sqrt(sq) + 1e-6));
    }
    const t = this.iterations + 1;
    const b1 = this.beta1, b2 = this.beta2, eps = this.epsilon, lr = this.learningRate;
    const c1 = 1 - Math.pow(b1, t), c2 = 1 - Math.pow(b2, t);
    const registered = tf.engine().registeredVariables;
    list.forEach(([name, grad], i) => {
      const variable = registered[name];
      if (!variable) throw new Error(`FusedAdam: no variable named "${name}"`);
      if (grad == null) return;
      const n = variable.size;
      this.names[i] ??= name;
      const m = this.m[i] ??= new Float32Array(n);
      const v = this.v[i] ??= new Float32Array(n);
      const out = new Float32Array(n);
      const p = hostView(variable), g = hostView(grad);
      for (let j = 0; j < n; j++) {
        const gj = g[j] * scale;
        const mj = b1 * m[j] + (1 - b1) * gj;
        const vj = b2 * v[j] + (1 - b2) * gj * gj;
        m[j] = mj;
        v[j] = vj;
        out[j] = p[j] - (lr * (mj / c1)) / (Math.sqrt(vj / c2) + eps);
      }
      const next = tf.tensor(out, variable.shape, "float32");
      variable.assign(next);
      next.dispose();
    });
    this.incrementIterations();
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const iter = { name: "iter", tensor: tf.scalar(this.iterations, "int32") };
    const moment = (arrs: Float32Array[], suffix: string) =>
      arrs.map((a, i) => ({ name: `${this.names[i]}/${suffix}`, tensor: tf.tensor(a) }));
    return await Promise.resolve([iter, ...moment(this.m, "m"), ...moment(this.v, "v")]);
  }

  override async setWeights(weights: NamedTensor[]): Promise<void> {
    this.iterations_ = (await weights[0].tensor.data())[0];
    const rest = weights.slice(1), k = rest.length / 2;
    const read = async (w: NamedTensor) => Float32Array.from(await w.tensor.data());
    this.m = await Promise.all(rest.slice(0, k).map(read));
    this.v = await Promise.all(rest.slice(k).map(read));
    this.names = rest.slice(0, k).map((w) => w.name.replace(/\/m$/, ""));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
    };
  }

  override dispose(): void {
    this.m = [];
    this.v = [];
  }
}

/**
 * Adam for the training loop: FusedAdam where tensors live in host memory (wasm, cpu), tfjs's
 * own AdamOptimizer on device backends (webgpu, tensorflow), where a JS loop would copy.
 * `moments` sets the betas and epsilon (default tfjs's 0.9, 0.999, 1e-7).
 * @example
 * const opt = createAdam(2e-3);
 * const torchLike = createAdam(2e-4, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
 */
export function createAdam(
  learningRate: number,
  moments?: { beta1: number; beta2: number; epsilon: number },
): tf.Optimizer {
  const { beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7 } = moments ?? {};
  return onHostBackend()
    ? new FusedAdam(learningRate, beta1, beta2, epsilon)
    : tf.train.adam(learningRate, beta1, beta2, epsilon);
}
