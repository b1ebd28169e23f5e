"""How SpikingJelly 2.0 picks its neuron implementation, and how we see which one ran.

SJ 2.0 neurons have no backend argument. Each operator reads one environment variable when its
package ``spikingjelly._ops.<op>`` is first imported (``_ops/selection.py``, ``_CudaSelection``):
SJ_PLIF_CUDA_IMPLEMENTATION, SJ_LIF_CUDA_IMPLEMENTATION, ... = auto (default) | cuda | triton | torch.
``auto`` tries cuda (the native extension, only present when SJ was built from source with
SJ_BUILD_NATIVE_CUDA=1), then triton, then torch for eager calls; an explicit name uses that one or
raises. Inputs the kernels do not take (a state that is not float32, e.g. a bfloat16 input, or an
unsupported surrogate) run the torch reference, which SJ allows only under ``auto``. SJ logs its
choice through loguru ("ops selection operator=sj_plif ... implementation=triton"), disabled by
default; :class:`LogCapture` enables and records it.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

IMPLEMENTATIONS = ("auto", "cuda", "triton", "torch")
ENV_VARIABLES = {"plif": "SJ_PLIF_CUDA_IMPLEMENTATION", "lif": "SJ_LIF_CUDA_IMPLEMENTATION"}


def implementation_env(implementation: str, operators: tuple[str, ...] = tuple(ENV_VARIABLES)) -> dict[str, str]:
    """The environment variables that make SJ use ``implementation`` for ``operators`` (set before import)."""
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"SpikingJelly implementation must be one of {IMPLEMENTATIONS}, got {implementation!r}")
    return {ENV_VARIABLES[op]: implementation for op in operators}


def native_built(operator: str) -> bool:
    """Whether SJ's native CUDA extension for ``operator`` ('plif', 'lif') is installed, without importing SJ."""
    spec = importlib.util.find_spec("spikingjelly")
    if spec is None or not spec.submodule_search_locations:
        return False
    folder = Path(next(iter(spec.submodule_search_locations))) / "_ops" / operator
    return any(folder.glob("_C*.so")) and (folder / "_native_build.json").is_file()


class LogCapture:
    """Record SpikingJelly's loguru messages (its implementation choices) instead of printing them."""

    def __init__(self) -> None:
        import spikingjelly.logger  # noqa: F401 - importing it disables SJ's logs, so enable after
        from loguru import logger

        logger.remove()  # loguru's default stderr sink; this runs in a worker process of its own
        logger.enable("spikingjelly")
        self.lines: list[str] = []
        logger.add(lambda message: self.lines.append(str(message).strip()), level="INFO", format="{message}")

    def since(self, mark: int) -> list[str]:
        """Lines logged after ``len(self.lines)`` was ``mark``."""
        return self.lines[mark:]


def selected_implementation(lines: list[str], operator: str) -> str | None:
    """The implementation SJ logged as selected for ``operator`` (e.g. 'sj_plif'), None if it logged none."""
    found = None
    for line in lines:
        match = re.search(rf"ops selection operator={operator} .*?implementation=(\S+)", line)
        if match:
            found = match.group(1) + (" (fallback)" if "profile=fallback" in line else "")
    return found
