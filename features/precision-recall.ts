// Improved precision and recall (Kynkäänniemi et al. 2019) as torch-fidelity computes them:
// k-th nearest-neighbour balls (k = 3) around each set, a point counts when it lies in a ball of
// the other set, distance <= radius.
import {
  type BallCounts,
  type BallTest,
  crossBallTests,
  type FeatureRows,
  kNearestRadii,
  type NeighbourOptions,
} from "./neighbours.ts";

/** Options of improvedPrecisionRecall. */
export interface PrecisionRecallOptions extends NeighbourOptions {
  /** Features of the generated samples, [n, dim]. */
  generated: FeatureRows;
  /** Features of the reference (real) samples, [m, dim]; its radii are cached per array. */
  reference: FeatureRows;
  /** Neighbourhood size (default 3, torch-fidelity's prc_neighborhood). */
  k?: number;
}

/** Improved precision and recall with what they were computed from. */
export interface PrecisionRecall {
  /** Fraction of generated samples inside some reference ball (higher is better: fidelity). */
  precision: number;
  /** Fraction of reference samples inside some generated ball (higher is better: diversity). */
  recall: number;
  /** 2 P R / max(1e-5, P + R), torch-fidelity's f_score. */
  fScore: number;
  k: number;
  nGenerated: number;
  nReference: number;
}

/**
 * The two ball tests behind precision and recall: reference balls (for precision) and generated
 * balls (for recall), distance <= radius, the k-th neighbour's distance as radius.
 * @example
 * const tests = await precisionRecallTests({ generated, reference }); // then crossBallTests
 */
export async function precisionRecallTests(opts: PrecisionRecallOptions): Promise<BallTest[]> {
  const k = opts.k ?? 3;
  const [referenceRadii] = await kNearestRadii(opts.reference, [k], opts);
  const [generatedRadii] = await kNearestRadii(opts.generated, [k], opts);
  return [
    { centres: "reference", radii: referenceRadii, rule: "inclusive" },
    { centres: "generated", radii: generatedRadii, rule: "inclusive" },
  ];
}

/**
 * Precision and recall from the counts of precisionRecallTests' two tests.
 * @example
 * precisionRecallFrom([inReference, inGenerated], 3); // { precision, recall, fScore, ... }
 */
export function precisionRecallFrom([inRef, inGen]: BallCounts[], k: number): PrecisionRecall {
  const nGenerated = inRef.pointCounts.length;
  const nReference = inGen.pointCounts.length;
  let inside = 0;
  for (const c of inRef.pointCounts) if (c > 0) inside++;
  let covered = 0;
  for (const c of inGen.pointCounts) if (c > 0) covered++;
  const precision = inside / nGenerated;
  const recall = covered / nReference;
  return {
    precision,
    recall,
    fScore: (2 * precision * recall) / Math.max(1e-5, precision + recall),
    k,
    nGenerated,
    nReference,
  };
}

/**
 * Improved precision and recall (Kynkäänniemi et al. 2019) of generated against reference
 * features, as torch-fidelity's `calculate_precision_recall_full`: radius of a row = distance to
 * its k-th nearest neighbour in its own set; precision = share of generated rows within
 * (distance <= radius) some reference row's radius, recall = share of reference rows within some
 * generated row's radius. Distances are decided exactly (see neighbours.ts).
 * @example
 * const pr = await improvedPrecisionRecall({ generated: { data: g, dim: 2048 }, reference: { data: r, dim: 2048 } });
 * pr.precision; pr.recall; // in [0, 1], higher is better
 */
export async function improvedPrecisionRecall(
  opts: PrecisionRecallOptions,
): Promise<PrecisionRecall> {
  const tests = await precisionRecallTests(opts);
  return precisionRecallFrom(await crossBallTests({ ...opts, tests }), opts.k ?? 3);
}
