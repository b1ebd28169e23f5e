"""Compaction tests run on small networks: recompute every H and replay every BN, as large layers would."""

from __future__ import annotations

import pytest

from spikedyn.memory import batch_norm_replay, session


@pytest.fixture(autouse=True)
def recompute_every_layer(monkeypatch):
    """Lift the size thresholds (they only skip work that would not pay off), and forget earlier replay checks."""
    monkeypatch.setattr(session, "MIN_RECOMPUTE_ELEMENTS", 0)
    monkeypatch.setattr(batch_norm_replay, "MIN_ELEMENTS", 0)
    monkeypatch.setattr(batch_norm_replay, "_VERIFIED", {})
