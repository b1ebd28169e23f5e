#!/usr/bin/env bash
# Fill .whl/ (git-ignored) with what benchmarks/gpu.sh installs on a GPU machine that reaches no
# package registry: the peer libraries and the pure-Python imports they need that its image lacks.
# Run it here, where pip reaches PyPI; re-running it replaces the folder. See benchmarks/GPU.md.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3
DEST=.whl
# The GPU image already has torch, triton, numpy, h5py, torchvision, matplotlib, tqdm, scipy, ...:
# only these travel. norse imports nir and nirtorch at `import norse.torch`; nir imports h5py.
WHEELS=(spikingjelly==2.0.0 "loguru>=0.7,<1" snntorch nir nirtorch)
PLATFORMS=(manylinux_2_28_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64)

pip=("$PYTHON" -m pip --disable-pip-version-check -q)
rm -rf "$DEST"
mkdir -p "$DEST/sdist"
platform_args=()
for p in "${PLATFORMS[@]}"; do platform_args+=(--platform "$p"); done
"${pip[@]}" download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  "${platform_args[@]}" -d "$DEST" "${WHEELS[@]}"
# norse 1.1.0 exists only as an sdist; it is pure Python (no extension modules), so a wheel built
# here installs on the GPU machine. Build isolation fetches setuptools and setuptools_scm.
"${pip[@]}" download --no-deps --no-binary=:all: -d "$DEST/sdist" norse==1.1.0
"${pip[@]}" wheel --no-deps -w "$DEST" "$DEST"/sdist/norse-1.1.0.tar.gz
rm "$DEST"/sdist/norse-1.1.0.tar.gz
# SpikingJelly's wheel has no compiled CUDA operators; its sdist holds their sources, from which
# benchmarks/gpu_sj_native.py builds the PLIF and LIF ones on the GPU machine (nvcc is there).
"${pip[@]}" download --no-deps --no-binary=:all: -d "$DEST/sdist" spikingjelly==2.0.0

for wheel in "$DEST"/*.whl; do
  case "$wheel" in *-none-any.whl) ;; *) echo "gpu_wheels: $wheel is not pure Python" >&2; exit 1 ;; esac
done
ls -l "$DEST" "$DEST/sdist"
du -sh "$DEST"
