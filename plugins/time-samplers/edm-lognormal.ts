// EDM's log-normal training noise levels (Karras et al. 2022, P_mean -1.2, P_std 1.2), mapped to
// the time of the method's path through its schedule: sigma = sourceStd sigma(t) / alpha(t).
import {
  defineTimeSampler,
  gridPoint,
  normalCdf,
  normalDensity,
  normalQuantile,
  type Path,
  type Schedule,
  timeAtLevel,
} from "../../core/mod.ts";

/** Grid points at which the noise level must not rise (it falls from noise to data). */
const MONOTONE_CHECKS = 1000;

function scheduleOf(path: Path): Schedule {
  if (!path.schedule) {
    throw new Error(
      `time sampler "edm-lognormal" maps EDM's noise levels to t through the path's schedule ` +
        `(noise level sigma/alpha -> t); path "${path.name}" has none: use an affine path ` +
        `(e.g. cond-ot, vp-diffusion) or another time sampler (e.g. logit-normal)`,
    );
  }
  const s = path.schedule, [t0, t1] = path.tRange;
  const level = (t: number) => gridPoint(s, path.sourceStd, t).level;
  let prev = level(t0);
  for (let i = 1; i <= MONOTONE_CHECKS; i++) {
    const t = t0 + ((t1 - t0) * i) / MONOTONE_CHECKS;
    const now = level(t);
    if (!(now <= prev)) {
      throw new Error(
        `time sampler "edm-lognormal" needs the noise level sigma/alpha of path "${path.name}" ` +
          `to fall from t0 to t1; it rises from ${prev} to ${now} at t=${t}`,
      );
    }
    prev = now;
  }
  if (!(level(t1) < level(t0))) {
    throw new Error(
      `time sampler "edm-lognormal" needs the noise level sigma/alpha of path "${path.name}" ` +
        `to fall from t0 to t1; it is ${level(t0)} at both ends`,
    );
  }
  return s;
}

export default defineTimeSampler({
  name: "edm-lognormal",
  description: "EDM's log-normal noise levels (Karras et al. 2022): ln sigma ~ N(pMean, " +
    "pStd^2), mapped to the t where the path's noise level sourceStd sigma(t)/alpha(t) is " +
    "sigma (needs a path with a schedule); on the linear path it is flow_matching's skewed t",
  params: {
    pMean: { default: -1.2, description: "mean of ln sigma (EDM's P_mean)" },
    pStd: { default: 1.2, above: 0, description: "standard deviation of ln sigma (EDM's P_std)" },
  },
  prepare: ({ path, params: { pMean, pStd } }) => {
    const s = scheduleOf(path), std = path.sourceStd, [t0, t1] = path.tRange;
    const z = (t: number) => (Math.log(gridPoint(s, std, t).level) - pMean) / pStd;
    // Noise levels beyond the path's (below level(t1), above level(t0)) have no time: the trainer
    // cuts them off (cdf(t0) > 0 and cdf(t1) < 1 then) and renormalises.
    return {
      // Increasing in u: the largest noise level (t0) at u = 0.
      quantile: (u) => timeAtLevel(s, std, t0, t1, Math.exp(pMean - pStd * normalQuantile(u))),
      cdf: (t) => normalCdf(-z(t)),
      density: (t) => {
        const zt = z(t);
        if (!Number.isFinite(zt)) return 0; // the level is 0 or infinite: the tails vanish
        const dLogLevel = s.dSigma(t) / s.sigma(t) - s.dAlpha(t) / s.alpha(t);
        return (normalDensity(zt) * Math.abs(dLogLevel)) / pStd;
      },
    };
  },
});
