// pytorch-fid's FID Inception-v3 feature network (pool3, 2048-d, and the 1008-way logits of its
// fc layer) in tfjs, with weights loaded from a safetensors file or a PyTorch checkpoint under
// pytorch-fid's names, checked name by name.
import { type Tensor, tf } from "../../core/tf.ts";
import { basicConv, type ConvTable, maxPool3x3Stride2, mixedBlock } from "./blocks.ts";
import {
  allConvs,
  BLOCKS,
  BN_EPS,
  type ConvSpec,
  expectedTensors,
  FEATURE_DIM,
  featureParamCount,
  INCEPTION_SIZE,
} from "./inception-spec.ts";
import { FLOAT_DTYPES } from "../../store/safetensors.ts";
import { safeText } from "../../store/quote.ts";

/**
 * Raised when the weights file lacks a tensor or has one of the wrong shape or dtype.
 * @example
 * throw new InceptionWeightsError(`Inception weights ${path}: missing tensor "Mixed_5b..."`);
 */
export class InceptionWeightsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InceptionWeightsError";
  }
}

/** What a weights file must answer for the check: a tensor's dtype and shape by name. */
export interface TensorDirectory {
  entry(name: string): { dtype: string; shape: number[] } | undefined;
  names(): string[];
}

/**
 * A weights file the network can be built from: SafetensorsFile and TorchCheckpoint both are.
 * @example
 * const src: WeightSource = readTorchCheckpoint(bytes, "w.pth"); // or new SafetensorsFile(bytes, "w.safetensors")
 */
export interface WeightSource extends TensorDirectory {
  /** Where the weights came from, for error messages. */
  readonly source: string;
  /** A float tensor's values in row-major order. */
  float32(name: string): Float32Array;
  float64(name: string): Float64Array;
}

/**
 * Check every tensor the network needs, in forward order; throw for the first one that is
 * missing, has the wrong shape, or is not a float dtype. Extra tensors (fc.*,
 * num_batches_tracked) are allowed.
 * @example
 * checkInceptionTensors(await readSafetensors(path), path); // throws InceptionWeightsError if bad
 */
export function checkInceptionTensors(dir: TensorDirectory, source: string): void {
  for (const want of expectedTensors()) {
    const got = dir.entry(want.name);
    if (!got) {
      const n = dir.names().length;
      throw new InceptionWeightsError(
        `Inception weights ${source}: missing tensor "${want.name}" (expected shape ` +
          `[${want.shape}]); the file has ${n} tensors, expected pytorch-fid's names ` +
          `(pt_inception-2015-12-05 state_dict, see features/README.md)`,
      );
    }
    const same = got.shape.length === want.shape.length &&
      got.shape.every((d, i) => d === want.shape[i]);
    if (!same) {
      throw new InceptionWeightsError(
        `Inception weights ${source}: tensor "${want.name}" has shape ` +
          `[${safeText(got.shape.join(","), 80)}], ` +
          `expected [${want.shape}]`,
      );
    }
    if (!(FLOAT_DTYPES as readonly string[]).includes(got.dtype)) {
      throw new InceptionWeightsError(
        `Inception weights ${source}: tensor "${want.name}" has dtype ${
          safeText(got.dtype, 20)
        }, ` +
          `expected one of ${FLOAT_DTYPES.join(", ")}`,
      );
    }
  }
}

/** Fold BatchNorm into the conv (in float64) and transpose OIHW to HWIO. */
function foldConv(
  file: WeightSource,
  c: ConvSpec,
): { filter: Float32Array; bias: Float32Array } {
  const w = file.float32(`${c.name}.conv.weight`);
  const gamma = file.float64(`${c.name}.bn.weight`);
  const beta = file.float64(`${c.name}.bn.bias`);
  const mean = file.float64(`${c.name}.bn.running_mean`);
  const variance = file.float64(`${c.name}.bn.running_var`);
  const filter = new Float32Array(w.length);
  const bias = new Float32Array(c.cout);
  for (let o = 0; o < c.cout; o++) {
    const scale = gamma[o] / Math.sqrt(variance[o] + BN_EPS);
    bias[o] = beta[o] - mean[o] * scale;
    for (let i = 0; i < c.cin; i++) {
      for (let h = 0; h < c.kh; h++) {
        for (let k = 0; k < c.kw; k++) {
          const src = ((o * c.cin + i) * c.kh + h) * c.kw + k;
          filter[((h * c.kw + k) * c.cin + i) * c.cout + o] = w[src] * scale;
        }
      }
    }
  }
  return { filter, bias };
}

