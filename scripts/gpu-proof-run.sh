#!/usr/bin/env bash
# The GPU proof, on a machine without network or Deno (python3 with torch present), from what
# scripts/gpu-proof-build.sh put in .gpu/: unpack; print the adapter; time tfjs's and fmbench's
# webgpu convolution gradients; time the U-Net training step on webgpu (fmbench's and tfjs's
# convolution gradients) and the same architecture in PyTorch on the same GPU (checked to give
# fmbench's output on the same weights); run a short
# CIFAR-10 comparison (FM w/ OT, FM w/ Diffusion, 1-RF); write under $OUT: summary.md,
# timings.json, adapter.json, conv-grads.md, results.json, report.html, log.txt.
#
# Usage: OUT=/some/dir bash scripts/gpu-proof-run.sh
# Environment (defaults for one H200 call of at most 10 minutes):
#   PROOF_BUDGET_S=560 whole run; phases are cut to what is left
#   PROOF_MINUTES=1.5 training minutes per method (shortened to fit the budget)
#   PROOF_PRESET=small PROOF_BATCH=128 PROOF_CONV_BATCH=128 PROOF_REPS=5
#   PROOF_SAMPLES=500 PROOF_NLL_POINTS=100 PROOF_EVAL_BATCH=250
#   PROOF_METHODS="FM w/ OT,FM w/ Diffusion,1-RF" PROOF_BACKEND=webgpu
#   PROOF_TORCH_DEVICE=cuda PROOF_PYTHON=python3
#   PROOF_REHEARSAL=1: a CPU machine with a software WebGPU adapter: tiny settings, torch on
#     CPU, no Vulkan loader packages.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
GPU=$ROOT/.gpu
START=$(date +%s)
if [ "${PROOF_REHEARSAL:-0}" = 1 ]; then
  : "${PROOF_PRESET:=tiny}" "${PROOF_BATCH:=8}" "${PROOF_CONV_BATCH:=4}" "${PROOF_REPS:=2}"
  : "${PROOF_MINUTES:=0.1}" "${PROOF_SAMPLES:=4}" "${PROOF_NLL_POINTS:=2}"
  : "${PROOF_EVAL_BATCH:=4}" "${PROOF_TORCH_DEVICE:=cpu}" "${PROOF_BUDGET_S:=1800}"
fi
BUDGET=${PROOF_BUDGET_S:-560}
MINUTES=${PROOF_MINUTES:-1.5}
PRESET=${PROOF_PRESET:-small}
BATCH=${PROOF_BATCH:-128}
CONV_BATCH=${PROOF_CONV_BATCH:-128}
REPS=${PROOF_REPS:-5}
SAMPLES=${PROOF_SAMPLES:-500}
NLL_POINTS=${PROOF_NLL_POINTS:-100}
EVAL_BATCH=${PROOF_EVAL_BATCH:-250}
METHODS=${PROOF_METHODS:-FM w/ OT,FM w/ Diffusion,1-RF}
BACKEND=${PROOF_BACKEND:-webgpu}
TORCH_DEVICE=${PROOF_TORCH_DEVICE:-cuda}
PY=${PROOF_PYTHON:-python3}
OUT=${OUT:-$ROOT/runs/gpu-proof-$(date -u +%Y%m%dT%H%M%S)}
WORK=$(mktemp -d /tmp/fmbench-proof.XXXXXX)
mkdir -p "$OUT"
LOG=$OUT/log.txt
: >"$LOG"

elapsed() { echo $(($(date +%s) - START)); }
left() { echo $((BUDGET - $(elapsed))); }
say() { echo "[$(elapsed)s] $*" | tee -a "$LOG" >&2; }
# run SECONDS OUTFILE CMD...: stdout to OUTFILE, stderr to the log, killed after SECONDS.
run() {
  local secs=$1 out=$2
  shift 2
  if [ "$secs" -lt 10 ]; then
    say "skipped (out of time): $*"
    return 124
  fi
  timeout --kill-after=10 "$secs" "$@" >"$out" 2>>"$LOG"
  local rc=$?
  [ $rc -eq 0 ] || say "exit $rc: $*"
  return $rc
}

say "unpacking into $WORK"
for f in deno.xz app.tar.xz cifar-subset.tar.xz; do
  [ -f "$GPU/$f" ] || { say "error: $GPU/$f missing: run scripts/gpu-proof-build.sh first"; exit 1; }
