#!/usr/bin/env python3
"""Run the reference implementations of fmbench's affine-path samplers on the same toy model and noise.

bench/samplers_parity.ts writes the inputs (an MLP velocity field's weights, the source noise, the
cases, EDM's churn noise) and runs this script with Debian's PyTorch; the answers (each reference's
final states and its number of model evaluations) become tests/fixtures/samplers-parity.json, which
tests/samplers_parity_test.ts checks fmbench's plugins against. The references are the public
repositories, fetched and unpacked (never copied into fmbench), on PYTHONPATH:

    LuChengTHU/dpm-solver   dpm_solver_pytorch.py   DPM_Solver(algorithm_type="dpmsolver++")
    wl-zhao/UniPC           uni_pc.py               UniPC(variant="bh2")
    NVlabs/edm              generate.py             edm_sampler (deterministic and stochastic)
    zju-pi/diff-sampler     diff-solvers-main/solvers.py   ipndm_sampler, heun_sampler

    /usr/bin/python3 bench/samplers_reference.py IN.json OUT.json

Everything here is float64 (torch.set_default_dtype), so the recorded states carry no float32
round-off; fmbench's side is float32.

Conventions (the mapping each plugin's JSDoc states):
- fmbench's time t runs from noise (t0) to data (t1); DPM-Solver's and UniPC's t_d is diffusion time.
  On vp-diffusion t_d = 1 - t and NoiseScheduleVP('linear', 0.1, 20) is the same schedule. For
  cond-ot and linear (alpha = t) AffineSchedule below gives DPM-Solver the schedule at t_d = 2 - t:
  DPM-Solver asserts t_end > 0, and cond-ot's data end t = 1 is t_d = 0 in the plain mapping. The
  solver only reads the schedule, so the shift changes nothing else (time_uniform stays uniform).
- DPM-Solver's data prediction is fmbench's x1_hat, derived here from the MLP's velocity v by
  x1_hat = (sigma' x - sigma v) / (alpha sigma' - sigma alpha'). On vp-diffusion it enters through
  model_wrapper(model_type="x_start"); on cond-ot and linear, whose alpha(0) = 0 makes DPM-Solver's
  own noise -> data conversion 0/0 at the start, a subclass returns x1_hat from data_prediction_fn
  (for UniPC on every path: uni_pc.py's model_wrapper does not broadcast alpha_t over 2-D data).
  The update rules, grids, lower_order_final and the handling of lambda = -inf stay DPM-Solver's.
- EDM and diff-sampler use x~ = x / alpha and sigma~ = sigma / alpha (the source std is 1 on these
  paths); their denoiser D(x~; sigma~) is x1_hat(alpha x~, t(sigma~)), t(sigma~) in closed form.
  Their latents are fmbench's x0 / sigma(t0) (they multiply by the first sigma~ themselves).
"""

import contextlib
import json
import math
import sys
import types

import torch

torch.set_default_dtype(torch.float64)

SIGMA_MIN_OT = 1e-4  # plugins/paths/cond-ot.ts
B0, B1 = 0.1, 20.0  # plugins/paths/vp-diffusion.ts


# ------------------------------------------------------------------------------------------------
# fmbench's paths in fmbench time t: (alpha, sigma, alpha', sigma') and the inverse of sigma~.


def coeffs(path, t):
    if path == "linear":
        return t, 1 - t, 1.0, -1.0
    if path == "cond-ot":
        return t, 1 - (1 - SIGMA_MIN_OT) * t, 1.0, -(1 - SIGMA_MIN_OT)
    if path == "vp-diffusion":
        s = 1 - t
        a = math.exp(-0.5 * (B0 * s + 0.5 * (B1 - B0) * s * s))
        da = 0.5 * a * (B0 + s * (B1 - B0))
        sg = math.sqrt(max(1 - a * a, 0.0))
        return a, sg, da, -a * da / math.sqrt(max(1 - a * a, 1e-12))
    raise ValueError(path)


def level(path, t):
    a, sg, _, _ = coeffs(path, t)
    return sg / a if a > 0 else math.inf


def time_at_level(path, lv):
    if path == "linear":
        return 1 / (1 + lv)
    if path == "cond-ot":
        return 1 / (lv + 1 - SIGMA_MIN_OT)
    if path == "vp-diffusion":  # EDM's vp_sigma_inv with beta_d = 19.9, beta_min = 0.1
        s = (math.sqrt(B0 ** 2 + 2 * (B1 - B0) * math.log(lv * lv + 1)) - B0) / (B1 - B0)
        return 1 - s
    raise ValueError(path)


