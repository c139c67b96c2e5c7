// Published reference figures (not measured by fmbench) shown beside measured rows, each with its
// citation: the one data file for them. Reports read it through publishedRows().

/** Where a set of published figures comes from and how its NFE were counted. */
export interface PublishedSource {
  /** Short label shown beside the figures, e.g. "Lipman et al. 2023, Table 1". */
  label: string;
  citation: string;
  /** arXiv identifier of the paper (shown as text; reports link nowhere). */
  arxiv: string;
  /** The sampler behind the paper's NFE (and FID) column. */
  solver: string;
  /** Anything a reader must know before comparing (units, protocol). */
  note?: string;
}

/** One published row: the paper's method name, the fmbench method it corresponds to, figures. */
export interface PublishedRow {
  suite: string;
  dataset: string;
  /** The method as the paper names it. */
  method: string;
  /** The fmbench method label with the same recipe (the row it stands beside). */
  fmbenchMethod: string;
  /**
   * Other fmbench labels the row stands beside when the run has them and not `fmbenchMethod`
   * (e.g. OT-CFM's exact-recipe twin "OT-CFM (sigma 0)").
   */
  alsoBeside?: string[];
  /** NLL in bits/dim, FID, NFE, as printed; absent = not reported. */
  bpd?: number;
  fid?: number;
  nfe?: number;
  source: keyof typeof PUBLISHED_SOURCES;
}

/**
 * The sources of the published figures, by key: label, citation, arXiv id, the solver used
 * and a note on what the figures measure.
 * @example
 * PUBLISHED_SOURCES.lipman2023.arxiv; // "2210.02747"
 */
export const PUBLISHED_SOURCES = {
  lipman2023: {
    label: "Lipman et al. 2023, Table 1",
    citation: "Y. Lipman, R. T. Q. Chen, H. Ben-Hamu, M. Nickel, M. Le. Flow Matching for " +
      "Generative Modeling. ICLR 2023. Table 1 (CIFAR-10).",
    arxiv: "2210.02747",
    solver: "torchdiffeq dopri5, rtol = atol = 1e-5",
    note:
      "NLL in bits/dim on the CIFAR-10 test set; FID of 50,000 samples; all five rows trained " +
      "by the authors with the same U-Net.",
  },
  liu2023: {
    label: "Liu et al. 2023, Table 1",
    citation: "X. Liu, C. Gong, Q. Liu. Flow Straight and Fast: Learning to Generate and " +
      "Transfer Data with Rectified Flow. ICLR 2023. Table 1 (CIFAR-10, RK45 sampler).",
    arxiv: "2209.03003",
    solver: "scipy RK45 (Hairer/SciPy error weights, not torchdiffeq's)",
    note: "NFE from SciPy's RK45, whose controller differs from torchdiffeq's dopri5.",
  },
  tong2024: {
    label: "Tong et al. 2024",
    citation: "A. Tong, K. Fatras, N. Malkin, G. Huguet, Y. Zhang, J. Rector-Brooks, G. Wolf, " +
      "Y. Bengio. Improving and Generalizing Flow-Based Generative Models with Minibatch " +
      "Optimal Transport. TMLR 2024 (TorchCFM; CIFAR-10, adaptive sampler).",
    arxiv: "2302.00482",
    solver:
      "torchdiffeq dopri5, rtol = atol = 1e-5 (TorchCFM examples/images/cifar10/compute_fid.py)",
  },
} satisfies Record<string, PublishedSource>;

/**
 * Every published figure fmbench shows, in one place.
 * @example
 * const ot = PUBLISHED_ROWS.find((r) => r.source === "lipman2023" && r.method === "FM w/ OT");
 * // { method: "FM w/ OT", bpd: 2.99, fid: 6.35, nfe: 142, suite: "cifar10", ... }
 */
export const PUBLISHED_ROWS: PublishedRow[] = [
  // Lipman et al., Table 1, CIFAR-10: NLL (bits/dim) / FID / NFE.
  ...([
    ["DDPM", "DDPM-style", 3.12, 7.48, 274],
    ["Score Matching", "Score Matching", 3.16, 19.94, 242],
    ["ScoreFlow", "ScoreFlow", 3.09, 20.78, 428],
    ["FM w/ Diffusion", "FM w/ Diffusion", 3.10, 8.06, 183],
    ["FM w/ OT", "FM w/ OT", 2.99, 6.35, 142],
  ] as const).map(([method, fmbenchMethod, bpd, fid, nfe]): PublishedRow => ({
    suite: "cifar10",
    dataset: "cifar10",
    method,
    fmbenchMethod,
    bpd,
    fid,
    nfe,
    source: "lipman2023",
  })),
  // Liu et al. (rectified flow), RK45: FID and NFE.
  { ...cifar("1-RF", "1-RF"), fid: 2.58, nfe: 127, source: "liu2023" },
  { ...cifar("2-RF", "2-RF"), fid: 3.36, nfe: 110, source: "liu2023" },
  // Tong et al. (TorchCFM), dopri5: FID and NFE. I-CFM is the independent-coupling straight path,
  // the recipe fmbench trains as 1-RF.
  // Beside "OT-CFM (sigma 0)" (the straight path, --budget torchcfm's exact recipe) when that ran.
  {
    ...cifar("OT-CFM", "OT-CFM"),
    alsoBeside: ["OT-CFM (sigma 0)"],
    fid: 3.58,
    nfe: 134,
    source: "tong2024",
  },
  { ...cifar("I-CFM", "1-RF"), fid: 3.66, nfe: 146, source: "tong2024" },
];

function cifar(method: string, fmbenchMethod: string) {
  return { suite: "cifar10", dataset: "cifar10", method, fmbenchMethod };
}

/**
 * The published rows for one suite and data set, each with its source.
 * @example
 * publishedRows("cifar10", "cifar10").map((r) => `${r.method}: FID ${r.fid} (${r.source.label})`);
 */
export function publishedRows(
  suite: string,
  dataset: string,
): Array<Omit<PublishedRow, "source"> & { source: PublishedSource }> {
  return PUBLISHED_ROWS.filter((r) => r.suite === suite && r.dataset === dataset)
    .map((r) => ({ ...r, source: PUBLISHED_SOURCES[r.source] }));
}
