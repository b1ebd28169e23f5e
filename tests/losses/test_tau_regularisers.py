"""Tau-spread penalties: variance (global and per layer, on a or tau) and the K-centre clustering."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from spikedyn.losses import (
    TauClusteringRegulariser,
    TauVarianceRegulariser,
    plif_layers,
    tau_variance_penalty,
)
from spikedyn.neurons import LIF, PLIF

SHAPE = (4, 3, 3)
L2 = math.log(2.0)


def neuron_plif(**options) -> PLIF:
    return PLIF(2.0, shape=SHAPE, tau_shape="neuron", **options)


def plif_with_a(values: list[float]) -> PLIF:
    """A per-neuron PLIF over len(values) features whose a is exactly ``values``."""
    neuron = PLIF(2.0, shape=(len(values),), tau_shape="neuron")
    with torch.no_grad():
        neuron.tau_logit.copy_(torch.tensor(values))
    return neuron


def unbiased_var(values: list[float]) -> float:
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / (len(values) - 1)


def test_plif_layers_are_found_in_model_order_with_their_names():
    first, second = neuron_plif(), PLIF(2.0)
    model = nn.Sequential(first, nn.Sequential(LIF(2.0), second))
    assert plif_layers(model) == [("0", first), ("1.1", second)]


@pytest.mark.parametrize("on", ["a", "tau"])
def test_equal_taus_cost_nothing(on):
    assert tau_variance_penalty(neuron_plif(), lam=1.0, on=on).item() == 0.0


@pytest.mark.parametrize("on", ["a", "tau"])
def test_spread_taus_cost_something(on):
    torch.manual_seed(0)
    assert tau_variance_penalty(neuron_plif(tau_init="lognormal", tau_std=1.0), lam=1.0, on=on).item() > 0


def test_a_gradient_step_on_the_penalty_pulls_the_taus_together():
    torch.manual_seed(0)
    neuron = neuron_plif(tau_init="lognormal", tau_std=1.0)
    before = neuron.tau_logit.detach().clone()
    tau_variance_penalty(neuron, lam=1.0).backward()
    with torch.no_grad():
        neuron.tau_logit -= 0.5 * neuron.tau_logit.grad
    after = neuron.tau_logit.detach()
    assert after.std() < before.std()
    torch.testing.assert_close(after.mean(), before.mean())  # the variance's gradient sums to zero


def test_on_a_is_lambda_times_the_variance_of_a():
    # a = 0, -log 2, -log 4: an arithmetic progression of step log 2, whose unbiased variance is (log 2)^2.
    neuron = plif_with_a([0.0, -L2, -2 * L2])
    assert tau_variance_penalty(neuron, lam=0.5).item() == pytest.approx(0.5 * L2**2, rel=1e-6)


def test_on_tau_is_lambda_times_the_variance_of_tau():
    neuron = plif_with_a([0.0, -L2, -2 * L2])  # tau = 1 + exp(-a) = 2, 3, 5
    expected = 0.5 * unbiased_var([2.0, 3.0, 5.0])  # = 0.5 * 7/3
    assert tau_variance_penalty(neuron, lam=0.5, on="tau").item() == pytest.approx(expected, rel=1e-6)


def two_layer_model() -> nn.Sequential:
    return nn.Sequential(plif_with_a([0.0, 1.0, 2.0]), plif_with_a([0.0, 2.0, 4.0, 6.0]))


VAR_FIRST = unbiased_var([0.0, 1.0, 2.0])
VAR_SECOND = unbiased_var([0.0, 2.0, 4.0, 6.0])


def test_one_lambda_weighs_every_layer():
    expected = 0.1 * (VAR_FIRST + VAR_SECOND)
    assert tau_variance_penalty(two_layer_model(), lam=0.1).item() == pytest.approx(expected, rel=1e-6)


def test_lambda_per_layer_by_name_leaves_the_others_out():
    penalty = tau_variance_penalty(two_layer_model(), lam={"1": 2.0})
    assert penalty.item() == pytest.approx(2.0 * VAR_SECOND, rel=1e-6)


def test_lambda_per_layer_by_sequence():
    penalty = tau_variance_penalty(two_layer_model(), lam=[1.0, 3.0])
    assert penalty.item() == pytest.approx(VAR_FIRST + 3.0 * VAR_SECOND, rel=1e-6)


def test_a_per_layer_plif_adds_nothing_and_gives_no_nan():
    spread = plif_with_a([0.0, 1.0, 2.0])
    model = nn.Sequential(PLIF(3.0), spread, PLIF(2.0, shape=(1,), tau_shape="neuron"))
    assert tau_variance_penalty(model, lam=1.0).item() == pytest.approx(VAR_FIRST, rel=1e-6)
    alone = PLIF(3.0)
    penalty = tau_variance_penalty(alone, lam=1.0)
    assert penalty.dim() == 0 and penalty.item() == 0.0
    loss = alone.tau_logit.square() + penalty  # still usable in a loss
    loss.backward()
    assert torch.isfinite(alone.tau_logit.grad)


def test_a_model_without_plif_gives_a_zero_tensor():
    penalty = tau_variance_penalty(nn.Linear(2, 2).double(), lam=1.0)
    assert penalty.dim() == 0 and penalty.item() == 0.0 and penalty.dtype == torch.float64


def test_the_module_form_gives_the_same_penalty():
    regulariser = TauVarianceRegulariser([1.0, 3.0], on="tau")
    model = two_layer_model()
    torch.testing.assert_close(regulariser(model), tau_variance_penalty(model, [1.0, 3.0], on="tau"))


def test_bad_lambdas_and_spaces_are_refused():
    model = two_layer_model()
    with pytest.raises(ValueError, match=r"\['2'\].*\['0', '1'\]"):
        tau_variance_penalty(model, lam={"2": 1.0})
    with pytest.raises(ValueError, match="expected 2"):
        tau_variance_penalty(model, lam=[1.0])
    with pytest.raises(ValueError, match=">= 0"):
        tau_variance_penalty(model, lam=-1.0)
    with pytest.raises(ValueError, match=r"lam\[1\]"):
        tau_variance_penalty(model, lam=[1.0, float("nan")])
    with pytest.raises(TypeError, match="lam must be"):
        tau_variance_penalty(model, lam="1.0")
    with pytest.raises(ValueError, match="on='k'"):
        tau_variance_penalty(model, lam=1.0, on="k")
    with pytest.raises(ValueError, match="on="):
        TauVarianceRegulariser(1.0, on="log_tau")


# --- clustering -------------------------------------------------------------------------------------


def test_one_centre_at_the_mean_gives_lambda_times_the_biased_variance():
    values = [0.0, 1.0, 2.0, 7.0]
    neuron = plif_with_a(values)
    regulariser = TauClusteringRegulariser(neuron, num_centres=1, lam=0.5)
    mean = sum(values) / 4
    with torch.no_grad():
        regulariser.centres["_root"].fill_(mean)
    biased = sum((v - mean) ** 2 for v in values) / 4
    assert regulariser(neuron).item() == pytest.approx(0.5 * biased, rel=1e-6)


def test_centres_start_at_evenly_spaced_quantiles():
    neuron = plif_with_a([3.0, 0.0, 2.0, 1.0])
    # quantile q of 4 sorted values sits at position q * 3, interpolated: 0.25 -> 0.75, 0.75 -> 2.25.
    two = TauClusteringRegulariser(neuron, num_centres=2, lam=1.0)
    assert two.centres["_root"].tolist() == pytest.approx([0.75, 2.25])
    one = TauClusteringRegulariser(neuron, num_centres=1, lam=1.0)
    assert one.centres["_root"].tolist() == pytest.approx([1.5])  # the median
    in_tau = TauClusteringRegulariser(plif_with_a([0.0, -L2, -2 * L2]), num_centres=1, lam=1.0, on="tau")
    assert in_tau.centres["_root"].tolist() == pytest.approx([3.0])  # median of tau = 2, 3, 5


def test_values_sitting_on_their_centres_cost_nothing():
    neuron = plif_with_a([1.0, 1.0, 4.0, 4.0])
    regulariser = TauClusteringRegulariser(neuron, num_centres=2, lam=1.0)
    assert regulariser.centres["_root"].tolist() == pytest.approx([1.0, 4.0])
    assert regulariser(neuron).item() == 0.0


def test_the_gradient_pulls_each_value_to_its_nearest_centre_and_each_centre_to_its_values():
    values = [0.9, 1.2, 3.8, 4.5]
    neuron = plif_with_a(values)
    regulariser = TauClusteringRegulariser(neuron, num_centres=2, lam=2.0)
    with torch.no_grad():
        regulariser.centres["_root"].copy_(torch.tensor([1.0, 4.0]))
    nearest = [1.0, 1.0, 4.0, 4.0]
    expected = 2.0 * sum((v - c) ** 2 for v, c in zip(values, nearest)) / 4
    penalty = regulariser(neuron)
    assert penalty.item() == pytest.approx(expected, rel=1e-6)
    penalty.backward()
    # d/dv_i = lam * 2 (v_i - c(i)) / N;  d/dc_k = -lam * 2 * sum_{i in k} (v_i - c_k) / N.
    grad_values = [2.0 * 2 * (v - c) / 4 for v, c in zip(values, nearest)]
    assert neuron.tau_logit.grad.tolist() == pytest.approx(grad_values, rel=1e-5)
    grad_centres = [-2.0 * 2 * ((0.9 - 1) + (1.2 - 1)) / 4, -2.0 * 2 * ((3.8 - 4) + (4.5 - 4)) / 4]
    assert regulariser.centres["_root"].grad.tolist() == pytest.approx(grad_centres, rel=1e-5)
    with torch.no_grad():
        stepped = neuron.tau_logit - 0.1 * neuron.tau_logit.grad
    distances_before = [abs(v - c) for v, c in zip(values, nearest)]
    distances_after = [abs(v - c) for v, c in zip(stepped.tolist(), nearest)]
    assert all(after < before for after, before in zip(distances_after, distances_before))


def test_clustering_skips_single_tau_layers_and_names_centres_by_module_path():
    model = nn.Sequential(PLIF(2.0), nn.Sequential(plif_with_a([0.0, 1.0, 5.0, 6.0])))
    regulariser = TauClusteringRegulariser(model, num_centres=2, lam=[1.0, 1.0])
    assert list(regulariser.centres) == ["1_0"]
    # Centres at the 0.25 and 0.75 quantiles of 0, 1, 5, 6: positions 0.75 and 2.25 -> 0.75 and 5.25.
    assert regulariser.centres["1_0"].tolist() == pytest.approx([0.75, 5.25])
    expected = (0.75**2 + 0.25**2 + 0.25**2 + 0.75**2) / 4
    assert regulariser(model).item() == pytest.approx(expected, rel=1e-6)


def test_clustering_with_lambda_zero_or_no_eligible_layer_is_a_usable_zero():
    model = nn.Sequential(PLIF(2.0), plif_with_a([0.0, 1.0, 5.0, 6.0]))
    assert TauClusteringRegulariser(model, 2, lam={"0": 1.0})(model).item() == 0.0
    only_layer = PLIF(2.0)
    penalty = TauClusteringRegulariser(only_layer, 1, lam=1.0)(only_layer)
    assert penalty.dim() == 0 and penalty.item() == 0.0


@pytest.mark.parametrize(
    "num_centres, error", [(0, ValueError), (-1, ValueError), (2.0, TypeError), (True, TypeError)]
)
def test_bad_numbers_of_centres_are_refused(num_centres, error):
    with pytest.raises(error, match="num_centres"):
        TauClusteringRegulariser(plif_with_a([0.0, 1.0]), num_centres=num_centres, lam=1.0)


def test_a_layer_with_fewer_taus_than_centres_is_named():
    model = nn.Sequential(plif_with_a([0.0, 1.0, 2.0]), plif_with_a([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"'1' has 2 tau values.*num_centres=3"):
        TauClusteringRegulariser(model, num_centres=3, lam=1.0)


def test_forward_refuses_a_model_with_other_plif_layers():
    regulariser = TauClusteringRegulariser(two_layer_model(), num_centres=2, lam=1.0)
    with pytest.raises(ValueError, match="differ from those at construction"):
        regulariser(nn.Sequential(plif_with_a([0.0, 1.0, 2.0])))
    with pytest.raises(ValueError, match="differ from those at construction"):
        regulariser(nn.Sequential(plif_with_a([0.0, 1.0, 2.0]), plif_with_a([0.0, 1.0, 2.0])))
