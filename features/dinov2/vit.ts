// DINOv2's vision transformer in tfjs (the forward pass of facebookresearch/dinov2's
// DinoVisionTransformer, class token after the final LayerNorm), with EDM2's preprocessing:
// antialiased bicubic resize to 224, ImageNet normalisation. Weights under Hugging Face's names
// (facebook/dinov2-large) or the original checkpoint's (dinov2_vitl14_pretrain.pth).
import { type Tensor, tf } from "../../core/tf.ts";
import type { WeightSource } from "../inception/inception.ts";
import { FLOAT_DTYPES } from "../../store/safetensors.ts";
import { antialiasBicubicMatrix, bicubicMatrix, resizeSeparable } from "./resize.ts";
import { originalName, type VitConfig, vitParamCount, vitTensors } from "./vit-spec.ts";

/**
 * ImageNet mean and standard deviation per RGB channel (EDM2's DINOv2Detector, dgm-eval).
 * @example
 * (0.5 - IMAGENET_MEAN[0]) / IMAGENET_STD[0]; // a mid-grey red value after normalisation
 */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
/**
 * ImageNet standard deviation per RGB channel.
 * @example
 * tf.div(tf.sub(images, IMAGENET_MEAN), IMAGENET_STD); // EDM2's normalisation of [0, 1] images
 */
export const IMAGENET_STD = [0.229, 0.224, 0.225];

/**
 * Raised when a DINOv2 weights file lacks a tensor or has one of the wrong shape or dtype.
 * @example
 * throw new Dinov2WeightsError(`DINOv2 weights ${path}: missing tensor "layernorm.weight"`);
 */
export class Dinov2WeightsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Dinov2WeightsError";
  }
}

/** One transformer block's weights on the backend (linear weights as [in, out]). */
interface BlockWeights {
  norm1: [tf.Tensor1D, tf.Tensor1D];
  qkv: tf.Tensor2D;
  qkvBias: tf.Tensor1D;
  proj: tf.Tensor2D;
  projBias: tf.Tensor1D;
  ls1: tf.Tensor1D;
  norm2: [tf.Tensor1D, tf.Tensor1D];
  fc1: tf.Tensor2D;
  fc1Bias: tf.Tensor1D;
  fc2: tf.Tensor2D;
  fc2Bias: tf.Tensor1D;
  ls2: tf.Tensor1D;
}

/** The whole network's weights on the backend. */
interface VitWeights {
  /** Patch embedding as an HWIO filter [p, p, 3, dim] and its bias. */
  patch: tf.Tensor4D;
  patchBias: tf.Tensor1D;
  /** Class token plus its position embedding, [1, 1, dim]. */
  cls: tf.Tensor3D;
  /** Patch position embeddings resized to the input grid, [1, g * g, dim]. */
  pos: tf.Tensor3D;
  blocks: BlockWeights[];
  norm: [tf.Tensor1D, tf.Tensor1D];
}

/** Options of Dinov2.features. */
export interface Dinov2FeatureOptions {
  /**
   * Resize to the configured size first (default true): `F.interpolate(mode="bicubic",
   * antialias=True)` as EDM2's DINOv2Detector. Off: the input must already have that size.
   */
  resize?: boolean;
}

/**
 * DINOv2 class-token features of images.
 * @example
 * const net = dinov2FromWeights(file, VIT_L14);
 * const f = net.features(images); // [B, 1024] for images NHWC in [0, 1]
 */
export class Dinov2 {
  /** Feature dimension (the class token's width). */
  readonly dim: number;
  /** Parameters as PyTorch counts them (mask token included). */
  readonly paramCount: number;
  private disposed = false;
  private readonly resizeCache = new Map<string, { rows: Float64Array; cols: Float64Array }>();

  constructor(readonly config: VitConfig, private readonly w: VitWeights) {
    this.dim = config.dim;
    this.paramCount = vitParamCount(config);
  }

