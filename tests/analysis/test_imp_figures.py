"""The IMP paper's neuron-model figures: pattern mappings against an exact rational enumeration, dynamics by hand."""

from __future__ import annotations

from fractions import Fraction
from functools import cache
from itertools import pairwise

import numpy as np
import pytest

from spikedyn.analysis import imp_figures, save  # save sets the Agg backend
from spikedyn.analysis.figure_registry import FIGURES, draw_figure

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WEIGHTS = np.linspace(-6.0, 6.0, 24001)  # the figure's default weight grid
LEARNABLE = np.linspace(-1.0, 1.0, 49)  # the figure's default IMP grid


# --- an independent exact enumeration: plain Python, rational arithmetic -----------------

def bits(index: int) -> list[int]:
    """Pattern ``index`` in time order: the leading bit of the 4-bit number is t = 0."""
    return [int(c) for c in format(index, "04b")]


def if_output(inputs: list[int], w: Fraction, imp: Fraction) -> int:
    """The IF neuron of the IMP paper (V_th = 1, s[t+1] = h[t] - o[t]) firing at h >= 1; the output pattern's index."""
    v, out = imp, 0
    for x in inputs:
        h = v + w * x
        o = 1 if h >= 1 else 0
        out = 2 * out + o
        v = h - o
    return out


def candidate_weights(imp: Fraction) -> set[Fraction]:
    """Weights where some h_t = imp + c w - n can cross 1 (c input spikes so far, n output spikes), their midpoints and beyond."""
    cuts = sorted({(1 + n - imp) / c for c in range(1, 5) for n in range(4)})
    return set(cuts) | {(a + b) / 2 for a, b in pairwise(cuts)} | {cuts[0] - 1, cuts[-1] + 1}


def critical_imps(low: Fraction, high: Fraction) -> list[Fraction]:
    """IMPs in [low, high] where two crossing lines imp + c w = 1 + n meet (the order of the cuts changes), the ends, and midpoints."""
    lines = [(c, n) for c in range(5) for n in range(4)]
    values = {low, high} | {Fraction(1 + n) for c, n in lines if c == 0}
    for c, n in lines:
        for c2, n2 in lines:
            if c != c2:
                values.add(Fraction(c * (1 + n2) - c2 * (1 + n), c - c2))
    values = sorted(v for v in values if low <= v <= high)
    return sorted(set(values) | {(a + b) / 2 for a, b in pairwise(values)})


def exact_mappings(imps: list[Fraction]) -> frozenset[tuple[int, int]]:
    """(input, output) pairs some real weight produces with some IMP of ``imps``."""
    return frozenset((i, if_output(bits(i), w, imp)) for imp in imps for w in candidate_weights(imp) for i in range(16))


@cache
def exact_fixed(imp: Fraction) -> frozenset[tuple[int, int]]:
    return exact_mappings([imp])


@cache
def exact_range(low: Fraction, high: Fraction) -> frozenset[tuple[int, int]]:
    return exact_mappings(critical_imps(low, high))


def as_set(reach: np.ndarray) -> set[tuple[int, int]]:
    assert reach.shape == (16, 16) and reach.dtype == bool
    return {(int(i), int(o)) for i, o in zip(*np.nonzero(reach))}


@pytest.fixture(scope="module")
def learnable() -> np.ndarray:
    return imp_figures.pattern_mappings(LEARNABLE, WEIGHTS)


# --- pattern mapping ----------------------------------------------------------------------

def test_the_exact_enumeration_agrees_with_a_plain_weight_sweep_at_imp_0():
    # Cuts at IMP 0 are (1 + n) / c: multiples of 1/12 apart, all in [0, 4]; a 1/120 grid over [-6, 6] meets every interval.
    swept = {(i, if_output(bits(i), Fraction(k, 120), Fraction(0))) for k in range(-720, 721) for i in range(16)}
    assert swept == exact_fixed(Fraction(0))
    assert len(swept) == 71


def test_imp_0_gives_exactly_the_enumerated_mappings():
    reach = imp_figures.pattern_mappings([0.0], WEIGHTS)
    assert as_set(reach) == exact_fixed(Fraction(0))
    assert reach.sum() == 71
    assert reach[:, 0].all()  # w <= 0 silences every input
    assert not reach[0, 1:].any()  # no input spike, no output spike at IMP 0


def test_imp_quarter_adds_mappings_and_keeps_those_of_imp_0():
    reach = as_set(imp_figures.pattern_mappings([0.25], WEIGHTS))
    assert reach == exact_fixed(Fraction(1, 4))
    assert len(reach) == 90
    assert exact_fixed(Fraction(0)) <= reach  # checked, not assumed: true for these two IMPs