/**
 * How images reach the network: pytorch-fid's way (bilinear resize with align_corners=False,
 * then 2x - 1), or torch-fidelity's "inception-v3-compat" way (8-bit values, TensorFlow 1.x's
 * bilinear resize without half-pixel centres, then (v - 128) / 128), which reproduces the
 * original TensorFlow Inception Score and FID code.
 * @example
 * net.features(images, { preprocess: "torch-fidelity" }); // torch-fidelity's ISC/FID inputs
 */
export type InceptionPreprocess = "pytorch-fid" | "torch-fidelity";

/** Options for FidInception.features. */
export interface FeatureOptions {
  /**
   * Resize to 299x299 first, as pytorch-fid does (default true). Turning it off runs the
   * network at the input's own size (at least 75x75): for tests only, not for FID.
   */
  resize?: boolean;
  /** Default "pytorch-fid" (what FID uses); see InceptionPreprocess. */
  preprocess?: InceptionPreprocess;
}

/**
 * Number of classes of the checkpoint's fc layer (TensorFlow's 2015 graph: 1000 ImageNet classes
 * plus 8 unused).
 * @example
 * net.logits(net.features(images)).shape; // [B, LOGIT_CLASSES]
 */
export const LOGIT_CLASSES = 1008;

/**
 * The FID Inception-v3 pool3 feature extractor, with the logits of the checkpoint's fc layer.
 * @example
 * const net = inceptionFromWeights(file);
 * const feats = net.features(images); // [B, 2048] pool3 features of images in [0, 1]
 * const logits = net.logits(feats); // [B, 1008], for the Inception Score
 */
export class FidInception {
  /** Feature dimension (2048). */
  readonly dim = FEATURE_DIM;
  /** Trainable parameters as PyTorch counts them (conv weights + BN affine), fc excluded. */
  readonly paramCount: number = featureParamCount();
  private disposed = false;

  /**
   * @param table the folded convolutions
   * @param fcWeight fc.weight transposed to [2048, 1008], when the weights file has it
   */
  constructor(private readonly table: ConvTable, private readonly fcWeight?: tf.Tensor2D) {}

  /** Whether the weights file had the fc layer, so that logits() works. */
  get hasLogits(): boolean {
    return this.fcWeight !== undefined;
  }

  /**
   * The 1008-way logits of pool3 features, without the fc bias: `features @ fc.weight^T`, which
   * is torch-fidelity's "logits_unbiased" (the layer its Inception Score uses, as the original
   * TensorFlow Inception Score code did). Pass the output of features(), so one forward pass
   * gives both.
   */
  logits(features: tf.Tensor2D): tf.Tensor2D {
    if (this.disposed) throw new Error("FidInception: used after dispose()");
    if (!this.fcWeight) {
      throw new Error(
        "FidInception.logits: the weights file has no fc.weight [1008, 2048] (pytorch-fid's " +
          "checkpoint has it; a conversion that dropped it gives features only)",
      );
    }
    if (features.rank !== 2 || features.shape[1] !== FEATURE_DIM) {
      throw new Error(
        `FidInception.logits: expected pool3 features [B, ${FEATURE_DIM}], got [${features.shape}]`,
      );
    }
    return tf.matMul(features, this.fcWeight);
  }

  /**
   * The logits of pool3 features kept on the host (row-major [n, 2048], e.g. the features a
   * pass kept for KID or precision/recall), [n, 1008], computed `batch` rows at a time: the
   * Inception Score needs no second pass over the images.
   */
  async logitsOf(features: Float32Array, batch = 1000): Promise<Float32Array> {
    const n = features.length / FEATURE_DIM;
    if (!Number.isInteger(n)) {
      throw new Error(
        `FidInception.logitsOf: ${features.length} values is not a whole number of ` +
          `${FEATURE_DIM}-d rows`,
      );
    }
    const out = new Float32Array(n * LOGIT_CLASSES);
    for (let r = 0; r < n; r += batch) {
      const rows = Math.min(batch, n - r);
      const t = tf.tidy(() =>
        this.logits(
          tf.tensor2d(features.subarray(r * FEATURE_DIM, (r + rows) * FEATURE_DIM), [
            rows,
            FEATURE_DIM,
          ]),
        )
      );
      try {
        out.set(await t.data() as Float32Array, r * LOGIT_CLASSES);
      } finally {
        t.dispose();
      }
    }
    return out;
  }

