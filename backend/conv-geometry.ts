// The geometry of an NHWC convolution (sizes, strides, dilations, padding, output size) from
// tfjs's shapes and attributes: one reading of computeConv2DInfo for every BLAS conv route.
import { tf } from "../core/tf.ts";

type Attrs = tf.NamedAttrMap;

/** The geometry of an NHWC convolution: what computeConv2DInfo gives, flattened. */
export interface ConvGeometry {
  b: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  top: number;
  left: number;
  ho: number;
  wo: number;
}

/**
 * The geometry of a conv from tfjs's shapes and attributes; undefined for layouts other than NHWC.
 * @example
 * convGeometry([1, 8, 8, 3], [3, 3, 3, 16], { strides: 2, pad: "same" }); // { ho: 4, wo: 4, ... }
 */
export function convGeometry(
  xShape: number[],
  filterShape: number[],
  attrs: Attrs,
): ConvGeometry | undefined {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== "NHWC") return undefined;
  const i = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as [number, number] | number,
    (attrs.dilations ?? 1) as [number, number] | number,
    attrs.pad as "same" | "valid" | number,
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
    false,
    "channelsLast",
  );
  return {
    b: i.batchSize,
    h: i.inHeight,
    w: i.inWidth,
    ci: i.inChannels,
    co: i.outChannels,
    kh: i.filterHeight,
    kw: i.filterWidth,
    sh: i.strideHeight,
    sw: i.strideWidth,
    dh: i.dilationHeight,
    dw: i.dilationWidth,
    top: i.padInfo.top,
    left: i.padInfo.left,
    ho: i.outHeight,
    wo: i.outWidth,
  };
}
