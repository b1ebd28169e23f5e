"""A user's own package, written by the tests into a folder: a two-layer PLIF network and a dataset of its own."""

from __future__ import annotations

from pathlib import Path

MODELS = '''
"""A network of the user's own: two linear layers, each followed by spikedyn's PLIF."""
import math

from torch import nn

from spikedyn.layers import TimeDistributed
from spikedyn.neurons import PLIF


class TwoLayerPLIF(nn.Module):
    def __init__(self, input_shape, num_classes, hidden: int = 24, tau: float = 2.0):
        super().__init__()
        self.flatten = TimeDistributed(nn.Flatten())
        self.fc1 = TimeDistributed(nn.Linear(math.prod(input_shape), hidden))
        self.spikes1 = PLIF(tau=tau, shape=(hidden,), tau_shape="neuron")
        self.fc2 = TimeDistributed(nn.Linear(hidden, num_classes))
        self.spikes2 = PLIF(tau=tau)

    def forward(self, x):
        return self.spikes2(self.fc2(self.spikes1(self.fc1(self.flatten(x)))))


NOT_A_MODEL = 3
'''

DATA = '''
"""A dataset of the user's own: sklearn's digits as 64 features, a fixed intensity code over T steps."""
import numpy as np
import torch
from sklearn.datasets import load_digits


class DigitFeatures(torch.utils.data.Dataset):
    classes = [str(d) for d in range(10)]

    def __init__(self, split, time_steps=2, limit=600):
        digits = load_digits()
        chosen = np.arange(len(digits.target))[:limit]
        chosen = chosen[chosen % 4 == 0] if split == "test" else chosen[chosen % 4 != 0]
        self.x = torch.tensor(digits.data[chosen] / 16.0, dtype=torch.float32)
        self.targets = digits.target[chosen]
        self.time_steps = time_steps

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        return 2.0 * self.x[index].expand(self.time_steps, 64), int(self.targets[index])
'''

ENTRY_POINTS = '''[spikedyn.models]
two_layer_plif = userpkg.models:TwoLayerPLIF

[spikedyn.datasets]
digit_features = userpkg.data:DigitFeatures
'''

#: The package's names by import path.
MODEL = "userpkg.models:TwoLayerPLIF"
DATASET = "userpkg.data:DigitFeatures"


def write_package(folder: Path, entry_points: bool = False) -> Path:
    """``folder/userpkg`` (models and data); with ``entry_points`` also the metadata that registers them by name."""
    package = folder / "userpkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(MODELS)
    (package / "data.py").write_text(DATA)
    if entry_points:
        info = folder / "userpkg-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: userpkg\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(ENTRY_POINTS)
    return folder


def config_text(model: str = MODEL, dataset: str = DATASET) -> str:
    """A config training the user's network on the user's data: a few seconds an epoch."""
    return f"""name: own
model: {{name: "{model}", options: {{hidden: 24}}}}
data: {{dataset: "{dataset}", options: {{time_steps: 2}}, batch_size: 64}}
trainer: {{max_epochs: 1, progress_bar: false}}
records: {{tensorboard: false}}
"""
