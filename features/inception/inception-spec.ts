// pytorch-fid's FID Inception-v3 as data: every BasicConv2d (conv + BatchNorm) with its
// PyTorch tensor name, shape, stride and padding, grouped into the blocks the forward pass runs.

/** One BasicConv2d: Conv2d(bias=False) -> BatchNorm2d(eps=0.001) -> ReLU. */
export interface ConvSpec {
  /** PyTorch module path, e.g. "Mixed_5b.branch1x1". */
  name: string;
  cin: number;
  cout: number;
  kh: number;
  kw: number;
  stride: number;
  /** PyTorch padding [ph, pw]: either 0 or (k - 1) / 2 per axis. */
  pad: [number, number];
}

/** The kinds of mixed block, named after pytorch-fid / torchvision classes. */
export type BlockKind = "A" | "B" | "C" | "D" | "E_1" | "E_2";

/** A mixed block: its module name, kind and convolutions keyed by branch name. */
export interface BlockSpec {
  name: string;
  kind: BlockKind;
  cin: number;
  cout: number;
  convs: Record<string, ConvSpec>;
}

/**
 * BatchNorm epsilon used by torchvision's BasicConv2d.
 * @example
 * const scale = gamma / Math.sqrt(runningVar + BN_EPS); // BatchNorm folded into the conv
 */
export const BN_EPS = 0.001;

/**
 * Input side length pytorch-fid resizes to.
 * @example
 * tf.image.resizeBilinear(x, [INCEPTION_SIZE, INCEPTION_SIZE], false, true); // to 299x299
 */
export const INCEPTION_SIZE = 299;

/**
 * Dimension of the pool3 features.
 * @example
 * new RunningStats(FEATURE_DIM); // statistics of 2048-d pool3 features
 */
export const FEATURE_DIM = 2048;

function conv(
  prefix: string,
  branch: string,
  cin: number,
  cout: number,
  k: number | [number, number],
  opts: { stride?: number; pad?: number | [number, number] } = {},
): [string, ConvSpec] {
  const [kh, kw] = typeof k === "number" ? [k, k] : k;
  const p = opts.pad ?? 0;
  const pad: [number, number] = typeof p === "number" ? [p, p] : p;
  const name = prefix ? `${prefix}.${branch}` : branch;
  return [branch, { name, cin, cout, kh, kw, stride: opts.stride ?? 1, pad }];
}

function blockA(name: string, cin: number, poolFeatures: number): BlockSpec {
  const c = (b: string, i: number, o: number, k: number, pad = 0) =>
    conv(name, b, i, o, k, { pad });
  return {
    name,
    kind: "A",
    cin,
    cout: 64 + 64 + 96 + poolFeatures,
    convs: Object.fromEntries([
      c("branch1x1", cin, 64, 1),
      c("branch5x5_1", cin, 48, 1),
      c("branch5x5_2", 48, 64, 5, 2),
      c("branch3x3dbl_1", cin, 64, 1),
      c("branch3x3dbl_2", 64, 96, 3, 1),
      c("branch3x3dbl_3", 96, 96, 3, 1),
      c("branch_pool", cin, poolFeatures, 1),
    ]),
  };
}

function blockB(name: string, cin: number): BlockSpec {
  return {
    name,
    kind: "B",
    cin,
    cout: 384 + 96 + cin,
    convs: Object.fromEntries([
      conv(name, "branch3x3", cin, 384, 3, { stride: 2 }),
      conv(name, "branch3x3dbl_1", cin, 64, 1),
      conv(name, "branch3x3dbl_2", 64, 96, 3, { pad: 1 }),
      conv(name, "branch3x3dbl_3", 96, 96, 3, { stride: 2 }),
    ]),
  };
}

const K17: [number, number] = [1, 7];
const K71: [number, number] = [7, 1];
const P17: [number, number] = [0, 3];
const P71: [number, number] = [3, 0];

function blockC(name: string, cin: number, c7: number): BlockSpec {
  return {
    name,
    kind: "C",
    cin,
    cout: 4 * 192,
    convs: Object.fromEntries([
      conv(name, "branch1x1", cin, 192, 1),
      conv(name, "branch7x7_1", cin, c7, 1),
      conv(name, "branch7x7_2", c7, c7, K17, { pad: P17 }),
      conv(name, "branch7x7_3", c7, 192, K71, { pad: P71 }),
      conv(name, "branch7x7dbl_1", cin, c7, 1),
      conv(name, "branch7x7dbl_2", c7, c7, K71, { pad: P71 }),
      conv(name, "branch7x7dbl_3", c7, c7, K17, { pad: P17 }),
      conv(name, "branch7x7dbl_4", c7, c7, K71, { pad: P71 }),
      conv(name, "branch7x7dbl_5", c7, 192, K17, { pad: P17 }),
      conv(name, "branch_pool", cin, 192, 1),
    ]),
  };
}

function blockD(name: string, cin: number): BlockSpec {
  return {
    name,
    kind: "D",
    cin,
    cout: 320 + 192 + cin,
    convs: Object.fromEntries([
      conv(name, "branch3x3_1", cin, 192, 1),
      conv(name, "branch3x3_2", 192, 320, 3, { stride: 2 }),
      conv(name, "branch7x7x3_1", cin, 192, 1),
      conv(name, "branch7x7x3_2", 192, 192, K17, { pad: P17 }),
      conv(name, "branch7x7x3_3", 192, 192, K71, { pad: P71 }),
      conv(name, "branch7x7x3_4", 192, 192, 3, { stride: 2 }),
    ]),
  };
}