  /**
   * Pool3 features [B, 2048] of images NHWC with values in [0, 1] and 3 channels (1 channel is
   * repeated to RGB, as PIL's convert("RGB") does). Follows pytorch-fid's InceptionV3: bilinear
   * resize to 299x299 (align_corners=False), scale to [-1, 1], network, global average pool; or
   * torch-fidelity's inputs with `preprocess: "torch-fidelity"` (see InceptionPreprocess).
   */
  features(images: Tensor, opts: FeatureOptions = {}): tf.Tensor2D {
    if (this.disposed) throw new Error("FidInception: used after dispose()");
    if (images.rank !== 4 || (images.shape[3] !== 3 && images.shape[3] !== 1)) {
      throw new Error(
        `FidInception.features: expected NHWC images with 1 or 3 channels, got [${images.shape}]`,
      );
    }
    const resize = opts.resize ?? true;
    if (!resize && Math.min(images.shape[1]!, images.shape[2]!) < 75) {
      throw new Error(
        `FidInception.features: without resize the input must be at least 75x75, ` +
          `got ${images.shape[1]}x${images.shape[2]}`,
      );
    }
    const tfCompat = opts.preprocess === "torch-fidelity";
    let x = tf.tidy(() => {
      let h = tf.cast(images, "float32") as tf.Tensor4D;
      if (h.shape[3] === 1) h = tf.tile(h, [1, 1, 1, 3]);
      // torch-fidelity takes uint8 images: the 8-bit values, resized as TensorFlow 1.x did.
      if (tfCompat) h = tf.round(tf.mul(h, 255));
      if (resize) {
        h = tf.image.resizeBilinear(h, [INCEPTION_SIZE, INCEPTION_SIZE], false, !tfCompat);
      }
      return (tfCompat ? tf.div(tf.sub(h, 128), 128) : tf.sub(tf.mul(h, 2), 1)) as tf.Tensor4D;
    });
    const step = (f: (t: Tensor) => tf.Tensor4D) => {
      const next = tf.tidy(() => f(x));
      x.dispose();
      x = next;
    };
    const conv = (name: string) => (t: Tensor) => basicConv(t, this.table.get(name)!);
    try {
      step(conv("Conv2d_1a_3x3"));
      step(conv("Conv2d_2a_3x3"));
      step((t) => maxPool3x3Stride2(conv("Conv2d_2b_3x3")(t)));
      step(conv("Conv2d_3b_1x1"));
      step((t) => maxPool3x3Stride2(conv("Conv2d_4a_3x3")(t)));
      for (const block of BLOCKS) step((t) => mixedBlock(t, { block, table: this.table }));
      return tf.tidy(() => tf.mean(x, [1, 2]) as tf.Tensor2D);
    } finally {
      x.dispose();
    }
  }

  /** Free the weights. */
  dispose(): void {
    if (this.disposed) return;
    for (const c of this.table.values()) {
      c.filter.dispose();
      c.bias.dispose();
    }
    this.fcWeight?.dispose();
    this.disposed = true;
  }
}

/** fc.weight [1008, 2048] transposed to [2048, 1008], if the file has it with that shape. */
function fcWeightOf(file: WeightSource): tf.Tensor2D | undefined {
  const e = file.entry("fc.weight");
  if (!e) return undefined;
  if (e.shape.length !== 2 || e.shape[0] !== LOGIT_CLASSES || e.shape[1] !== FEATURE_DIM) {
    throw new InceptionWeightsError(
      `Inception weights ${file.source}: tensor "fc.weight" has shape [${e.shape}], expected ` +
        `[${LOGIT_CLASSES},${FEATURE_DIM}]`,
    );
  }
  const w = file.float32("fc.weight");
  const t = new Float32Array(w.length);
  for (let c = 0; c < LOGIT_CLASSES; c++) {
    for (let k = 0; k < FEATURE_DIM; k++) t[k * LOGIT_CLASSES + c] = w[c * FEATURE_DIM + k];
  }
  return tf.tensor2d(t, [FEATURE_DIM, LOGIT_CLASSES]);
}

/**
 * Build the network from a weights file (safetensors or PyTorch), checking every name and shape
 * first; the fc layer is loaded when present (logits for the Inception Score).
 * @example
 * const net = inceptionFromWeights(readTorchCheckpoint(await Deno.readFile(path), path));
 */
export function inceptionFromWeights(file: WeightSource): FidInception {
  checkInceptionTensors(file, file.source);
  const table: ConvTable = new Map();
  for (const spec of allConvs()) {
    const { filter, bias } = foldConv(file, spec);
    table.set(spec.name, {
      spec,
      filter: tf.tensor4d(filter, [spec.kh, spec.kw, spec.cin, spec.cout]),
      bias: tf.tensor1d(bias),
    });
  }
  return new FidInception(table, fcWeightOf(file));
}
