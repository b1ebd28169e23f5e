"""Trainer options that change how a run trains: gradient clipping, determinism, precision, going on after divergence."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from torch import nn

from spikedyn.neurons import BaseNeuron
from spikedyn.training.runs import divergence as divergence_module
from spikedyn.training.config import load_config
from spikedyn.training.module import SpikingClassifier
from spikedyn.training.runs.folder import RunFolder
from spikedyn.training.train import train
from tests.training.runs import FAST, history

ONE_EPOCH = [*FAST, "trainer.max_epochs=1"]


def _train(tmp_path, *overrides: str) -> RunFolder:
    return train(load_config(None, [*ONE_EPOCH, *overrides]), output_dir=tmp_path)


def _train_deterministic(tmp_path, *overrides: str) -> RunFolder:
    """_train with trainer.deterministic=true, then torch's flags as they were: Lightning sets them for the whole process."""
    enabled = torch.are_deterministic_algorithms_enabled()
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)  # Lightning sets it; the context removes it again
        try:
            return _train(tmp_path, "trainer.deterministic=true", *overrides)
        finally:
            torch.use_deterministic_algorithms(enabled)


@pytest.fixture(scope="module")
def deterministic_run(tmp_path_factory) -> RunFolder:
    """One epoch with trainer.deterministic=true, the baseline the determinism and clipping tests compare with."""
    return _train_deterministic(tmp_path_factory.mktemp("deterministic"))


def _weights(run: RunFolder) -> dict[str, torch.Tensor]:
    state = torch.load(run.last_checkpoint, weights_only=True)["state_dict"]
    return {k: v for k, v in state.items() if k.startswith("network.") and v.is_floating_point()}


def _record_training_steps(monkeypatch) -> list[dict[str, object]]:
    """For every training step: the dtypes the first convolution gives and the first neuron gets, and whether torch runs deterministically."""
    seen: list[dict[str, object]] = []
    step = SpikingClassifier.training_step

    def recording(self, batch, index):
        row: dict[str, object] = {"deterministic": torch.are_deterministic_algorithms_enabled()}
        conv = next(m for m in self.network.modules() if isinstance(m, nn.Conv2d))
        neuron = next(m for m in self.network.modules() if isinstance(m, BaseNeuron))

        def note(module, inputs, output):  # returns None: a forward hook that returned a value would replace the output
            row.setdefault("conv_out" if module is conv else "neuron_in", (output if module is conv else inputs[0]).dtype)

        hooks = [conv.register_forward_hook(note), neuron.register_forward_hook(note)]
        try:
            loss = step(self, batch, index)
        finally:
            for hook in hooks:
                hook.remove()
        seen.append({**row, "loss": float(loss.detach())})
        return loss

    monkeypatch.setattr(SpikingClassifier, "training_step", recording)
    return seen


# ------------------------------------------------------------------ gradient clipping and determinism


def test_deterministic_runs_use_deterministic_algorithms_and_repeat_exactly(deterministic_run, tmp_path, monkeypatch):
    seen = _record_training_steps(monkeypatch)
    assert not torch.are_deterministic_algorithms_enabled()
    again = _train_deterministic(tmp_path)
    assert seen and all(row["deterministic"] for row in seen)
    assert [row["train_loss"] for row in history(again.path)] == [row["train_loss"] for row in history(deterministic_run.path)]
    a, b = _weights(deterministic_run), _weights(again)
    assert a and a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_tiny_gradient_clip_changes_what_the_same_run_learns(deterministic_run, tmp_path):
    # Deterministic, so that clipping is the only difference. Adam divides the gradient by its own scale, but a gradient
    # clipped to a norm of 1e-6 falls below Adam's eps (1e-8) per element, which shrinks every step.
    plain = _weights(deterministic_run)
    clipped = _weights(_train_deterministic(tmp_path, "trainer.gradient_clip_val=1e-6"))
    changed = [k for k in plain if not torch.equal(plain[k], clipped[k])]
    assert "network.features.0.layer.0.weight" in changed and len(changed) > len(plain) // 2, changed


# ------------------------------------------------------------------ precision


def test_64_true_trains_in_float64(tmp_path, monkeypatch):
    seen = _record_training_steps(monkeypatch)
    run = _train(tmp_path, "trainer.precision=64-true")
    assert seen and all(row["conv_out"] == row["neuron_in"] == torch.float64 for row in seen)
    assert {v.dtype for v in _weights(run).values()} == {torch.float64}
    assert run.summary()["status"] == "completed" and math.isfinite(history(run.path)[0]["train_loss"])


def test_16_mixed_on_the_cpu_is_refused_rather_than_run_as_bf16_mixed(tmp_path, capsys):
    # Lightning has no float16 autocast on the CPU: it would warn and run bf16-mixed while the run's records said 16-mixed.
    from spikedyn.cli import main

    assert main(["train", *FAST, "trainer.precision=16-mixed", "trainer.accelerator=cpu", "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "trainer.precision: '16-mixed' needs a GPU" in error and "bf16-mixed" in error
    assert not any(tmp_path.iterdir())


# ------------------------------------------------------------------ on_divergence: warn


def test_warn_goes_on_after_a_nan_producing_setting_and_no_diverged_epoch_is_best(tmp_path):
    with pytest.warns(UserWarning, match="diverged at epoch") as caught:
        run = train(load_config(None, [*FAST, "trainer.max_epochs=2", "optimizer.lr=1e30", "trainer.on_divergence=warn"]), output_dir=tmp_path)
    diverged = [str(w.message) for w in caught if "training goes on" in str(w.message)]
    assert any("epoch 0" in m for m in diverged) and any("epoch 1" in m for m in diverged)
    summary = run.summary()
    assert summary["status"] == "completed" and [row["epoch"] for row in history(run.path)] == [0, 1]
    assert torch.load(run.last_checkpoint, weights_only=True)["epoch"] == 1  # it went on to the end
    assert not run.best_checkpoint.exists()  # every epoch diverged: none can be the best
    assert summary["protocol_B"] is None


def test_warn_keeps_a_diverged_epoch_from_being_best_even_with_a_better_score(tmp_path, monkeypatch):
    original = divergence_module.divergence

    def epoch_1_diverges(rows, tensors):
        return "epoch 1: an injected non-finite buffer" if rows[-1]["epoch"] == 1 else original(rows, tensors)

    monkeypatch.setattr(divergence_module, "divergence", epoch_1_diverges)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = train(load_config(None, [*FAST, "trainer.max_epochs=2", "trainer.on_divergence=warn"]), output_dir=tmp_path)
    assert any("diverged at epoch 1: an injected" in str(w.message) for w in caught)
    rows = history(run.path)
    assert rows[1]["val_acc"] > rows[0]["val_acc"]  # epoch 1 would be best, had it not diverged
    assert torch.load(run.best_checkpoint, weights_only=True)["epoch"] == 0
    assert run.summary()["protocol_B"]["epoch"] == 0
