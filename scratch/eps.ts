import vp from "../plugins/paths/vp-diffusion.ts";
import ot from "../plugins/paths/cond-ot.ts";
import cos from "../plugins/paths/cosine.ts";
for (const p of [vp, ot, cos]) {
  const s = p.schedule!;
  console.log(p.name, p.tRange);
  for (const t of [0, 1e-5, 1e-3, 0.01, 0.1, 0.5, 0.9, 0.99, 1 - 1e-3, 1 - 1e-5]) {
    const a = s.alpha(t), da = s.dAlpha(t), sg = s.sigma(t), ds = s.dSigma(t);
    const cx = da / Math.max(a, 1e-4), ce = ds - da * sg / Math.max(a, 1e-4);
    console.log(
      `  t=${t} a=${a.toExponential(3)} sg=${sg.toExponential(3)} da=${da.toExponential(3)} ds=${
        ds.toExponential(3)
      }  v = ${cx.toExponential(3)} x + ${ce.toExponential(3)} eps   | u-coef x1 ${
        da.toExponential(2)
      } x0 ${ds.toExponential(2)}`,
    );
  }
}
