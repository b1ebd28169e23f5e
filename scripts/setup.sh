#!/usr/bin/env bash
# One set-up for a fresh machine: a virtual environment in .venv with torch, spikedyn, its test
# tools and the tools that build its documentation site (the docs extra: scripts/docs.sh).
# Idempotent: a second run only checks. A torch that $PYTHON can already import (a user's own
# CUDA build, say) is kept: the venv is pointed at its site-packages.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
  if torch_site=$("$PYTHON" -c "import os, torch; print(os.path.dirname(os.path.dirname(torch.__file__)))" 2>/dev/null); then
    # Keep the torch this interpreter already has (its own venv or conda env included).
    echo "setup: using the torch in $torch_site"
    "$VENV/bin/python" -c "import site, sys; open(site.getsitepackages()[0] + '/_spikedyn_user_torch.pth', 'w').write(sys.argv[1] + '\\n')" "$torch_site"
  fi
fi
pip=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
installed() { "$VENV/bin/python" -c "from importlib.metadata import version; print(version('$1'))" 2>/dev/null || true; }

if ! "$VENV/bin/python" -c "import torch" >/dev/null 2>&1; then
  # The pinned CPU build; an unpinned torch would pull several GB of CUDA packages.
  "${pip[@]}" install "torch==2.13.0"
fi
"${pip[@]}" install -e ".[test,docs]"
# The PLIF authors' library: the tests' external oracle and the benchmarks' contender. --no-deps:
# its metadata asks for torchvision, which would replace torch; its neuron, layer, functional and
# surrogate modules import only torch, numpy and loguru (spikingjelly.logger). The version is
# checked, not just the import, so that an older spikingjelly in the venv is replaced.
SPIKINGJELLY=2.0.0
if "$VENV/bin/python" -c "import sys; sys.exit(sys.version_info < (3, 11))"; then
  # loguru first: pip checks the requirements of what is already installed when it adds a package
  "${pip[@]}" install "loguru>=0.7,<1"
  if [ "$(installed spikingjelly)" != "$SPIKINGJELLY" ]; then
    "${pip[@]}" install --no-deps "spikingjelly==$SPIKINGJELLY"
  fi
else
  echo "setup: spikingjelly $SPIKINGJELLY needs Python >= 3.11, so its oracle tests will be skipped"
fi
# Norse: the NIR peer of tests/interop (its importer runs spikedyn's exports, its exports run in
# spikedyn). --no-deps for the same reason: its metadata asks for torchvision; it needs only torch,
# numpy, nir and nirtorch, which the test extra installs. An sdist, built here (pure Python).
NORSE=1.1.0
if [ "$(installed norse)" != "$NORSE" ]; then
  "${pip[@]}" install --no-deps "norse==$NORSE"
fi
echo "setup: ready ($("$VENV/bin/python" -c 'import torch, spikedyn; print("torch", torch.__version__, "/ spikedyn", spikedyn.__version__)'))"
