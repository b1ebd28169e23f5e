"""The IMP paper's neuron-model figures: pattern mappings against an exact rational enumeration and the authors' figure, dynamics by hand."""

from __future__ import annotations

from fractions import Fraction
from functools import cache
from itertools import pairwise

import numpy as np
import pytest

from spikedyn.analysis import imp_figures, pattern_mapping, save  # save sets the Agg backend
from spikedyn.analysis.figure_registry import FIGURES, draw_figure

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: The weight ranges, from the authors' etc/pattern mapping/plot_mapping*.py (paper) and spikedyn's first sweep (wide).
WEIGHT_RANGES = {"paper": (Fraction(0), Fraction(1)), "wide": (Fraction(-6), Fraction(6))}
#: The fixed IMPs and the learnable IMP range of the three panels, in both settings.
QUARTER, LEARNABLE = Fraction(1, 4), (Fraction(-1), Fraction(1))
#: The authors' published panels (IMP-SNN, etc/pattern mapping/IMP=0.0.svg and Learnable-IMP.svg), read off the SVGs:
#: row o is output pattern o (0000 at the top, as they draw it), column i input pattern i, '#' a white cell.
AUTHORS_IMP_0 = (
    "################",
    ".#.#.#.#.#.#.#.#",
    "..#...##..##..##",
    "...#...#...#....",
    "....#.......###.",
    ".....#.......#.#",
    "......#.......##",
    ".......#.......#",
    "........#.......",
    ".........#......",
    "..........#.....",
    "...........#....",
    "............#...",
    ".............#..",
    "..............#.",
    "...............#",
)
AUTHORS_LEARNABLE = (
    "################",
    ".#.#.#.#.#.#.#.#",
    "..##..##..##..##",
    "...#...#...#...#",
    "....####....####",
    ".....#.#.....#.#",
    "......##......##",
    ".......#.......#",
    "################",
    ".#.#.#.#.#.#.#.#",
    "..#...##..##..##",
    "...#...#...#...#",
    "....#...#...###.",
    ".....#...#...#.#",
    "......#...#.#.##",
    ".......#...#.###",
)


# --- an independent exact enumeration: plain Python, rational arithmetic -----------------

def bits(index: int) -> list[int]:
    """Pattern ``index`` in time order: the leading bit of the 4-bit number is t = 0."""
    return [int(c) for c in format(index, "04b")]


def if_output(inputs: list[int], w: Fraction, imp: Fraction, strict: bool = False) -> int:
    """The IF neuron of the IMP paper (V_th = 1, s[t+1] = h[t] - o[t]) firing at h >= 1 (h > 1 if strict); the output pattern's index."""
    v, out = imp, 0
    for x in inputs:
        h = v + w * x
        o = 1 if (h > 1 if strict else h >= 1) else 0
        out = 2 * out + o
        v = h - o
    return out


def with_midpoints(values: set[Fraction]) -> set[Fraction]:
    ordered = sorted(values)
    return set(ordered) | {(a + b) / 2 for a, b in pairwise(ordered)}


def candidate_weights(imp: Fraction, low: Fraction, high: Fraction) -> set[Fraction]:
    """Both ends of [low, high], the weights inside where some h_t = imp + c w - n can cross 1 (c input spikes so far, n output spikes), and midpoints."""
    cuts = {(1 + n - imp) / c for c in range(1, 5) for n in range(4)}
    return with_midpoints({low, high} | {w for w in cuts if low < w < high})


def critical_imps(low: Fraction, high: Fraction, weights: tuple[Fraction, Fraction]) -> set[Fraction]:
    """IMPs in [low, high] where two crossing lines imp + c w = 1 + n meet or one meets an end of ``weights`` (the cuts' order changes), the ends, and midpoints."""
    lines = [(c, n) for c in range(5) for n in range(4)]
    values = {low, high} | {1 + n - c * end for c, n in lines for end in weights}
    values |= {Fraction(c * (1 + n2) - c2 * (1 + n), c - c2) for c, n in lines for c2, n2 in lines if c != c2}
    return with_midpoints({v for v in values if low <= v <= high})