def test_the_learnable_imp_grid_finds_every_mapping_of_the_whole_range(learnable):
    assert as_set(learnable) == exact_range(Fraction(-1), Fraction(1))
    assert learnable.sum() == 129
    assert exact_fixed(Fraction(1, 4)) <= as_set(learnable)


def test_imp_at_threshold_is_what_adds_the_spikes_without_input():
    below = exact_range(Fraction(-1), Fraction(999, 1000))  # the cuts' order is fixed on (5/6, 1): [-1, 1) in effect
    assert len(below) == 103
    assert len(exact_range(Fraction(-1), Fraction(1))) == 129
    assert all(format(o, "04b")[0] == "1" and format(i, "04b")[0] == "0" for i, o in exact_range(Fraction(-1), Fraction(1)) - below)


def test_a_larger_imp_range_never_loses_a_mapping(learnable):
    inner = imp_figures.pattern_mappings(np.linspace(-0.5, 0.5, 25), WEIGHTS)
    assert as_set(inner) == exact_range(Fraction(-1, 2), Fraction(1, 2))
    assert as_set(inner) <= as_set(learnable)
    ranges = [(Fraction(-1, 4), Fraction(1, 4)), (Fraction(-1, 2), Fraction(1, 2)), (Fraction(-1), Fraction(1)), (Fraction(-2), Fraction(2))]
    sets = [exact_range(*r) for r in ranges]
    assert all(a <= b for a, b in pairwise(sets))


def test_pattern_mappings_rejects_empty_grids():
    with pytest.raises(ValueError, match="at least one finite"):
        imp_figures.pattern_mappings([], WEIGHTS)


# --- potentials and spikes (Fig. 1) ---------------------------------------------------------

def by_hand(x: float, imp: float, steps: int, tau: float | None, soft: bool) -> tuple[list[float], list[int]]:
    """H_t and spikes of one neuron: IF (tau None) or LIF with H = V + (X - V)/tau, V_th = 1."""
    v, hs, spikes = imp, [], []
    for _ in range(steps):
        h = v + x if tau is None else v + (x - v) / tau
        s = 1 if h >= 1 else 0
        hs.append(h)
        spikes.append(s)
        v = (h - s) if soft else (0.0 if s else h)
    return hs, spikes


@pytest.mark.parametrize("kind, tau, reset", [("if", None, "soft"), ("lif", 2.0, "hard")])
def test_population_response_is_the_neuron_by_hand(kind, tau, reset):
    imps = np.linspace(-1, 1, 7)
    inputs = np.array([0.3, 0.3, 0.7, 0.0, 1.2, 0.3, 0.45])
    potentials, spikes = imp_figures.population_response(inputs, imps, 8, kind, reset, tau or 2.0)
    for n, (x, imp) in enumerate(zip(inputs, imps)):
        hs, ss = by_hand(float(x), float(imp), 8, tau, reset == "soft")
        np.testing.assert_allclose(potentials[n], hs, atol=1e-12)
        assert spikes[n].tolist() == ss


# --- the figures ---------------------------------------------------------------------------

def test_both_figures_are_registered_as_drawn_from_the_neuron_model():
    for name in ("imp_dynamics", "pattern_mapping"):
        assert name in FIGURES and not FIGURES[name].needs_runs
        assert "IMP paper Fig." in FIGURES[name].redraws


def test_imp_dynamics_draws_four_heatmaps_and_two_colour_bars_and_saves_a_png(tmp_path):
    assert len(draw_figure("imp_dynamics", [], kind="lif", tau=3.0).axes) == 6
    figure = draw_figure("imp_dynamics", [], T=6, neurons=10, imp_range=[-1, 1])
    assert len(figure.axes) == 6
    png, svg = save.save_figure(figure, tmp_path / "dynamics")
    assert png.read_bytes().startswith(PNG_SIGNATURE) and svg.is_file()


def test_pattern_mapping_draws_three_panels_with_their_counts_and_saves_a_png(tmp_path):
    # 4801 weights: step 0.0025, below 1/288, so these grids are still exact.
    figure = draw_figure("pattern_mapping", [], weight_steps=4801)
    assert [ax.get_title().split(": ")[-1] for ax in figure.axes] == ["71 mappings", "90 mappings", "129 mappings"]
    png, _ = save.save_figure(figure, tmp_path / "mapping.png")
    assert png.read_bytes().startswith(PNG_SIGNATURE)


def test_bad_options_are_value_errors():
    with pytest.raises(ValueError, match="kind"):
        draw_figure("imp_dynamics", [], kind="plif")
    with pytest.raises(ValueError, match="reset"):
        draw_figure("imp_dynamics", [], reset="none")
