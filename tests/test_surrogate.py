"""Surrogates: Heaviside forward, and a backward that is the derivative of their primitive."""

from __future__ import annotations

import math

import pytest
import torch

from spikedyn.surrogate import ATan, Rectangular, Sigmoid, Surrogate, Triangle

ALL = [ATan(), ATan(alpha=3.0), Sigmoid(), Sigmoid(alpha=1.5), Triangle(), Triangle(alpha=2.0), Rectangular(), Rectangular(alpha=0.5)]


@pytest.mark.parametrize("surrogate", ALL, ids=repr)
def test_forward_is_heaviside_with_one_at_zero(surrogate):
    x = torch.tensor([-2.0, -1e-7, 0.0, 1e-7, 3.0])
    assert surrogate(x).tolist() == [0.0, 0.0, 1.0, 1.0, 1.0]


@pytest.mark.parametrize("surrogate", ALL, ids=repr)
def test_backward_is_the_derivative_of_the_primitive(surrogate):
    # Points away from the kinks of Triangle and Rectangular.
    x = torch.linspace(-3, 3, 601, dtype=torch.float64)
    x = x[(x.abs() * surrogate.alpha - 0.5).abs() > 1e-3]
    x = x[(x.abs() * surrogate.alpha - 1.0).abs() > 1e-3]
    xs = x.clone().requires_grad_(True)
    surrogate(xs).sum().backward()
    xp = x.clone().requires_grad_(True)
    surrogate.primitive(xp).sum().backward()
    torch.testing.assert_close(xs.grad, xp.grad)
    torch.testing.assert_close(xs.grad, surrogate.derivative(x))


@pytest.mark.parametrize("surrogate", ALL, ids=repr)
def test_primitive_rises_from_zero_to_one_with_unit_area_derivative(surrogate):
    x = torch.linspace(-60, 60, 1_200_001, dtype=torch.float64)
    p = surrogate.primitive(x)
    assert p[0] == pytest.approx(0, abs=0.02) and p[-1] == pytest.approx(1, abs=0.02)
    assert torch.trapezoid(surrogate.derivative(x), x).item() == pytest.approx(1.0, abs=0.02)


def test_plif_paper_surrogate_is_atan_with_alpha_two():
    x = torch.linspace(-2, 2, 11, dtype=torch.float64)
    torch.testing.assert_close(ATan().derivative(x), 1 / (1 + (math.pi * x) ** 2))


@pytest.mark.parametrize("alpha", [0, -1, float("inf"), float("nan")])
def test_alpha_must_be_positive_and_finite(alpha):
    with pytest.raises(ValueError, match="alpha must be a finite number > 0"):
        ATan(alpha=alpha)


def test_a_user_defined_surrogate_works_on_every_backend():
    from spikedyn.neurons import PLIF, use_backend

    class Gaussian(Surrogate):
        def derivative(self, x):
            return torch.exp(-(x * self.alpha) ** 2) * self.alpha / math.sqrt(math.pi)

    neuron = PLIF(shape=(4,), surrogate=Gaussian(alpha=2.0))
    x = torch.randn(5, 3, 4) + 0.7
    grads = []
    for backend in ("reference", "fused"):
        xi = x.clone().requires_grad_(True)
        with use_backend(backend):
            neuron(xi).sum().backward()
        grads.append(xi.grad)
    torch.testing.assert_close(grads[0], grads[1])