@cache
def exact(imps: tuple[Fraction, Fraction], setting: str, strict: bool = False) -> frozenset[tuple[int, int]]:
    """(input, output) pairs some real weight of the setting's range produces with some IMP in [imps[0], imps[1]]."""
    weights = WEIGHT_RANGES[setting]
    return frozenset(
        (i, if_output(bits(i), w, imp, strict))
        for imp in critical_imps(*imps, weights)
        for w in candidate_weights(imp, *weights)
        for i in range(16)
    )


def exact_panels(setting: str) -> list[frozenset[tuple[int, int]]]:
    """The exact sets of the three panels: IMP 0, IMP 1/4, IMP in [-1, 1]."""
    return [exact((Fraction(0), Fraction(0)), setting), exact((QUARTER, QUARTER), setting), exact(LEARNABLE, setting)]


def swept(imps: list[Fraction], weights: list[Fraction]) -> set[tuple[int, int]]:
    """(input, output) pairs over plain rational grids."""
    return {(i, if_output(bits(i), w, imp)) for imp in imps for w in weights for i in range(16)}


def as_set(reach: np.ndarray) -> set[tuple[int, int]]:
    assert reach.shape == (16, 16) and reach.dtype == bool
    return {(int(i), int(o)) for i, o in zip(*np.nonzero(reach))}


def drawn(rows: tuple[str, ...]) -> set[tuple[int, int]]:
    return {(i, o) for o, row in enumerate(rows) for i, cell in enumerate(row) if cell == "#"}


@pytest.fixture(scope="module", params=["paper", "wide"])
def panels(request) -> tuple[str, list[set[tuple[int, int]]]]:
    """(setting, the code's three panels with its default grids)."""
    sweep = pattern_mapping.mapping_setting(request.param)
    return request.param, [as_set(reach) for _, reach in pattern_mapping.panel_mappings(sweep)]


# --- pattern mapping ----------------------------------------------------------------------

def test_the_settings_sweep_the_authors_ranges_and_the_wide_ones():
    for name, (low, high) in WEIGHT_RANGES.items():
        sweep = pattern_mapping.SETTINGS[name]
        assert sweep.weight_range == (float(low), float(high))
        assert (sweep.imp, sweep.imp_range) == (float(QUARTER), tuple(map(float, LEARNABLE)))
        assert sweep.weights()[-1] == float(high) and sweep.imps()[-1] == float(LEARNABLE[1])  # the top ends exactly
    assert pattern_mapping.mapping_setting() == pattern_mapping.SETTINGS["paper"]


@pytest.mark.parametrize("setting", ["paper", "wide"])
def test_the_exact_enumeration_agrees_with_a_plain_weight_sweep_at_imp_0(setting):
    # Cuts at IMP 0 are (1 + n) / c: multiples of 1/12 apart, and the ends are integers; a 1/120 grid meets every interval.
    low, high = WEIGHT_RANGES[setting]
    weights = [Fraction(k, 120) for k in range(120 * int(low), 120 * int(high) + 1)]
    assert swept([Fraction(0)], weights) == exact((Fraction(0), Fraction(0)), setting)


def test_the_default_grids_find_every_mapping_of_their_ranges(panels):
    setting, reached = panels
    assert reached == exact_panels(setting)
    assert reached[0] <= reached[1] <= reached[2]  # checked, not assumed
    assert all((i, 0) in reached[0] for i in range(16))  # w = 0 silences every input
    assert not any((0, o) in reached[0] for o in range(1, 16))  # no input spike, no output spike at IMP 0


def test_the_counts_are_those_of_the_exact_enumeration():
    assert [len(s) for s in exact_panels("paper")] == [54, 72, 108]
    assert [len(s) for s in exact_panels("wide")] == [71, 90, 129]


def test_the_paper_setting_draws_the_authors_published_panels():
    reached = [as_set(reach) for _, reach in pattern_mapping.panel_mappings(pattern_mapping.mapping_setting("paper"))]
    assert reached[0] == drawn(AUTHORS_IMP_0)
    assert reached[2] == drawn(AUTHORS_LEARNABLE)


