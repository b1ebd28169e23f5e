"""The ``slurm:`` resources of a sweep file, checked against what submitit accepts and handed to its AutoExecutor.

Names are submitit's: its shared ones (``timeout_min``, ``mem_gb``, ``nodes``,
``cpus_per_task``, ``gpus_per_node``, ``tasks_per_node``, ...), those of its SlurmExecutor
(``partition``, ``array_parallelism``, ``account``, ``qos``, ``constraint``,
``additional_parameters``, ...), and ``max_num_timeout`` (how many times a timed-out run is
requeued).
"""

from __future__ import annotations

from typing import Any

from spikedyn.training.config.types import unknown_key

#: Arguments of submitit's executor itself rather than of each job.
CONSTRUCTOR = ("max_num_timeout",)


def _shared() -> list[str]:
    from submitit import AutoExecutor

    return sorted(AutoExecutor._valid_parameters())


def _slurm_only() -> list[str]:
    from submitit import SlurmExecutor

    return sorted(set(SlurmExecutor._valid_parameters()) - set(_shared()))


def slurm_parameter_problem(key: object) -> str | None:
    """Why ``key`` is not a resource submitit knows (naming the nearest), or None."""
    valid = [*_shared(), *_slurm_only(), *CONSTRUCTOR]
    return None if key in valid else unknown_key("slurm.", key, valid)


def executor_arguments(resources: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(AutoExecutor constructor arguments, its update_parameters arguments) for the sweep's ``slurm:`` resources."""
    shared, constructor, parameters = set(_shared()), {}, {}
    for key, value in resources.items():
        if key in CONSTRUCTOR:
            constructor[f"slurm_{key}"] = value
        else:
            parameters[key if key in shared else f"slurm_{key}"] = value
    return constructor, parameters
