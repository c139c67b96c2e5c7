#!/usr/bin/env bash
# Build everything a GPU machine without network needs for scripts/gpu-proof-run.sh into .gpu/
# (git-ignored): fmbench bundled into one JavaScript file with its .wasm files, the Deno binary
# (xz), a CIFAR-10 subset (tar.xz) and the Vulkan loader packages; then check that .gpu/ plus the
# tracked files fit in 64 MiB (what one call to a lent GPU machine carries).
#
# Usage: bash scripts/gpu-proof-build.sh
# Environment: FMBENCH_CIFAR_SRC (default ../shared/data/cifar-10-batches-bin: a folder with
#   data_batch_1.bin and test_batch.bin), PROOF_TRAIN_IMAGES (2000), PROOF_TEST_IMAGES (500),
#   PROOF_SKIP_DEBS=1 to leave out the Vulkan loader packages, LIMIT_MIB (64).
set -euo pipefail
cd "$(dirname "$0")/.."
GPU=.gpu
SRC=${FMBENCH_CIFAR_SRC:-../shared/data/cifar-10-batches-bin}
TRAIN_N=${PROOF_TRAIN_IMAGES:-2000}
TEST_N=${PROOF_TEST_IMAGES:-500}
LIMIT_MIB=${LIMIT_MIB:-64}

rm -rf "$GPU"
mkdir -p "$GPU/debs"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

echo "== fmbench bundle (deno bundle, built-in plugins linked in)"
# deno compile would need the denort runtime from dl.deno.land, which build machines cannot
# reach; the bundle runs on the plain Deno binary instead (carried below).
deno run --allow-read --allow-write="$GPU" scripts/bundle-entry.ts "$GPU/entry.ts"
deno bundle --quiet --platform deno -o "$stage/fmbench.js" "$GPU/entry.ts"
rm "$GPU/entry.ts"
wasm=$(deno eval 'console.log(new URL("./", import.meta.resolve("@tensorflow/tfjs-backend-wasm")).pathname)' 2>/dev/null || true)
[ -n "$wasm" ] && [ -f "$wasm/tfjs-backend-wasm.wasm" ] ||
  wasm=node_modules/@tensorflow/tfjs-backend-wasm/dist
cp "$wasm"/tfjs-backend-wasm.wasm "$wasm"/tfjs-backend-wasm-simd.wasm "$stage/"
tar -C "$stage" -cf - fmbench.js tfjs-backend-wasm.wasm tfjs-backend-wasm-simd.wasm |
  xz -T2 -6 >"$GPU/app.tar.xz"

echo "== deno $(deno --version | head -n 1 | cut -d' ' -f2) binary (xz)"
xz -T2 -6 -c "$(readlink -f "$(command -v deno)")" >"$GPU/deno.xz"

echo "== CIFAR-10 subset: $TRAIN_N training + $TEST_N test images from $SRC"
for f in data_batch_1.bin test_batch.bin; do
  [ -f "$SRC/$f" ] || { echo "error: $SRC/$f not found (set FMBENCH_CIFAR_SRC)" >&2; exit 1; }
done
deno run --allow-read --allow-write="$stage" scripts/cifar-subset.ts "$SRC" "$stage/data" \
  "$TRAIN_N" "$TEST_N"
tar -C "$stage/data" -cf - cifar-10-batches-bin | xz -T2 -6 >"$GPU/cifar-subset.tar.xz"

if [ "${PROOF_SKIP_DEBS:-0}" != 1 ]; then
  echo "== Vulkan loader packages (amd64, apt-get download)"
  o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$stage/lists"
  o="$o -oAPT::Sandbox::User=root" # no _apt user switch: its warnings are noise here
  mkdir -p "$stage/lists/partial"
  # shellcheck disable=SC2086
  apt-get $o update -qq
  # shellcheck disable=SC2086
  (cd "$GPU/debs" && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 \
    libglx0 libgles2 >/dev/null)
fi

echo "== size (limit $LIMIT_MIB MiB for .gpu/ plus the tracked files)"
tracked=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -n 1 | cut -f1)
gpu=$(du -sb "$GPU" | cut -f1)
total=$((tracked + gpu))
(cd "$GPU" && du -b app.tar.xz deno.xz cifar-subset.tar.xz && du -sb debs) |
  awk '{ printf "  %-22s %8.2f MiB\n", $2, $1 / 1048576 }'
printf '  %-22s %8.2f MiB\n' "tracked files" "$(echo "$tracked / 1048576" | bc -l)"
printf '  %-22s %8.2f MiB\n' "total" "$(echo "$total / 1048576" | bc -l)"
if [ "$total" -gt $((LIMIT_MIB * 1048576)) ]; then
  echo "error: over $LIMIT_MIB MiB" >&2
  exit 1
fi
echo "ok: .gpu/ is ready; on the GPU machine run: bash scripts/gpu-proof-run.sh"
