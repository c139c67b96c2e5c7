// Improved precision and recall (Kynkäänniemi et al. 2019) as torch-fidelity computes them:
// k-th nearest-neighbour balls (k = 3) around each set, a point counts when it lies in a ball of
// the other set, distance <= radius.
import { type FeatureRows, kNearestRadii, type NeighbourOptions } from "./neighbours.ts";
import { crossBallTests } from "./neighbours.ts";

/** Options of improvedPrecisionRecall. */
export interface PrecisionRecallOptions extends NeighbourOptions {
  /** Features of the generated samples, [n, dim]. */
  generated: FeatureRows;
  /** Features of the reference (real) samples, [m, dim]. */
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
  /** Pair decisions re-decided in float64 (float32 round-off could have flipped them). */
  rechecked: number;
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
  const k = opts.k ?? 3;
  const [referenceRadii] = await kNearestRadii(opts.reference, [k], opts);
  const [generatedRadii] = await kNearestRadii(opts.generated, [k], opts);
  const t = await crossBallTests({
    ...opts,
    referenceRadii,
    generatedRadii,
    rule: "inclusive",
  });
  const nGenerated = t.generatedInReferenceBalls.length;
  const nReference = t.referenceBallOccupied.length;
  let inside = 0;
  for (const c of t.generatedInReferenceBalls) if (c > 0) inside++;
  let covered = 0;
  for (const c of t.referenceInGeneratedBalls!) covered += c;
  const precision = inside / nGenerated;
  const recall = covered / nReference;
  return {
    precision,
    recall,
    fScore: (2 * precision * recall) / Math.max(1e-5, precision + recall),
    k,
    nGenerated,
    nReference,
    rechecked: t.rechecked,
  };
}
