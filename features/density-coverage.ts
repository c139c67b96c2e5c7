// Density and coverage (Naeem et al. 2020) as clovaai/prdc computes them: k-th nearest-neighbour
// balls (k = 5) around the reference samples only, distance < radius.
import { crossBallTests, type FeatureRows, kNearestRadii } from "./neighbours.ts";
import type { NeighbourOptions } from "./neighbours.ts";

/** Options of densityCoverage. */
export interface DensityCoverageOptions extends NeighbourOptions {
  /** Features of the generated samples, [n, dim]. */
  generated: FeatureRows;
  /** Features of the reference (real) samples, [m, dim]. */
  reference: FeatureRows;
  /** Neighbourhood size (default 5, as in the paper and prdc's README). */
  k?: number;
}

/** Density and coverage with what they were computed from. */
export interface DensityCoverage {
  /**
   * Mean over generated rows of the number of reference balls containing it, divided by k
   * (higher is better: fidelity; 1 on average for samples from the reference distribution, can
   * exceed 1).
   */
  density: number;
  /** Share of reference balls that contain some generated row (higher is better: diversity). */
  coverage: number;
  k: number;
  nGenerated: number;
  nReference: number;
  /** Pair decisions re-decided in float64 (float32 round-off could have flipped them). */
  rechecked: number;
}

/**
 * Density and coverage (Naeem et al. 2020) of generated against reference features, as prdc's
 * `compute_prdc`: radius of a reference row = distance to its k-th nearest reference neighbour;
 * density = (1/k) x mean over generated rows of the number of reference balls with
 * distance < radius; coverage = share of reference rows whose nearest generated row is closer
 * than their radius. Distances are decided exactly (see neighbours.ts).
 * @example
 * const dc = await densityCoverage({ generated: { data: g, dim: 2048 }, reference: { data: r, dim: 2048 } });
 * dc.density; dc.coverage; // higher is better
 */
export async function densityCoverage(opts: DensityCoverageOptions): Promise<DensityCoverage> {
  const k = opts.k ?? 5;
  const [referenceRadii] = await kNearestRadii(opts.reference, [k], opts);
  const t = await crossBallTests({ ...opts, referenceRadii, rule: "strict" });
  const nGenerated = t.generatedInReferenceBalls.length;
  const nReference = t.referenceBallOccupied.length;
  let total = 0;
  for (const c of t.generatedInReferenceBalls) total += c;
  let occupied = 0;
  for (const c of t.referenceBallOccupied) occupied += c;
  return {
    density: total / (k * nGenerated),
    coverage: occupied / nReference,
    k,
    nGenerated,
    nReference,
    rechecked: t.rechecked,
  };
}