  /**
   * Class-token features [B, dim] of images NHWC in [0, 1] (1 channel is repeated to RGB):
   * resize to imageSize x imageSize (bicubic, antialiased), subtract the ImageNet mean and divide
   * by its std, patch embedding, class token, position embeddings, the blocks, final LayerNorm.
   */
  features(images: Tensor, opts: Dinov2FeatureOptions = {}): tf.Tensor2D {
    if (this.disposed) throw new Error("Dinov2: used after dispose()");
    const c = this.config;
    if (images.rank !== 4 || (images.shape[3] !== 3 && images.shape[3] !== 1)) {
      throw new Error(
        `Dinov2.features: expected NHWC images with 1 or 3 channels, got [${images.shape}]`,
      );
    }
    const [, h, w] = images.shape as number[];
    if (opts.resize === false && (h !== c.imageSize || w !== c.imageSize)) {
      throw new Error(
        `Dinov2.features: without resize the input must be ${c.imageSize}x${c.imageSize}, ` +
          `got ${h}x${w}`,
      );
    }
    let x = tf.tidy(() => {
      let t = tf.cast(images, "float32") as tf.Tensor4D;
      if (t.shape[3] === 1) t = tf.tile(t, [1, 1, 1, 3]);
      if (opts.resize !== false) {
        t = resizeSeparable(t, {
          ...this.resizeMatrices(h, w),
          outH: c.imageSize,
          outW: c.imageSize,
        });
      }
      t = tf.div(tf.sub(t, IMAGENET_MEAN), IMAGENET_STD);
      return this.embed(t);
    });
    const step = (f: (t: tf.Tensor3D) => tf.Tensor3D) => {
      const next = tf.tidy(() => f(x));
      x.dispose();
      x = next;
    };
    try {
      for (const b of this.w.blocks) step((t) => this.block(t, b));
      return tf.tidy(() => {
        const cls = tf.reshape(tf.slice(x, [0, 0, 0], [-1, 1, -1]), [-1, c.dim]) as tf.Tensor2D;
        return layerNorm(cls, this.w.norm, c.eps);
      });
    } finally {
      x.dispose();
    }
  }

  private resizeMatrices(h: number, w: number) {
    const key = `${h}x${w}`;
    let m = this.resizeCache.get(key);
    if (!m) {
      const s = this.config.imageSize;
      m = { rows: antialiasBicubicMatrix(h, s), cols: antialiasBicubicMatrix(w, s) };
      this.resizeCache.set(key, m);
    }
    return m;
  }

  /** Patch embedding, class token, position embeddings: [B, 1 + g * g, dim]. */
  private embed(images: tf.Tensor4D): tf.Tensor3D {
    const { dim, patch } = this.config;
    const b = images.shape[0];
    const p = tf.add(tf.conv2d(images, this.w.patch, patch, "valid"), this.w.patchBias);
    const tokens = tf.add(tf.reshape(p, [b, -1, dim]), this.w.pos);
    const cls = tf.tile(this.w.cls, [b, 1, 1]);
    return tf.concat([cls, tokens], 1) as tf.Tensor3D;
  }

  /** x + ls1 * attn(norm1(x)); x + ls2 * mlp(norm2(x)). */
  private block(x: tf.Tensor3D, bw: BlockWeights): tf.Tensor3D {
    const { dim, heads, eps } = this.config;
    const [b, n] = x.shape;
    const hd = dim / heads;
    const rows = tf.reshape(x, [b * n, dim]) as tf.Tensor2D;
    const qkv = tf.add(tf.matMul(layerNorm(rows, bw.norm1, eps), bw.qkv), bw.qkvBias);
    // [B*N, 3*dim] -> [3, B, heads, N, hd]
    const split = tf.transpose(tf.reshape(qkv, [b, n, 3, heads, hd]), [2, 0, 3, 1, 4]);
    const [q, k, v] = tf.unstack(split, 0) as tf.Tensor4D[];
    const scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd));
    const attended = tf.matMul(tf.softmax(scores, -1), v); // [B, heads, N, hd]
    const merged = tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [b * n, dim]);
    const attn = tf.add(tf.matMul(merged, bw.proj), bw.projBias);
    const x1 = tf.add(rows, tf.mul(attn, bw.ls1)) as tf.Tensor2D;
    const hidden = gelu(tf.add(tf.matMul(layerNorm(x1, bw.norm2, eps), bw.fc1), bw.fc1Bias));
    const mlp = tf.add(tf.matMul(hidden, bw.fc2), bw.fc2Bias);
    return tf.reshape(tf.add(x1, tf.mul(mlp, bw.ls2)), [b, n, dim]) as tf.Tensor3D;
  }

  /** Free the weights. */
  dispose(): void {
    if (this.disposed) return;
    const { blocks, ...rest } = this.w;
    tf.dispose([...Object.values(rest).flat(), ...blocks.flatMap((b) => Object.values(b).flat())]);
    this.disposed = true;
  }
}

