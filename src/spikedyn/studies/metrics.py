"""Per-run quantities the studies test claims on, read from a run's records (history rows and summary).

Each is a :data:`~spikedyn.analysis.tables.RunMetric`: a number, or None where the run did not
record what it needs (or, for ``epochs_to_train_accuracy``, never reached the level).
"""

from __future__ import annotations

import statistics
from functools import partial

from spikedyn.analysis.run_records import RunRecords
from spikedyn.analysis.tables import RunMetric, reported_accuracy


def epochs_to_train_accuracy(run: RunRecords, level: float) -> float | None:
    """Epochs of training until the training accuracy first reached ``level``, interpolated linearly between epochs.

    The training accuracy recorded after epoch e (0-based) is that of e + 1 epochs of
    training; a run already at ``level`` after its first epoch gives 1. None when never reached.
    """
    epochs, accuracies = run.column("train_acc")
    previous: tuple[float, float] | None = None
    for epoch, accuracy in zip(epochs, accuracies, strict=True):
        trained = epoch + 1.0
        if accuracy >= level:
            if previous is None or previous[1] >= level:
                return trained
            (x0, y0), (x1, y1) = previous, (trained, accuracy)
            return x0 + (level - y0) * (x1 - x0) / (y1 - y0)
        previous = (trained, accuracy)
    return None


def mean_over_epochs(run: RunRecords, key: str, transform: float = 0.0) -> float | None:
    """The mean over recorded epochs of a history column (of ``transform - value`` when transform is 1: an error rate).

    This is the area under the curve divided by the number of epochs, so runs of the same
    length compare directly; lower means the curve fell sooner or further.
    """
    _, values = run.column(key)
    if not values:
        return None
    return statistics.fmean(transform - value if transform else value for value in values)


def last_tau_statistic(run: RunRecords, statistic: str) -> float | None:
    """The mean over PLIF layers of the last recorded ``statistic`` ("mean", "std", ...) of each layer's tau."""
    suffix = f"/{statistic}"
    for row in reversed(run.history):
        values = [float(value) for key, value in row.items() if key.startswith("tau/") and key.endswith(suffix) and value == value]
        if values:
            return statistics.fmean(values)
    return None


ACCURACY: dict[str, RunMetric] = {"accuracy": reported_accuracy}


def convergence_metrics(level: float) -> dict[str, RunMetric]:
    """Accuracy plus how fast training converged: epochs to ``level`` training accuracy, mean training error and loss."""
    return {
        **ACCURACY,
        "epochs_to_level": partial(epochs_to_train_accuracy, level=level),
        "train_error": partial(mean_over_epochs, key="train_acc", transform=1.0),
        "train_loss": partial(mean_over_epochs, key="train_loss"),
    }


#: Accuracy and where tau ended: ``tau_spread`` is how far the neurons' taus spread apart within a layer.
TAU_METRICS: dict[str, RunMetric] = {
    **ACCURACY,
    "tau_spread": partial(last_tau_statistic, statistic="std"),
    "tau_mean": partial(last_tau_statistic, statistic="mean"),
}
