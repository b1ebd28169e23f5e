"""The trainer runs every training forward pass inside compact_activations: same learning, fewer bytes kept."""

from __future__ import annotations

import contextlib

import pytest

import spikedyn.training.module as module
from spikedyn.data.base import DatasetInfo
from spikedyn.training.config import load_config
from spikedyn.training.module import SpikingClassifier
from spikedyn.training.train import train
from tests.training.runs import FAST, history

pytestmark = pytest.mark.slow

DIGITS = DatasetInfo("digits", 10, (1, 8, 8), 2)


def test_a_compact_run_learns_exactly_what_a_plain_one_does(tmp_path, monkeypatch):
    """One epoch of the default run: metrics equal to the last bit with compaction as without, and it was on."""
    overrides = [*FAST, "trainer.max_epochs=1"]
    blocks = []

    def counting(model):
        blocks.append(model)
        return module_compact(model)

    module_compact = module.compact_activations
    monkeypatch.setattr(module, "compact_activations", counting)
    compact = history(train(load_config(None, overrides), output_dir=tmp_path / "compact").path)[0]
    assert blocks, "the training step never entered compact_activations"
    monkeypatch.setattr(module, "compact_activations", lambda model: contextlib.nullcontext())
    plain = history(train(load_config(None, overrides), output_dir=tmp_path / "plain").path)[0]
    assert compact == plain


def test_compaction_is_off_under_torch_compile():
    """A compiled network decides itself what to save; the layer hooks would only break its graph."""
    assert SpikingClassifier(load_config(None, FAST), DIGITS).compact
    assert not SpikingClassifier(load_config(None, [*FAST, "trainer.compile=true"]), DIGITS).compact


def test_compaction_can_be_turned_off_by_config():
    """trainer.compact_activations=false keeps autograd's own saving, for a user who wants to compare."""
    assert not SpikingClassifier(load_config(None, [*FAST, "trainer.compact_activations=false"]), DIGITS).compact
