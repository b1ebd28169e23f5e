"""Exchange with other SNN tools through NIR, the Neuromorphic Intermediate Representation.

``to_nir(model, sample, dt)`` exports a trained network's inference graph exactly (or refuses,
layer by layer), ``from_nir(graph, dt)`` runs a NIR graph as a spikedyn module, and
``write_nir`` saves a graph atomically. They need the ``nir`` package (``pip install 'spikedyn[nir]'``),
imported on first use, so ``import spikedyn.interop`` and the ``spikedyn`` command work without it.

Peers read NIR in their own ways (checked against Norse 1.1 in tests/interop/test_norse.py):
Norse runs graphs batched but takes NIR's Flatten start_dim, which counts no batch dimension,
as is (feed it one sample at a time); its LIF ignores r (it assumes r = 1, decay_input=True)
and v_reset (0), and uses the dt given to its from_nir; its to_nir writes tau = dt / tau_mem_inv,
dt times its time constant, so its graphs run as in Norse with ``from_nir(graph, dt=dt**2)``.
Its current-based LIFCell is spikedyn's CubaLIF (decay_input=True, the same order of updates),
but its to_nir leaves the CubaLIF's w_in at 1 where the cell adds its input whole: read as
NIR says (here, and by Norse's own from_nir) the input is scaled by dt/tau_syn; set
``w_in = tau_syn / dt`` (the dt the graph is read with) and it runs as the cell ran
(tests/interop/test_norse_cubalif.py). IF's r is a per-step gain in Norse, snnTorch and
sinabs, and here. NIR fires on v > threshold, spikedyn on H >= V_th:
:mod:`spikedyn.interop.neuron_mapping` moves each threshold by one float.

``from_spikingjelly(net)`` converts a multi-step SpikingJelly 2.0 network into a spikedyn one with
the same outputs; it needs SpikingJelly (not nir), imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "to_nir": "spikedyn.interop.export",
    "export_graph": "spikedyn.interop.export",
    "Export": "spikedyn.interop.export",
    "from_nir": "spikedyn.interop.importer",
    "NIRImportError": "spikedyn.interop.importer",
    "write_nir": "spikedyn.interop.files",
    "NIRExportError": "spikedyn.interop.approximations",
    "ApproximationWarning": "spikedyn.interop.approximations",
    "from_spikingjelly": "spikedyn.interop.spikingjelly",
    "SpikingJellyConversionError": "spikedyn.interop.spikingjelly",
    "NIRLimits": "spikedyn.interop.nir_limits",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'spikedyn.interop' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