T_RANGE = {"linear": (0.0, 1.0), "cond-ot": (0.0, 1.0), "vp-diffusion": (0.0, 1 - 1e-5)}


# ------------------------------------------------------------------------------------------------
# The toy model: fmbench's MLP (plugins/models/mlp.ts) with the weights from the inputs.


class Field:
    def __init__(self, weights, path):
        self.ws = [torch.tensor(w["w"]) for w in weights]
        self.bs = [torch.tensor(w["b"]) for w in weights]
        self.path = path
        self.calls = 0

    def velocity(self, x, t):
        h = torch.cat([x, torch.full((x.shape[0], 1), float(t))], 1)
        for i, (w, b) in enumerate(zip(self.ws, self.bs)):
            h = h @ w + b
            if i + 1 < len(self.ws):
                h = h * torch.sigmoid(h)
        return h

    def data(self, x, t):
        """x1_hat at fmbench time t (one model evaluation); x of shape [B, 2] or [B, 2, 1, 1]."""
        self.calls += 1
        a, sg, da, ds = coeffs(self.path, float(t))
        v = self.velocity(x.reshape(x.shape[0], -1), t).reshape(x.shape)
        return (ds * x - sg * v) / (a * ds - sg * da)

    def denoiser(self, x_tilde, lv):
        """EDM's D(x~; sigma~)."""
        t = time_at_level(self.path, float(lv))
        a = coeffs(self.path, t)[0]
        return self.data(a * x_tilde, t)


# ------------------------------------------------------------------------------------------------
# DPM-Solver++ and UniPC.


class AffineSchedule:
    """A NoiseScheduleVP-like schedule for alpha = t paths, at DPM-Solver time t_d = 2 - t."""

    def __init__(self, path):
        self.path, self.T, self.total_N, self.schedule = path, 2.0, 1000, "affine"

    def _ab(self, t_d):
        t = 2.0 - t_d
        a = t
        sg = 1 - t if self.path == "linear" else 1 - (1 - SIGMA_MIN_OT) * t
        return a, sg

    def marginal_log_mean_coeff(self, t_d):
        return torch.log(self._ab(t_d)[0])

    def marginal_alpha(self, t_d):
        return self._ab(t_d)[0]

    def marginal_std(self, t_d):
        return self._ab(t_d)[1]

    def marginal_lambda(self, t_d):
        a, sg = self._ab(t_d)
        return torch.log(a) - torch.log(sg)

    def inverse_lambda(self, lamb):
        e = torch.exp(lamb)  # alpha / sigma = t / (1 - c t)  =>  t = e / (1 + c e)
        c = 1.0 if self.path == "linear" else 1 - SIGMA_MIN_OT
        return 2.0 - e / (1 + c * e)


def run_dpm_like(case, field, x0, module, kind):
    path, steps = case["path"], case["steps"]
    fn = None
    if path == "vp-diffusion":
        ns = module.NoiseScheduleVP("linear", continuous_beta_0=B0, continuous_beta_1=B1,
                                    dtype=torch.float64)
        t_start, t_end, shift = 1.0, 1e-5, 1.0
        if kind == "dpm":  # uni_pc.py's model_wrapper does not broadcast alpha_t over [B, 2]
            fn = module.model_wrapper(lambda x, t_d: field.data(x, 1 - float(t_d[0])), ns,
                                      model_type="x_start")
    else:
        ns = AffineSchedule(path)
        t_start, t_end, shift = 2.0, 1.0, 2.0
    skip = {"uniform": "time_uniform", "logsnr": "logSNR"}[case["grid"]]
    order = case.get("order", 2)
    if kind == "dpm":
        base = module.DPM_Solver
        kwargs = {"algorithm_type": "dpmsolver++"}
    else:
        base = module.UniPC
        kwargs = {"algorithm_type": "data_prediction", "variant": "bh2"}
    if fn is None:
        class Direct(base):  # the data prediction directly: DPM-Solver's would divide by alpha = 0
            def data_prediction_fn(self, x, t_d):
                return field.data(x, shift - float(t_d.reshape(-1)[0]))
        solver = Direct(lambda x, t: None, ns, **kwargs)
    else:
        solver = base(fn, ns, **kwargs)
    # uni_pc.py combines its differences with einsum over image-shaped tensors [B, C, H, W]: the
    # 2-D points go in as [B, 2, 1, 1]. It also prints on every step.
    x = x0 if kind == "dpm" else x0.reshape(x0.shape[0], -1, 1, 1)
    with contextlib.redirect_stdout(sys.stderr):
        x = solver.sample(x, steps=steps, t_start=t_start, t_end=t_end, order=order,
                          skip_type=skip, method="multistep", lower_order_final=True)
    return x.reshape(x0.shape)