def test_the_authors_grids_miss_one_mapping_at_imp_quarter_and_the_steps_options_sample_them():
    # Their grids: w = k/16 for a fixed IMP; IMP = k/4 - 1 and w = k/8 in the learnable panel.
    sixteenths = [Fraction(k, 16) for k in range(17)]
    authors = [swept([Fraction(0)], sixteenths), swept([QUARTER], sixteenths), swept([Fraction(k, 4) - 1 for k in range(9)], [Fraction(k, 8) for k in range(9)])]
    exact_sets = exact_panels("paper")
    assert authors[0] == exact_sets[0] and authors[2] == exact_sets[2]
    assert exact_sets[1] - authors[1] == {(0b1111, 0b1110)} and authors[1] <= exact_sets[1]
    coarse = pattern_mapping.mapping_setting("paper", weight_steps=17, imp_steps=9)
    assert [as_set(reach) for _, reach in pattern_mapping.panel_mappings(coarse)] == authors


@pytest.mark.parametrize("setting, below", [("paper", 80), ("wide", 103)])
def test_imp_at_threshold_adds_outputs_that_spike_at_t_0_even_without_input(setting, below):
    under = exact((LEARNABLE[0], Fraction(999, 1000)), setting)  # no line meets another on (5/6, 1): [-1, 1) in effect
    assert len(under) == below
    added = exact(LEARNABLE, setting) - under
    assert (0b0000, 0b1000) in added and all(format(o, "04b")[0] == "1" for _, o in added)


def test_firing_above_threshold_only_as_the_paper_writes_loses_the_paper_settings_top_ends():
    strict = [exact((Fraction(0), Fraction(0)), "paper", True), exact((QUARTER, QUARTER), "paper", True), exact(LEARNABLE, "paper", True)]
    assert [len(s) for s in strict] == [39, 72, 80]
    assert all(a <= b for a, b in zip(strict, exact_panels("paper")))
    assert exact((Fraction(0), Fraction(0)), "wide", True) == exact((Fraction(0), Fraction(0)), "wide")


def test_a_larger_imp_range_never_loses_a_mapping():
    inner = pattern_mapping.pattern_mappings(np.linspace(-0.5, 0.5, 25), pattern_mapping.SETTINGS["wide"].weights())
    assert as_set(inner) == exact((Fraction(-1, 2), Fraction(1, 2)), "wide")
    ranges = [(Fraction(-1, 4), Fraction(1, 4)), (Fraction(-1, 2), Fraction(1, 2)), LEARNABLE, (Fraction(-2), Fraction(2))]
    for setting in WEIGHT_RANGES:
        assert all(a <= b for a, b in pairwise(exact(r, setting) for r in ranges))


def test_bad_sweeps_are_value_errors():
    with pytest.raises(ValueError, match="at least one finite"):
        pattern_mapping.pattern_mappings([], pattern_mapping.SETTINGS["paper"].weights())
    with pytest.raises(ValueError, match="setting"):
        pattern_mapping.mapping_setting("narrow")
    with pytest.raises(ValueError, match="low <= high"):
        pattern_mapping.mapping_setting(weight_range=(1.0, 0.0))
    with pytest.raises(ValueError, match="positive"):
        pattern_mapping.mapping_setting(weight_steps=0)


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


def test_pattern_mapping_draws_the_paper_setting_by_default_and_says_so(tmp_path):
    figure = draw_figure("pattern_mapping", [])
    counts = [len(s) for s in exact_panels("paper")]
    assert [ax.get_title().split(": ")[-1] for ax in figure.axes] == [f"{n} mappings" for n in counts]
    title = figure.get_suptitle()
    assert all(part in title for part in ("T = 4", "paper setting", "w in [0, 1]", "IMP 0, 0.25 and [-1, 1]"))
    png, _ = save.save_figure(figure, tmp_path / "mapping.png")
    assert png.read_bytes().startswith(PNG_SIGNATURE)


def test_pattern_mapping_draws_the_wide_setting_on_request():
    # 4801 weights over [-6, 6]: step 0.0025, below 1/288, so these grids are still exact.
    figure = draw_figure("pattern_mapping", [], setting="wide", weight_steps=4801)
    counts = [len(s) for s in exact_panels("wide")]
    assert [ax.get_title().split(": ")[-1] for ax in figure.axes] == [f"{n} mappings" for n in counts]
    assert "wide, modified setting: w in [-6, 6] (4801 points)" in figure.get_suptitle()


def test_bad_options_are_value_errors():
    with pytest.raises(ValueError, match="kind"):
        draw_figure("imp_dynamics", [], kind="plif")
    with pytest.raises(ValueError, match="reset"):
        draw_figure("imp_dynamics", [], reset="none")
