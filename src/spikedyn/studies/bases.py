"""The studies' base configs: the offline datasets with the PLIF paper's recipe, sized for many short runs.

Everything not set here is the schema's default, which is the PLIF paper's recipe
(``configs/base/plif.yaml``: PLIF tau_0 = 2 per layer, max pooling, dropout 0.5, MSE of the
voting layer's rate, Adam lr 1e-3 with a cosine over the run) under protocol B.
"""

from __future__ import annotations

from typing import Any

from spikedyn.studies.study import STUDY_FOLDER, Budget

#: Quiet, light runs: no progress bar, TensorBoard or snapshots; the per-epoch records are what studies read.
#: A layer gone silent (LIF with tau = 16 does) is a result a study measures, not a failure: such runs train on.
LIGHT_RECORDS = {"records": {"tensorboard": False, "snapshot_every": 0}, "trainer": {"progress_bar": False, "on_divergence": "warn"}}


def digits_base(epochs: int, time_steps: int = 4) -> dict[str, Any]:
    """scikit-learn's 8x8 digits (static) with the PLIF paper's MNIST network: about 1.5 s per epoch at T = 4 on 2 cores."""
    return {
        "name": "digits",
        "description": "scikit-learn's 8x8 digits, the PLIF paper's MNIST network and recipe, protocol B",
        "protocol": "B",
        "data": {"dataset": "digits", "options": {"time_steps": time_steps, "upscale": 1}},
        "model": {"name": "plifnet_mnist"},
        "scheduler": {"t_max": None},
        "records": dict(LIGHT_RECORDS["records"]),
        "trainer": {**LIGHT_RECORDS["trainer"], "max_epochs": epochs},
    }


def event_digits_base(epochs: int, time_steps: int = 4, root: str = "data", limit: int | None = None) -> dict[str, Any]:
    """event_digits (simulated events on N-MNIST's 34x34 sensor) as 16x16 frames, with the PLIF paper's N-MNIST network.

    The frames are resized from 34x34 to 16x16 (our choice): about 4x less computation, so
    five seeds of every configuration fit a study's 40 minutes on 2 cores.
    """
    options: dict[str, Any] = {"time_steps": time_steps, "resize": 16, "root": root}
    if limit is not None:
        options["limit"] = limit
    return {
        "name": "event_digits",
        "description": "event_digits as 16x16 frames, the PLIF paper's N-MNIST network and recipe, protocol B",
        "protocol": "B",
        "data": {"dataset": "event_digits", "options": options, "batch_size": 32},
        "model": {"name": "plifnet_nmnist"},
        "scheduler": {"t_max": None},
        "records": dict(LIGHT_RECORDS["records"]),
        "trainer": {**LIGHT_RECORDS["trainer"], "max_epochs": epochs},
    }


#: The real-data budget's Fashion-MNIST: 120 training images of each class (1,020 train and 180 validation by protocol B)
#: and 100 test images of each class, the first of each class in file order: a fixed class-balanced subset, so that five
#: seeds of every configuration fit about 2 hours on 2 cores (a PLIF epoch over all 60,000 images takes about 27 minutes).
FASHION_PER_CLASS, FASHION_TEST_PER_CLASS = 120, 100


def fashion_mnist_base(epochs: int, time_steps: int = 4) -> dict[str, Any]:
    """Fashion-MNIST from Debian's dataset-fashion-mnist (or data/FashionMNIST/raw), a fixed class-balanced subset, with the
    PLIF paper's MNIST network: about 45 s per epoch at T = 4 on one core."""
    options = {"time_steps": time_steps, "per_class": FASHION_PER_CLASS, "test_per_class": FASHION_TEST_PER_CLASS}
    return {
        "name": "fashion_mnist",
        "description": f"Fashion-MNIST, {FASHION_PER_CLASS} training and {FASHION_TEST_PER_CLASS} test images per class, "
        "the PLIF paper's MNIST network and recipe, protocol B",
        "protocol": "B",
        "data": {"dataset": "fashion_mnist", "options": options},
        "model": {"name": "plifnet_mnist"},
        "scheduler": {"t_max": None},
        "records": dict(LIGHT_RECORDS["records"]),
        "trainer": {**LIGHT_RECORDS["trainer"], "max_epochs": epochs},
    }


#: The bases of the offline budgets, where a study also has a real-data base.
OFFLINE = ("digits", "event_digits")


#: What a smoke budget does to each kind of base: a couple of short epochs, event_digits on its first 200 digits
#: (generated into the study's own folder, as a folder of all the digits is another data set).
SMOKE_SETTINGS = {
    "digits": {"trainer.max_epochs": 2},
    "event_digits": {"trainer.max_epochs": 1, "data.options.limit": 200, "data.options.root": f"{STUDY_FOLDER}/data"},
}


def smoke_budget(**kinds: str) -> Budget:
    """A smoke budget (2 seeds, a check that everything runs in a few minutes) for bases given as label=kind."""
    return Budget(
        seeds=(1, 2),
        base_overrides={label: SMOKE_SETTINGS[kind] for label, kind in kinds.items()},
        description="2 seeds; digits 2 epochs; event_digits 1 epoch on its first 200 digits: a check that everything runs, not a result",
        bases=tuple(kinds),
    )