# ------------------------------------------------------------------------------------------------
# EDM and diff-sampler.


class EdmNet:
    def __init__(self, field):
        self.field, self.sigma_min, self.sigma_max = field, 0.0, math.inf

    def round_sigma(self, sigma):
        return torch.as_tensor(sigma)

    def __call__(self, x, sigma, class_labels=None):
        return self.field.denoiser(x, float(sigma))


def latents_of(case, x0):
    t0 = T_RANGE[case["path"]][0]
    return x0 / coeffs(case["path"], t0)[1]


def run_edm(case, field, x0, edm):
    noise = [torch.tensor(n).reshape(x0.shape) for n in case.get("noise", [])]
    draws = iter(noise)

    def randn_like(x):
        return next(draws) if noise else torch.zeros_like(x)

    c = case.get("churn", {})
    x = edm.edm_sampler(EdmNet(field), latents_of(case, x0), randn_like=randn_like,
                        num_steps=case["steps"], sigma_min=0.002, sigma_max=80, rho=7,
                        S_churn=c.get("churn", 0), S_min=c.get("sMin", 0),
                        S_max=c.get("sMax", math.inf), S_noise=c.get("sNoise", 1))
    a1 = coeffs(case["path"], T_RANGE[case["path"]][1])[0]
    return a1 * x


def run_diff_sampler(case, field, x0, ds, utils):
    """The karras grid: diff-sampler's own polynomial schedule over [0.002, 80], then the path's end
    level when it is below 0.002 (fmbench's last step; EDM's step to sigma = 0)."""
    path, steps = case["path"], case["steps"]
    end = level(path, T_RANGE[path][1])
    n_poly = steps if end < 0.002 else steps + 1
    t_steps = utils.get_schedule(n_poly, 0.002, 80, schedule_type="polynomial", schedule_rho=7)
    if end < 0.002:
        t_steps = torch.cat([t_steps, torch.tensor([end])])
    net = EdmNet(field)
    fn = {"ipndm": ds.ipndm_sampler, "heun": ds.heun_sampler}[case["reference"].split()[-1]]
    x = fn(net, latents_of(case, x0), t_steps=t_steps, max_order=4)
    a1 = coeffs(path, T_RANGE[path][1])[0]
    return a1 * x, [float(v) for v in t_steps]


# ------------------------------------------------------------------------------------------------


def main():
    src, dst = sys.argv[1], sys.argv[2]
    inputs = json.load(open(src))
    import dpm_solver_pytorch
    import uni_pc
    try:
        import tqdm  # noqa: F401  (generate.py imports it for its command line only)
    except ImportError:
        sys.modules["tqdm"] = types.ModuleType("tqdm")
    import generate as edm
    import solvers as ds
    import solver_utils
    x0 = torch.tensor(inputs["x0"])
    out = []
    for case in inputs["cases"]:
        field = Field(inputs["weights"], case["path"])
        ref = case["reference"]
        extra = {}
        if ref.startswith("LuChengTHU"):
            x = run_dpm_like(case, field, x0, dpm_solver_pytorch, "dpm")
        elif ref.startswith("wl-zhao"):
            x = run_dpm_like(case, field, x0, uni_pc, "unipc")
        elif ref.startswith("NVlabs"):
            x = run_edm(case, field, x0, edm)
        else:
            x, extra["levels"] = run_diff_sampler(case, field, x0, ds, solver_utils)
        out.append({**case, "nfe": field.calls, "x1": x.tolist(), **extra})
        print(f"{case['id']}: NFE {field.calls}", file=sys.stderr)
    json.dump({**inputs, "torch": torch.__version__, "python": sys.version.split()[0],
               "cases": out}, open(dst, "w"), indent=1)


if __name__ == "__main__":
    main()
