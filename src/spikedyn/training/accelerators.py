"""Whether this machine has the accelerator a config asks for, checked before a run writes anything.

Lightning finds out only when it builds its Trainer, after the run folder exists, and says so in
a long traceback; this asks Lightning's own accelerator classes first and names the config key.
"""

from __future__ import annotations

from lightning.pytorch.accelerators import AcceleratorRegistry, CUDAAccelerator, MPSAccelerator

from spikedyn.training.config.checks import raise_problems
from spikedyn.training.config.types import Problems, nearest
from spikedyn.training.config.schema import TrainerConfig

AUTO, CPU, GPU = "auto", "cpu", "gpu"  # "gpu" is Lightning's name for CUDA, or Apple's MPS where CUDA is missing


def accelerator_names() -> list[str]:
    """The values ``trainer.accelerator`` may take: auto, gpu and Lightning's registered accelerators."""
    return [AUTO, GPU, *sorted(AcceleratorRegistry.available_accelerators())]


def _is_available(name: str) -> bool:
    if name == GPU:
        return CUDAAccelerator.is_available() or MPSAccelerator.is_available()
    return bool(AcceleratorRegistry[name]["accelerator"].is_available())


def _device_count(name: str) -> int:
    if name == GPU:
        return CUDAAccelerator.auto_device_count() if CUDAAccelerator.is_available() else MPSAccelerator.auto_device_count()
    return int(AcceleratorRegistry[name]["accelerator"].auto_device_count())


def accelerator_problems(trainer: TrainerConfig) -> Problems:
    """(dotted key, what is wrong) for an accelerator, or a device count, that this machine does not have."""
    name, devices = trainer.accelerator, trainer.devices
    names = accelerator_names()
    if name not in names:
        return [("trainer.accelerator", f"{name!r} is not one of {names}{nearest(name, names)}")]
    if name == AUTO:
        return []
    if not _is_available(name):
        usable = [other for other in names if other != AUTO and _is_available(other)]
        return [("trainer.accelerator", f"{name!r} asks for a device this machine does not have (usable here: {', '.join(usable)}); set trainer.accelerator=auto or cpu")]
    if name != CPU and isinstance(devices, int) and devices > (count := _device_count(name)):
        return [("trainer.devices", f"{devices} {name} devices asked for, but this machine has {count}; set trainer.devices={count} or fewer (or -1: all)")]
    return []


def precision_problems(trainer: TrainerConfig) -> Problems:
    """A precision the chosen device cannot run as asked: 16-mixed on the CPU, which Lightning would run as bf16-mixed."""
    on_cpu = trainer.accelerator == CPU or (trainer.accelerator == AUTO and not _is_available(GPU))
    if trainer.precision == "16-mixed" and on_cpu:
        return [("trainer.precision", "'16-mixed' needs a GPU: on the CPU Lightning would silently train with bf16-mixed instead, "
                 "while the run's records said 16-mixed; set trainer.precision=bf16-mixed (or 32-true)")]  # fmt: skip
    return []


def check_accelerator(trainer: TrainerConfig, source: str) -> None:
    """Raise a ConfigError naming ``source`` and the key when this machine cannot run ``trainer``'s accelerator or precision."""
    problems = accelerator_problems(trainer) or precision_problems(trainer)
    if problems:
        raise_problems(source, problems)