done
xz -dc "$GPU/deno.xz" >"$WORK/deno" && chmod +x "$WORK/deno"
# The bundle must sit in .gpu/: it finds the built-in plugins at ../plugins/.
tar -xJf "$GPU/app.tar.xz" -C "$GPU"
mkdir -p "$WORK/data" && tar -xJf "$GPU/cifar-subset.tar.xz" -C "$WORK/data"
export DENO_DIR=$WORK/deno-dir NO_COLOR=1
FMBENCH=("$WORK/deno" run -A --cached-only --no-config --no-lock "$GPU/fmbench.js")

if [ "${PROOF_REHEARSAL:-0}" != 1 ]; then
  if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
    if [ "$(id -u)" = 0 ]; then
      say "installing the Vulkan loader from .gpu/debs (dpkg -x into /)"
      for f in "$GPU"/debs/*.deb; do dpkg -x "$f" /; done
      ldconfig
    else
      say "installing the Vulkan loader from .gpu/debs into $WORK/root (not root)"
      for f in "$GPU"/debs/*.deb; do dpkg -x "$f" "$WORK/root"; done
      export LD_LIBRARY_PATH=$WORK/root/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
    fi
  fi
  icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$icd" ] &&
    ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=$icd
    export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
    say "VK_DRIVER_FILES=$icd"
  fi
  command -v nvidia-smi >/dev/null && nvidia-smi -L 2>&1 | tee -a "$LOG" >&2
fi

say "adapter"
run 90 "$OUT/adapter.json" "${FMBENCH[@]}" adapter
grep -m1 '"device"' "$OUT/adapter.json" | tee -a "$LOG" >&2

say "webgpu convolution gradients, tfjs vs fmbench (batch $CONV_BATCH)"
run $(($(left) / 6)) "$OUT/conv-grads.md" "${FMBENCH[@]}" conv-micro "$CONV_BATCH" 3

say "U-Net $PRESET training step on $BACKEND at batch $BATCH (fmbench's conv gradients)"
run $(($(left) / 5)) "$WORK/unet-fmbench.json" "${FMBENCH[@]}" unet-step --backend "$BACKEND" \
  --preset "$PRESET" --batch "$BATCH" --reps "$REPS" --micro-batch "$BATCH"
if [ "$BACKEND" = webgpu ]; then
  say "the same with tfjs's own webgpu conv gradients"
  FMBENCH_WEBGPU_CONV_GRADS=tfjs run $(($(left) / 5)) "$WORK/unet-tfjs.json" "${FMBENCH[@]}" \
    unet-step --backend webgpu --preset "$PRESET" --batch "$BATCH" --reps "$REPS" \
    --micro-batch "$BATCH"
fi

params=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["params"])' \
  "$WORK/unet-fmbench.json" 2>/dev/null || echo "")
say "PyTorch: the same U-Net on $TORCH_DEVICE (fmbench's parameter count: ${params:-unknown})"
run $(($(left) / 4)) "$WORK/unet-torch.json" env PYTHONUNBUFFERED=1 "$PY" bench/torch_unet.py \
  --preset "$PRESET" --batch "$BATCH" --reps 10 --device "$TORCH_DEVICE" \
  ${params:+--expect-params "$params"}
run $(($(left) / 4)) "$WORK/unet-torch-tf32.json" env PYTHONUNBUFFERED=1 "$PY" \
  bench/torch_unet.py --preset "$PRESET" --batch "$BATCH" --reps 10 \
  --device "$TORCH_DEVICE" --tf32

say "PyTorch U-Net = fmbench's: fmbench's $PRESET output on random weights, reproduced in torch"
run 120 /dev/null "${FMBENCH[@]}" unet-export "$WORK/unet.safetensors" "$PRESET" &&
  run 120 "$WORK/unet-check.json" "$PY" bench/torch_unet.py --check "$WORK/unet.safetensors" \
    --device cpu
cat "$WORK/unet-check.json" >&2

# Training minutes per method: PROOF_MINUTES, or less so that 3 methods and their evaluation
# (about a third of the time left) fit.
n_methods=$(echo "$METHODS" | awk -F, '{ print NF }')
fit=$(echo "($(left) - 60) * 2 / 3 / $n_methods / 60" | bc -l)
minutes=$(echo "m = $MINUTES; if ($fit < m) m = $fit; if (m < 0.05) m = 0.05; m" | bc -l)
say "CIFAR-10 comparison: $METHODS; $(printf '%.2f' "$minutes") min training each"
run $(($(left) - 25)) "$WORK/bench.out" "${FMBENCH[@]}" bench --suite cifar10 --budget quick \
  --backend "$BACKEND" --preset "$PRESET" --batch "$BATCH" --steps 1000000 \
  --minutes "$(printf '%.3f' "$minutes")" --methods "$METHODS" --samples "$SAMPLES" \
  --nll-points "$NLL_POINTS" --eval-batch "$EVAL_BATCH" --data-dir "$WORK/data" \
  --out "$WORK/run"
cat "$WORK/bench.out" >>"$LOG"
if [ -f "$WORK/run/results.json" ] && [ ! -f "$WORK/run/report.html" ]; then
  say "rendering report.html from the partial results.json"
  run 60 /dev/null "${FMBENCH[@]}" report "$WORK/run"
fi
cp "$WORK/run/results.json" "$WORK/run/report.html" "$OUT/" 2>/dev/null

say "summary"
"$PY" - "$WORK" "$OUT" <<'PY' 2>>"$LOG" | tee "$OUT/summary.md" >&2
import json, os, sys
work, out = sys.argv[1], sys.argv[2]
def load(name):
    try:
        with open(os.path.join(work, name)) as f:
            return json.load(f)
    except Exception as e:
        return {"error": f"{name}: {e}"}
t = {k: load(f"unet-{k}.json") for k in ["fmbench", "tfjs", "torch", "torch-tf32", "check"]}
with open(os.path.join(out, "timings.json"), "w") as f:
    json.dump(t, f, indent=1)
ips = lambda r: r.get("train", {}).get("imagesPerSec")
print("# fmbench GPU proof\n")
print(f"adapter: {t['fmbench'].get('device', 'n/a')}  ")
if "gpu" in t["torch"]:
    print(f"torch: {t['torch'].get('framework')} on {t['torch']['gpu']}  ")
print(f"U-Net {t['fmbench'].get('preset', '?')} ({t['fmbench'].get('params', '?')} params, "
      f"torch {t['torch'].get('params', '?')}), training step at batch {t['fmbench'].get('batch', '?')}:\n")
c = t["check"]
print(f"same architecture: torch reproduces fmbench's output on random weights to a relative "
      f"{c.get('relDiff', 'n/a')} ({c.get('error', 'ok')})\n")
print("| implementation | ms/step | images/s | ratio to torch fp32 |")
print("|---|---:|---:|---:|")
base = ips(t["torch"])
for k, label in [("fmbench", "fmbench webgpu, fmbench conv grads"),
                 ("tfjs", "fmbench webgpu, tfjs conv grads"),
                 ("torch", "PyTorch fp32"), ("torch-tf32", "PyTorch TF32")]:
    r = t[k]
    if ips(r):
        ratio = f"{ips(r) / base:.3f}" if base else "n/a"
        print(f"| {label} | {r['train']['msPerStep']:.1f} | {ips(r):.1f} | {ratio} |")
    else:
        print(f"| {label} | n/a | n/a | {r.get('error', 'not run')} |")
def num(x, fmt):
    return format(x, fmt) if isinstance(x, (int, float)) else "n/a"
try:
    res = json.load(open(os.path.join(out, "results.json")))
    print("\nCIFAR-10 comparison (results.json, report.html):\n")
    print("| method | status | steps | train s | final loss | bits/dim | dopri5 NFE |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in res["runs"]:
        tr = r.get("train") or {}
        nll = (r.get("nll") or [{}])[0]
        nfe = next((e.get("nfe") for e in r.get("evals", []) if e["solver"] == "dopri5"), None)
        print(f"| {r['method']} | {r['status']} {r.get('error', '')} | {tr.get('steps', 'n/a')} | "
              f"{num(tr.get('seconds'), '.0f')} | {num(tr.get('finalLoss'), '.4f')} | "
              f"{num(nll.get('bpd'), '.3f')} | {num(nfe, '.1f')} |")
except Exception as e:
    print(f"\nno comparison results: {e}")
PY
rm -rf "$WORK"
say "done in $(elapsed)s; outputs in $OUT"