/** LayerNorm over the last axis (population variance), as torch.nn.LayerNorm. */
function layerNorm(x: tf.Tensor2D, [w, b]: [tf.Tensor1D, tf.Tensor1D], eps: number): tf.Tensor2D {
  const mean = tf.mean(x, -1, true);
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), -1, true);
  return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, eps))), w), b);
}

/** GELU with the exact erf form, as torch.nn.GELU(). */
function gelu(x: Tensor): tf.Tensor2D {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)) as tf.Tensor2D;
}

/** Reads the network's tensors by Hugging Face name, from either naming scheme. */
class TensorReader {
  constructor(private readonly file: WeightSource) {}

  /** Which scheme the file uses: Hugging Face names, or the original checkpoint's. */
  scheme(): "hf" | "original" {
    return this.file.entry("embeddings.cls_token") ? "hf" : "original";
  }

  /** Check a tensor's presence, dtype and shape under the file's scheme. */
  check(name: string, shape: number[]): void {
    const src = this.scheme() === "hf" ? { name } : originalName(name);
    const e = this.file.entry(src.name);
    const want = src.third === undefined ? shape : [3 * shape[0], ...shape.slice(1)];
    const where = `DINOv2 weights ${this.file.source}`;
    if (!e) {
      throw new Dinov2WeightsError(
        `${where}: missing tensor "${src.name}" (expected shape [${want}]); expected Hugging ` +
          `Face's facebook/dinov2 names or the original dinov2_vit*14_pretrain.pth names`,
      );
    }
    if (e.shape.length !== want.length || e.shape.some((d, i) => d !== want[i])) {
      throw new Dinov2WeightsError(
        `${where}: tensor "${src.name}" has shape [${e.shape}], expected [${want}]`,
      );
    }
    if (!(FLOAT_DTYPES as readonly string[]).includes(e.dtype)) {
      throw new Dinov2WeightsError(
        `${where}: tensor "${src.name}" has dtype ${e.dtype}, expected one of ` +
          FLOAT_DTYPES.join(", "),
      );
    }
  }

  /** A tensor's float32 values by Hugging Face name. */
  read(name: string): Float32Array {
    if (this.scheme() === "hf") return this.file.float32(name);
    const src = originalName(name);
    const all = this.file.float32(src.name);
    if (src.third === undefined) return all;
    const part = all.length / 3;
    return all.slice(src.third * part, (src.third + 1) * part);
  }
}

/** [out, in] row-major to a [in, out] tensor. */
function transposed(w: Float32Array, out: number, inn: number): tf.Tensor2D {
  const t = new Float32Array(w.length);
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inn; i++) t[i * out + o] = w[o * inn + i];
  }
  return tf.tensor2d(t, [inn, out]);
}

/** Patch position embeddings resized to a g x g grid as DINOv2's interpolate_pos_encoding. */
function resizePositions(pos: Float32Array, c: VitConfig, g: number): Float32Array {
  const d = c.dim, m = c.posGrid;
  const patches = pos.subarray(d); // drop the class token's embedding
  if (g === m) return Float32Array.from(patches);
  const r = bicubicMatrix(m, g, (g + c.interpolateOffset) / m);
  const out = new Float32Array(g * g * d);
  const acc = new Float64Array(d);
  for (let y = 0; y < g; y++) {
    for (let x = 0; x < g; x++) {
      acc.fill(0);
      for (let i = 0; i < m; i++) {
        const wy = r[y * m + i];
        if (wy === 0) continue;
        for (let j = 0; j < m; j++) {
          const wxy = wy * r[x * m + j];
          if (wxy === 0) continue;
          const src = (i * m + j) * d;
          for (let k = 0; k < d; k++) acc[k] += wxy * patches[src + k];
        }
      }
      out.set(acc, (y * g + x) * d);
    }
  }
  return out;
}