function blockE(name: string, kind: "E_1" | "E_2", cin: number): BlockSpec {
  return {
    name,
    kind,
    cin,
    cout: 320 + 768 + 768 + 192,
    convs: Object.fromEntries([
      conv(name, "branch1x1", cin, 320, 1),
      conv(name, "branch3x3_1", cin, 384, 1),
      conv(name, "branch3x3_2a", 384, 384, [1, 3], { pad: [0, 1] }),
      conv(name, "branch3x3_2b", 384, 384, [3, 1], { pad: [1, 0] }),
      conv(name, "branch3x3dbl_1", cin, 448, 1),
      conv(name, "branch3x3dbl_2", 448, 384, 3, { pad: 1 }),
      conv(name, "branch3x3dbl_3a", 384, 384, [1, 3], { pad: [0, 1] }),
      conv(name, "branch3x3dbl_3b", 384, 384, [3, 1], { pad: [1, 0] }),
      conv(name, "branch_pool", cin, 192, 1),
    ]),
  };
}

/**
 * The stem convolutions in order (max pools 3x3/2 follow Conv2d_2b_3x3 and Conv2d_4a_3x3).
 * @example
 * STEM[0]; // { name: "Conv2d_1a_3x3", cin: 3, cout: 32, kh: 3, kw: 3, stride: 2, pad: [0, 0] }
 */
export const STEM: ConvSpec[] = [
  conv("", "Conv2d_1a_3x3", 3, 32, 3, { stride: 2 })[1],
  conv("", "Conv2d_2a_3x3", 32, 32, 3)[1],
  conv("", "Conv2d_2b_3x3", 32, 64, 3, { pad: 1 })[1],
  conv("", "Conv2d_3b_1x1", 64, 80, 1)[1],
  conv("", "Conv2d_4a_3x3", 80, 192, 3)[1],
];

/**
 * The mixed blocks in forward order, as pytorch-fid's fid_inception_v3 builds them.
 * @example
 * BLOCKS.map((b) => b.name); // ["Mixed_5b", "Mixed_5c", ..., "Mixed_7c"] (11 blocks)
 */
export const BLOCKS: BlockSpec[] = [
  blockA("Mixed_5b", 192, 32),
  blockA("Mixed_5c", 256, 64),
  blockA("Mixed_5d", 288, 64),
  blockB("Mixed_6a", 288),
  blockC("Mixed_6b", 768, 128),
  blockC("Mixed_6c", 768, 160),
  blockC("Mixed_6d", 768, 160),
  blockC("Mixed_6e", 768, 192),
  blockD("Mixed_7a", 768),
  blockE("Mixed_7b", "E_1", 1280),
  blockE("Mixed_7c", "E_2", 2048),
];

/**
 * Every BasicConv2d of the feature network, in forward order.
 * @example
 * allConvs().length; // 94
 */
export function allConvs(): ConvSpec[] {
  return [...STEM, ...BLOCKS.flatMap((b) => Object.values(b.convs))];
}

/**
 * The suffixes of the five tensors each BasicConv2d reads from the weights file.
 * @example
 * CONV_TENSORS.map((s) => `Conv2d_1a_3x3.${s}`); // ["Conv2d_1a_3x3.conv.weight", ...]
 */
export const CONV_TENSORS = [
  "conv.weight",
  "bn.weight",
  "bn.bias",
  "bn.running_mean",
  "bn.running_var",
] as const;

/** A tensor the weights file must contain, with its PyTorch shape. */
export interface ExpectedTensor {
  name: string;
  shape: number[];
}

/**
 * The expected tensors (PyTorch names, OIHW conv weights) in forward order.
 * @example
 * expectedTensors()[0]; // { name: "Conv2d_1a_3x3.conv.weight", shape: [32, 3, 3, 3] }
 * expectedTensors().length; // 470 (94 convs x 5 tensors)
 */
export function expectedTensors(): ExpectedTensor[] {
  return allConvs().flatMap((c) =>
    CONV_TENSORS.map((suffix) => ({
      name: `${c.name}.${suffix}`,
      shape: suffix === "conv.weight" ? [c.cout, c.cin, c.kh, c.kw] : [c.cout],
    }))
  );
}

/**
 * Trainable parameters of the pool3 feature network as PyTorch counts them: conv weights plus
 * BatchNorm weight and bias (running statistics are buffers, the unused fc layer is excluded).
 * @example
 * featureParamCount(); // 21785568
 */
export function featureParamCount(): number {
  return allConvs().reduce((s, c) => s + c.cout * c.cin * c.kh * c.kw + 2 * c.cout, 0);
}

/**
 * Parameters of the 1008-way fc layer in pytorch-fid's checkpoint (not used for features).
 * @example
 * featureParamCount() + FC_PARAMS; // 23850960: every trainable parameter of the checkpoint
 */
export const FC_PARAMS = FEATURE_DIM * 1008 + 1008;
