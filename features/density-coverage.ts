// Density and coverage (Naeem et al. 2020) as clovaai/prdc computes them: k-th nearest-neighbour
// balls (k = 5) around the reference samples only, distance < radius.
import {
  type BallCounts,
  type BallTest,
  crossBallTests,
  type FeatureRows,
  kNearestRadii,
  type NeighbourOptions,
} from "./neighbours.ts";

/** Options of densityCoverage. */
export interface DensityCoverageOptions extends NeighbourOptions {
  /** Features of the generated samples, [n, dim]. */
  generated: FeatureRows;
  /** Features of the reference (real) samples, [m, dim]; its radii are cached per array. */
  reference: FeatureRows;
  /** Neighbourhood size (default 5, as in the paper and prdc's README). */
  k?: number;
}

/** Density and coverage with what they were computed from. */
export interface DensityCoverage {
  /**
   * Mean over generated rows of the number of reference balls containing it, divided by k
   * (higher is better: fidelity; about 1 for samples from the reference distribution, can
   * exceed 1).
   */
  density: number;
  /** Share of reference balls that contain some generated row (higher is better: diversity). */
  coverage: number;
  k: number;
  nGenerated: number;
  nReference: number;
}

/**
 * The ball test behind density and coverage: reference balls, distance < radius.
 * @example
 * const [test] = await densityCoverageTests({ generated, reference }); // then crossBallTests
 */
export async function densityCoverageTests(opts: DensityCoverageOptions): Promise<BallTest[]> {
  const [radii] = await kNearestRadii(opts.reference, [opts.k ?? 5], opts);
  return [{ centres: "reference", radii, rule: "strict" }];
}

/**
 * Density and coverage from the counts of densityCoverageTests' test.
 * @example
 * densityCoverageFrom([inReference], 5); // { density, coverage, ... }
 */
export function densityCoverageFrom([inRef]: BallCounts[], k: number): DensityCoverage {
  const nGenerated = inRef.pointCounts.length;
  const nReference = inRef.occupied.length;
  let total = 0;
  for (const c of inRef.pointCounts) total += c;
  let occupied = 0;
  for (const c of inRef.occupied) occupied += c;
  return {
    density: total / (k * nGenerated),
    coverage: occupied / nReference,
    k,
    nGenerated,
    nReference,
  };
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
  const tests = await densityCoverageTests(opts);
  return densityCoverageFrom(await crossBallTests({ ...opts, tests }), opts.k ?? 5);
}
