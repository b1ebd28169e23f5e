"""Small hand-made run folders for the table and comparison tests."""

import json

from spikedyn.training.config import load_config, save_config


def make_run(folder, overrides, summary=None, history=()):
    """A synthetic run folder: config.yaml, metrics.jsonl (``history``), and summary.json when ``summary`` is given."""
    folder.mkdir(parents=True)
    save_config(load_config(None, overrides), folder / "config.yaml")
    (folder / "metrics.jsonl").write_text("".join(json.dumps(row) + "\n" for row in history))
    if summary is not None:
        (folder / "summary.json").write_text(json.dumps({"status": "completed", **summary}))
    return folder


def result(max_test, max_epoch, val, b, b_epoch, epochs):
    """The summary of a protocol B run: its result, and its maximum test accuracy for information."""
    return {
        "protocol": "B",
        "protocol_B": {"val_acc": val, "test_acc": b, "epoch": b_epoch},
        "max_test": {"test_acc": max_test, "epoch": max_epoch},
        "epochs_completed": epochs,
    }
