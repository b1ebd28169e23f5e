"""Outside a terminal `spikedyn train` writes one line per epoch and nothing per batch; on a terminal, the live bar."""

import math
import re
import sys

import pytest
import yaml

from spikedyn.training.epoch_lines import EpochLines, epoch_line
from spikedyn.training.progress import EpochProgressBar, console_callback
from tests.training.runs import FAST, cli, only_run

LINE = re.compile(
    r"^epoch (\d+)/2 \| train loss [\d.]+ acc [\d.]+% \| val loss [\d.]+ acc [\d.]+% \| test loss [\d.]+ acc [\d.]+% "
    r"\| lr [\d.e-]+ \| [\d.]+ s \| ETA \d+:\d\d:\d\d$"
)


@pytest.mark.slow
def test_a_piped_run_writes_one_small_line_per_epoch_with_its_metrics(tmp_path):
    with_bar = [option for option in FAST if not option.startswith("trainer.progress_bar")]  # the default: a bar where there is a terminal
    done = cli("train", *with_bar, "trainer.max_epochs=3", "--out", str(tmp_path))  # stdout is a pipe
    assert done.returncode == 0, done.stderr[-2000:]
    assert "\r" not in done.stdout and "\r" not in done.stderr  # no bar redrawn per batch
    assert len(done.stdout) < 2000, done.stdout  # the bar wrote ~18 kB per epoch of a 30-epoch default run
    epochs = [LINE.match(line) for line in done.stdout.splitlines() if line.startswith("epoch ")]
    assert all(epochs), done.stdout
    assert [int(match.group(1)) for match in epochs] == [0, 1, 2]
    assert done.stdout.splitlines()[3].startswith("run digits: completed after 3 epochs")
    saved = yaml.safe_load((only_run(tmp_path) / "config.yaml").read_text())
    assert saved["data"]["options"]["time_steps"] == 2 and saved["data"]["options"]["upscale"] == 1  # T and the defaults recorded


@pytest.mark.parametrize(
    "terminal, progress_bar, expected",
    [(True, True, EpochProgressBar), (True, False, EpochLines), (False, True, EpochLines), (False, False, EpochLines)],
)
def test_the_bar_is_for_terminals_and_progress_bar_false_keeps_the_lines(monkeypatch, terminal, progress_bar, expected):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: terminal)
    assert type(console_callback(progress_bar)) is expected


def test_a_line_shows_the_splits_the_protocol_has_and_dashes_for_no_number():
    row = {"epoch": 4, "train_loss": 0.5, "train_acc": 0.8, "test_loss": math.nan, "test_acc": math.nan, "lr/tau": 0.1, "lr/weights": 1e-3}
    line = epoch_line(row, max_epochs=10, epoch_s=2.04, eta_s=3725)
    assert line == "epoch 4/9 | train loss 0.5000 acc 80.00% | test loss - acc - | lr 0.001 | 2.0 s | ETA 1:02:05"
