// DINOv2 ViT-L/14 as a feature network (FD-DINOv2), knowing nothing of flow matching.
/**
 * DINOv2 in tfjs: the ViT of facebookresearch/dinov2 with EDM2's preprocessing, its weights
 * (Hugging Face's facebook/dinov2-large safetensors, or the original .pth) found, downloaded
 * and checked. Details: features/README.md.
 * @example
 * import { ensureDinov2Model } from "./features/dinov2/mod.ts";
 * const m = await ensureDinov2Model({ dataDir: "data", download: false });
 * @module
 */
export {
  DINOV2_PIPELINE,
  DINOV2_REFERENCE,
  type Dinov2Model,
  type Dinov2Unavailable,
  ensureDinov2Model,
  loadDinov2Model,
} from "./model.ts";
export {
  Dinov2,
  dinov2FromWeights,
  Dinov2WeightsError,
  IMAGENET_MEAN,
  IMAGENET_STD,
} from "./vit.ts";
export { VIT_L14, type VitConfig, vitParamCount } from "./vit-spec.ts";
export {
  DINOV2_ENV,
  DINOV2_HOSTS,
  DINOV2_PTH,
  DINOV2_SAFETENSORS,
  DINOV2_SHA256,
  DINOV2_SHA256_ENV,
  DINOV2_URL,
  downloadDinov2Weights,
  findDinov2Weights,
  pinnedDinov2Sha256,
} from "./weights-file.ts";