/**
 * Build the network from a weights file (safetensors or a PyTorch checkpoint, Hugging Face or
 * original names), checking every tensor's name, dtype and shape first.
 * @example
 * const net = dinov2FromWeights(new SafetensorsFile(bytes, "model.safetensors"), VIT_L14);
 */
export function dinov2FromWeights(file: WeightSource, c: VitConfig): Dinov2 {
  if (c.imageSize % c.patch !== 0 || c.dim % c.heads !== 0) {
    throw new Error(
      `DINOv2 config: imageSize ${c.imageSize} must be a multiple of the patch ${c.patch}, ` +
        `dim ${c.dim} of the heads ${c.heads}`,
    );
  }
  const r = new TensorReader(file);
  for (const t of vitTensors(c)) r.check(t.name, t.shape);
  const d = c.dim, g = c.imageSize / c.patch;
  const vec = (name: string) => tf.tensor1d(r.read(name));
  const pair = (p: string): [tf.Tensor1D, tf.Tensor1D] => [vec(`${p}.weight`), vec(`${p}.bias`)];
  const pw = r.read("embeddings.patch_embeddings.projection.weight"); // [d, 3, p, p]
  const p = c.patch;
  const hwio = new Float32Array(pw.length);
  for (let o = 0; o < d; o++) {
    for (let ch = 0; ch < 3; ch++) {
      for (let y = 0; y < p; y++) {
        for (let x = 0; x < p; x++) {
          hwio[((y * p + x) * 3 + ch) * d + o] = pw[((o * 3 + ch) * p + y) * p + x];
        }
      }
    }
  }
  const pos = r.read("embeddings.position_embeddings");
  const cls = r.read("embeddings.cls_token").map((v, k) => v + pos[k]);
  const blocks: BlockWeights[] = [];
  for (let i = 0; i < c.depth; i++) {
    const b = `encoder.layer.${i}`;
    const a = `${b}.attention.attention`;
    const qkv = new Float32Array(3 * d * d);
    const qkvBias = new Float32Array(3 * d);
    ["query", "key", "value"].forEach((part, t) => {
      qkv.set(r.read(`${a}.${part}.weight`), t * d * d);
      qkvBias.set(r.read(`${a}.${part}.bias`), t * d);
    });
    blocks.push({
      norm1: pair(`${b}.norm1`),
      qkv: transposed(qkv, 3 * d, d),
      qkvBias: tf.tensor1d(qkvBias),
      proj: transposed(r.read(`${b}.attention.output.dense.weight`), d, d),
      projBias: vec(`${b}.attention.output.dense.bias`),
      ls1: vec(`${b}.layer_scale1.lambda1`),
      norm2: pair(`${b}.norm2`),
      fc1: transposed(r.read(`${b}.mlp.fc1.weight`), c.mlpDim, d),
      fc1Bias: vec(`${b}.mlp.fc1.bias`),
      fc2: transposed(r.read(`${b}.mlp.fc2.weight`), d, c.mlpDim),
      fc2Bias: vec(`${b}.mlp.fc2.bias`),
      ls2: vec(`${b}.layer_scale2.lambda1`),
    });
  }
  return new Dinov2(c, {
    patch: tf.tensor4d(hwio, [p, p, 3, d]),
    patchBias: vec("embeddings.patch_embeddings.projection.bias"),
    cls: tf.tensor3d(cls.subarray(0, d), [1, 1, d]),
    pos: tf.tensor3d(resizePositions(pos, c, g), [1, g * g, d]),
    blocks,
    norm: pair("layernorm"),
  });
}
