"""trainer.compile=true compiles the whole network, neurons and firing-rate hooks included, as one graph."""

import math

import pytest

from spikedyn.training.config import load_config
from spikedyn.training.train import train
from tests.training.runs import FAST, history

pytestmark = pytest.mark.slow


def test_a_compiled_run_trains_like_an_eager_one(tmp_path):
    """No dropout, so both draw nothing at random: the compiled graph (fullgraph) must learn the same."""
    overrides = [*FAST, "trainer.max_epochs=1", "model.options.dropout=0.0"]
    eager = history(train(load_config(None, overrides), output_dir=tmp_path / "eager").path)[0]
    compiled = history(train(load_config(None, [*overrides, "trainer.compile=true"]), output_dir=tmp_path / "compiled").path)[0]
    assert compiled["train_loss"] == pytest.approx(eager["train_loss"], rel=1e-3)
    assert compiled["val_acc"] == pytest.approx(eager["val_acc"], abs=0.02)
    rates = {key: value for key, value in compiled.items() if key.startswith("rate/")}
    assert rates and all(0.0 <= value <= 1.0 and not math.isnan(value) for value in rates.values())
    assert rates == pytest.approx({key: eager[key] for key in rates}, abs=2e-3)
