#!/usr/bin/env bash
# One command on a machine with one NVIDIA GPU (H100/H200): the neuron and network benchmarks against
# SpikingJelly 2.0, Norse and snnTorch, in under 6 minutes. Writes benchmarks/results/gpu_neuron.json
# and gpu_models.json (atomically, after every group) and prints their tables and targets.
# Needs no registry: the peers travel as wheels in .whl/ (benchmarks/gpu_wheels.sh fills it).
# See benchmarks/GPU.md. Budgets: GPU_NEURON_S (200) and GPU_MODELS_S (90) seconds, so that a first run leaves
# time for a rerun in 15 minutes of device time. To try it on a
# CPU: PYTHON=.venv/bin/python GPU_OUT=/tmp/gpu GPU_EXTRA_ARGS="--device cpu --smoke" bash benchmarks/gpu.sh
set -uo pipefail
cd "$(dirname "$0")/.."

NEURON_S=${GPU_NEURON_S:-200}
MODELS_S=${GPU_MODELS_S:-90}
SITE=${GPU_SITE:-/tmp/site}
OUT=${GPU_OUT:-benchmarks/results}
PYTHON=${PYTHON:-python3}
read -r -a extra <<<"${GPU_EXTRA_ARGS:-}"
SDIST=.whl/sdist/spikingjelly-2.0.0.tar.gz
export PYTHONUNBUFFERED=1
started=$SECONDS

if [ -d .whl ]; then
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --target "$SITE" .whl/*.whl \
    || echo "gpu.sh: installing .whl/ failed; peers that did not install are listed as skipped" >&2
  export PYTHONPATH="$SITE:$PWD/src"
else
  echo "gpu.sh: no .whl/ folder (run benchmarks/gpu_wheels.sh where pip works): peers will be skipped" >&2
  export PYTHONPATH="$PWD/src"
fi
mkdir -p "$OUT"
"$PYTHON" -c "import torch; print('gpu.sh:', torch.__version__, torch.cuda.get_device_name() if torch.cuda.is_available() else 'NO CUDA DEVICE')"

# SJ's native CUDA operators are not in its wheel: build them from its sdist, in the background,
# while the first groups run (gpu_neuron.py waits for the PLIF one before SJ's cuda/auto groups).
native_args=()
native_pids=()
if [ -f "$SDIST" ] && [ "${GPU_SJ_NATIVE:-1}" = 1 ]; then
  for op in plif lif; do
    status=/tmp/sj_native_$op.json
    rm -f "$status"
    ( timeout 240 "$PYTHON" benchmarks/gpu_sj_native.py --op "$op" --sdist "$SDIST" --status "$status" >"/tmp/sj_native_$op.log" 2>&1 \
        || [ -f "$status" ] || echo '{"ok": false, "error": "build killed after 240 s"}' >"$status" ) &
    native_pids+=($!)
  done
  native_args=(--native-status /tmp/sj_native_plif.json)
fi

timeout $((NEURON_S + 25)) "$PYTHON" benchmarks/gpu_neuron.py --budget-s "$NEURON_S" --out "$OUT/gpu_neuron.json" "${native_args[@]}" "${extra[@]}"
echo "gpu.sh: gpu_neuron.py exited with $? after $((SECONDS - started)) s"
for pid in "${native_pids[@]}"; do wait "$pid"; done
for status in /tmp/sj_native_*.json; do [ -f "$status" ] && echo "gpu.sh: $(cat "$status" | tr -d '\n' | cut -c1-300)"; done

timeout $((MODELS_S + 25)) "$PYTHON" benchmarks/gpu_models.py --budget-s "$MODELS_S" --out "$OUT/gpu_models.json" --neuron-json "$OUT/gpu_neuron.json" "${extra[@]}"
echo "gpu.sh: gpu_models.py exited with $? after $((SECONDS - started)) s"
