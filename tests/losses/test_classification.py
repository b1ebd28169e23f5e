"""The sequence losses against hand-computed values, their prediction rules, gradients and errors."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from spikedyn.losses import LOSSES, SequenceLoss, get_loss

# T=2, B=2, C=3. The mean over t predicts [1, 1], the last step predicts [0, 1].
Y = [
    [[0.0, 4.0, 0.0], [0.0, 1.0, 3.0]],
    [[1.0, 0.0, 0.5], [2.0, 3.0, 0.0]],
]
LABELS = [1, 2]
MEAN = [[0.5, 2.0, 0.25], [1.0, 2.0, 1.5]]


def y_tensor(requires_grad: bool = False) -> torch.Tensor:
    return torch.tensor(Y, dtype=torch.float64, requires_grad=requires_grad)


def labels_tensor() -> torch.Tensor:
    return torch.tensor(LABELS)


def log_softmax(row: list[float]) -> list[float]:
    lse = math.log(sum(math.exp(v) for v in row))
    return [v - lse for v in row]


def cross_entropy(row: list[float], label: int, eps: float = 0.0) -> float:
    """-sum_c q_c log p_c with q = (1 - eps) * onehot + eps / C."""
    classes = len(row)
    q = [(1 - eps) * (c == label) + eps / classes for c in range(classes)]
    return -sum(qc * lp for qc, lp in zip(q, log_softmax(row)))


def tet_by_hand(eps: float = 0.0) -> float:
    terms = [cross_entropy(Y[t][b], LABELS[b], eps) for t in range(2) for b in range(2)]
    return sum(terms) / len(terms)


def mse_to(phi: float) -> float:
    values = [v for step in Y for row in step for v in row]
    return sum((v - phi) ** 2 for v in values) / len(values)


def test_the_registry_holds_the_six_losses():
    assert sorted(LOSSES) == ["lts", "mse_per_step", "mse_rate", "sdt", "tet", "tet_s"]


def test_mse_rate_is_the_mse_of_the_mean_against_the_one_hot_label():
    onehot = [[0, 1, 0], [0, 0, 1]]
    expected = sum((MEAN[b][c] - onehot[b][c]) ** 2 for b in range(2) for c in range(3)) / 6
    loss = get_loss("mse_rate")(y_tensor(), labels_tensor())
    assert loss.dim() == 0
    assert loss.item() == pytest.approx(expected, rel=1e-12)


def test_mse_per_step_is_the_mean_over_steps_of_each_steps_mse_and_exceeds_mse_rate_by_the_variance_over_time():
    onehot = [[0, 1, 0], [0, 0, 1]]
    per_step = [sum((Y[t][b][c] - onehot[b][c]) ** 2 for b in range(2) for c in range(3)) / 6 for t in range(2)]
    loss = get_loss("mse_per_step")(y_tensor(), labels_tensor())
    assert loss.item() == pytest.approx(sum(per_step) / 2, rel=1e-12)
    variance = sum((Y[t][b][c] - MEAN[b][c]) ** 2 for t in range(2) for b in range(2) for c in range(3)) / 12
    assert loss.item() == pytest.approx(get_loss("mse_rate")(y_tensor(), labels_tensor()).item() + variance, rel=1e-12)


def test_sdt_is_the_cross_entropy_of_the_mean_output():
    expected = (cross_entropy(MEAN[0], 1) + cross_entropy(MEAN[1], 2)) / 2
    assert get_loss("sdt")(y_tensor(), labels_tensor()).item() == pytest.approx(expected, rel=1e-12)


def test_tet_is_the_mean_over_steps_of_the_per_step_cross_entropy_without_its_regulariser():
    assert get_loss("tet", mse_weight=0.0)(y_tensor(), labels_tensor()).item() == pytest.approx(tet_by_hand(), rel=1e-12)


def test_tet_has_its_released_code_defaults():
    """lambda 1e-3 and phi 1.0 (temporal_efficient_training, main_training_parallel.py)."""
    loss = get_loss("tet")
    assert dict(loss.options) == {"mse_weight": 1e-3, "phi": 1.0}
    expected = (1 - 1e-3) * tet_by_hand() + 1e-3 * mse_to(1.0)
    assert loss(y_tensor(), labels_tensor()).item() == pytest.approx(expected, rel=1e-12)


def test_tet_matches_a_loop_over_steps_when_t_and_b_differ():
    torch.manual_seed(0)
    y, labels = torch.randn(3, 4, 5), torch.tensor([4, 0, 2, 2])
    per_step = torch.stack([F.cross_entropy(y[t], labels) for t in range(3)]).mean()
    torch.testing.assert_close(get_loss("tet", mse_weight=0.0)(y, labels), per_step)


@pytest.mark.parametrize("eps", [0.01, 0.2])
def test_tet_s_uses_smoothed_targets_at_every_step(eps):
    loss = get_loss("tet_s", label_smoothing=eps)(y_tensor(), labels_tensor())
    assert loss.item() == pytest.approx(tet_by_hand(eps), rel=1e-12)
    assert loss.item() != pytest.approx(tet_by_hand(0.0), rel=1e-6)


def test_tet_s_smooths_by_0_01_unless_told():
    loss = get_loss("tet_s")
    assert loss.options["label_smoothing"] == 0.01
    assert loss(y_tensor(), labels_tensor()).item() == pytest.approx(tet_by_hand(0.01), rel=1e-12)


def test_the_tet_mse_regulariser_mixes_with_weight_lambda():
    lam, phi = 0.3, 0.5
    loss = get_loss("tet", mse_weight=lam, phi=phi)(y_tensor(), labels_tensor())
    assert loss.item() == pytest.approx((1 - lam) * tet_by_hand() + lam * mse_to(phi), rel=1e-12)


def test_tet_s_has_no_regulariser_term():
    with pytest.raises(TypeError, match=r"mse_weight.*label_smoothing"):
        get_loss("tet_s", mse_weight=0.1)


def test_the_regulariser_target_defaults_to_one():
    loss = get_loss("tet", mse_weight=1.0)(y_tensor(), labels_tensor())
    assert loss.item() == pytest.approx(mse_to(1.0), rel=1e-12)


def test_lts_is_the_cross_entropy_of_the_last_step():
    expected = (cross_entropy(Y[1][0], 1) + cross_entropy(Y[1][1], 2)) / 2
    assert get_loss("lts")(y_tensor(), labels_tensor()).item() == pytest.approx(expected, rel=1e-12)


def test_lts_ignores_every_step_but_the_last():
    torch.manual_seed(1)
    lts, y, labels = get_loss("lts"), torch.randn(4, 3, 5), torch.tensor([0, 3, 4])
    changed = y.clone()
    changed[:-1] = torch.randn(3, 3, 5) * 10
    assert torch.equal(lts(changed, labels), lts(y, labels))
    assert torch.equal(lts.predict(changed), lts.predict(y))
    changed[-1] = torch.randn(3, 5)
    assert not torch.equal(lts(changed, labels), lts(y, labels))


@pytest.mark.parametrize(
    "name, expected",
    [("mse_rate", [1, 1]), ("mse_per_step", [1, 1]), ("sdt", [1, 1]), ("tet", [1, 1]), ("tet_s", [1, 1]), ("lts", [0, 1])],
)
def test_each_loss_predicts_by_its_rule(name, expected):
    prediction = get_loss(name).predict(y_tensor())
    assert prediction.dtype == torch.int64
    assert prediction.tolist() == expected


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_gradients_reach_the_output(name):
    y = y_tensor(requires_grad=True)
    get_loss(name)(y, labels_tensor()).backward()
    assert torch.isfinite(y.grad).all()
    if name == "lts":
        assert torch.equal(y.grad[0], torch.zeros(2, 3, dtype=y.dtype)) and y.grad[1].abs().sum() > 0
    else:
        assert (y.grad.abs().sum(dim=(1, 2)) > 0).all()


def test_labels_of_any_integer_dtype_work():
    y = y_tensor()
    assert get_loss("sdt")(y, labels_tensor().to(torch.int32)).item() == get_loss("sdt")(y, labels_tensor()).item()


def test_an_unknown_loss_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"'ce'.*\['lts', 'mse_per_step', 'mse_rate', 'sdt', 'tet', 'tet_s'\]"):
        get_loss("ce")


def test_an_unknown_option_names_it_and_the_valid_ones():
    with pytest.raises(TypeError, match=r"label_smoothing.*mse_weight.*phi"):
        get_loss("tet", label_smoothing=0.1)
    with pytest.raises(TypeError, match=r"'phi'.*none"):
        get_loss("lts", phi=1.0)


@pytest.mark.parametrize(
    "name, options, match",
    [
        ("tet", {"mse_weight": 1.5}, "mse_weight"),
        ("tet", {"mse_weight": -0.1}, "mse_weight"),
        ("tet_s", {"label_smoothing": 1.0}, "label_smoothing"),
        ("tet", {"phi": float("nan")}, "phi"),
        ("tet", {"phi": "1"}, "phi"),
    ],
)
def test_bad_option_values_are_refused(name, options, match):
    with pytest.raises(ValueError, match=match):
        get_loss(name, **options)


def test_options_cannot_be_changed_after_construction():
    loss = get_loss("tet_s")
    with pytest.raises(TypeError):
        loss.options["label_smoothing"] = 0.5
    assert isinstance(loss, SequenceLoss) and loss.name == "tet_s"


@pytest.mark.parametrize(
    "y, labels, error, match",
    [
        (torch.zeros(2, 3), torch.tensor([0, 1]), ValueError, "3-D"),
        (torch.zeros(2, 2, 3, dtype=torch.int64), torch.tensor([0, 1]), TypeError, "floating"),
        (torch.zeros(2, 2, 3), torch.tensor([0.0, 1.0]), TypeError, "integer"),
        (torch.zeros(2, 2, 3), torch.tensor([True, False]), TypeError, "integer"),
        (torch.zeros(2, 2, 3), torch.tensor([0, 1, 2]), ValueError, r"\[B\] = \[2\]"),
        (torch.zeros(2, 2, 3), torch.tensor([[0, 1]]), ValueError, r"\[B\]"),
        (torch.zeros(2, 2, 3), torch.tensor([0, 3]), ValueError, r"\[0, 3\)"),
        (torch.zeros(2, 2, 3), torch.tensor([-1, 0]), ValueError, r"\[0, 3\)"),
        (torch.zeros(2, 0, 3), torch.zeros(0, dtype=torch.int64), ValueError, "at least one"),
        ([[[0.0]]], torch.tensor([0]), TypeError, "tensor"),
    ],
)
def test_bad_inputs_are_refused_with_a_clear_error(y, labels, error, match):
    with pytest.raises(error, match=match):
        get_loss("tet")(y, labels)


def test_predict_checks_its_input_too():
    with pytest.raises(ValueError, match="3-D"):
        get_loss("lts").predict(torch.zeros(2, 3))
