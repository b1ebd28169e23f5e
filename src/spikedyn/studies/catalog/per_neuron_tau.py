"""Per-neuron tau (Pazderka's TU Delft study): Baseline, No Reg., lambda 0.01, lambda 0.1, and a clustering regulariser, on event_digits."""

from __future__ import annotations

from typing import Any

from spikedyn.studies.bases import event_digits_base, smoke_budget
from spikedyn.studies.claims import Claim, difference
from spikedyn.studies.metrics import TAU_METRICS
from spikedyn.studies.study import Budget, Curves, Study

#: The study's per-neuron tau: one per neuron, log-normal with mean 2 and std 0.1 (its code's -tau_std_dev 0.1).
NEURON = {"tau_shape": "neuron", "tau_init": "lognormal", "tau": 2.0, "tau_std": 0.1}


def model(name: str, neuron: dict[str, Any], regularizer: dict[str, Any] | None = None) -> dict[str, Any]:
    """event_digits with the study's neuron (and regulariser) settings, named after the thesis's model."""
    base = event_digits_base(epochs=15)
    base["name"] = name
    base["model"]["neuron"] = neuron
    base["regularizer"] = regularizer or {"kind": "none"}
    return base


def variance(lam: float) -> dict[str, Any]:
    """The study's regulariser: lam times the unbiased variance of each PLIF layer's raw parameter a, summed over layers."""
    return {"kind": "variance", "on": "a", "lam": lam}


BASELINE = {"model.neuron.tau_shape": "layer"}
NO_REG = {"model.neuron.tau_shape": "neuron", "regularizer.kind": "none"}
LAMBDA_001 = {"regularizer.kind": "variance", "regularizer.lam": 0.01}
LAMBDA_01 = {"regularizer.kind": "variance", "regularizer.lam": 0.1}
SEEDS = (1, 2, 3, 4, 5, 6, 7, 8)

STUDY = Study(
    name="per_neuron_tau",
    title="A learnable tau per neuron instead of per layer",
    question="Is a learnable tau per neuron significantly different from one per layer, and what do the variance and "
    "clustering regularisers do to accuracy and to the spread of tau within a layer?",
    bases={
        "baseline": model("baseline", {"tau_shape": "layer", "tau_init": "constant", "tau": 2.0}),
        "noreg": model("noreg", dict(NEURON)),
        "lambda0.01": model("lambda0.01", dict(NEURON), variance(0.01)),
        "lambda0.1": model("lambda0.1", dict(NEURON), variance(0.1)),
        "clustering": model("clustering", dict(NEURON), {"kind": "clustering", "on": "a", "lam": 0.01, "num_centres": 2}),
    },
    budgets={
        "smoke": smoke_budget(**{label: "event_digits" for label in ("baseline", "noreg", "lambda0.01", "lambda0.1", "clustering")}),
        "full": Budget(seeds=SEEDS, description="8 seeds per model; 15 epochs on event_digits (16x16 frames), T = 4, batch 32"),
    },
    metrics=TAU_METRICS,
    units={"accuracy": "%", "tau_spread": "tau", "tau_mean": "tau"},
    claims=(
        Claim(
            "per_neuron_no_effect",
            "Having a membrane time constant per neuron instead of per layer does not have a significant effect on final accuracy.",
            "per-neuron tau study (Pazderka, TU Delft), Sec. 5 (Conclusion) and Table 1",
            (
                difference("No Reg. - Baseline", NO_REG, BASELINE, "equivalent", margin=0.01),
                difference("lambda 0.01 - Baseline", LAMBDA_001, BASELINE, "equivalent", margin=0.01),
                difference("lambda 0.1 - Baseline", LAMBDA_01, BASELINE, "equivalent", margin=0.01),
            ),
            note="'no significant effect' is read as an equivalence within 1 percentage point, for each per-neuron model.",
        ),
        Claim(
            "noreg_overfits",
            "No Regularization introduces having a tau per neuron. It is expected to suffer from overfitting due to the "
            "increased number of parameters.",
            "per-neuron tau study, Sec. 3 (Methodology); Table 1: 95.1% against the Baseline's 95.5%",
            (difference("No Reg. - Baseline", NO_REG, BASELINE, "negative"),),
        ),
        Claim(
            "lambda001_improves",
            "The lambda = 0.01 model is expected to show whether letting individual neurons optimize their tau increases "
            "final accuracy while avoiding potential overfitting.",
            "per-neuron tau study, Sec. 3 (Methodology); Table 1: 95.8% against the Baseline's 95.5%",
            (difference("lambda 0.01 - Baseline", LAMBDA_001, BASELINE, "positive"), difference("lambda 0.01 - No Reg.", LAMBDA_001, NO_REG, "positive")),
        ),
        Claim(
            "variance_keeps_taus_together",
            "The regularisation term lambda * Var(l) per layer l keeps the taus of a layer together: the lambda = 0.1 model "
            "serves as a control expected to behave similarly to the baseline.",
            "per-neuron tau study, Sec. 3 (Methodology)",
            (
                difference("lambda 0.01 - No Reg., tau spread", LAMBDA_001, NO_REG, "negative", "tau_spread"),
                difference("lambda 0.1 - No Reg., tau spread", LAMBDA_01, NO_REG, "negative", "tau_spread"),
            ),
            note="the spread is the within-layer standard deviation of tau at the end of training, averaged over the PLIF layers.",
        ),
    ),
    curves=(
        Curves("test_accuracy", "test_acc", "test accuracy", lines=("name",)),
        Curves("tau_spread", "tau/*/std", "within-layer std of tau (mean over layers)", lines=("name",)),
    ),
    design="The per-neuron tau study's four models (its recipe: the PLIF paper's network and training, protocol B, batch "
    "32, per-neuron tau log-normal with mean 2 and std 0.1, the variance regulariser on the raw parameter a as its code "
    "does) on event_digits instead of DVS128 Gesture, plus one model of our own: the clustering regulariser "
    "(lambda 0.01, 2 centres) that the study proposes as future work. Our choice of size: 15 epochs (the study trains "
    "1256), frames 16x16, T = 4, 8 seeds per model.",
)
