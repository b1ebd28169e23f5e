"""PLIF vs LIF at tau_0 in {2, 16} (PLIF paper Sec. 4.3, Table 4, Fig. 6) on digits and event_digits."""

from __future__ import annotations

from functools import partial

from spikedyn.studies.bases import OFFLINE, digits_base, event_digits_base, fashion_mnist_base, smoke_budget
from spikedyn.studies.claims import Check, Claim, difference
from spikedyn.studies.metrics import ACCURACY, mean_over_epochs
from spikedyn.studies.study import Budget, Curves, Study

DATASET = ("data.dataset",)


def neuron(kind: str, tau: float) -> dict[str, object]:
    """Config values picking the runs of one neuron and (initial) tau."""
    return {"model.neuron.kind": kind, "model.neuron.tau": tau}


PLIF2, PLIF16, LIF2, LIF16 = neuron("plif", 2.0), neuron("plif", 16.0), neuron("lif", 2.0), neuron("lif", 16.0)

STUDY = Study(
    name="plif_vs_lif",
    title="PLIF vs LIF neurons at initial tau 2 and 16",
    question="Is a network of PLIF neurons (learnable tau) better than one of LIF neurons with the same (initial) tau, "
    "and less hurt by a poor initial tau?",
    bases={"digits": digits_base(epochs=30), "event_digits": event_digits_base(epochs=10), "fashion_mnist": fashion_mnist_base(epochs=8)},
    grid={"model.neuron.kind": ["plif", "lif"], "model.neuron.tau": [2.0, 16.0]},
    budgets={
        "smoke": smoke_budget(digits="digits", event_digits="event_digits"),
        "full": Budget(seeds=(1, 2, 3, 4, 5), description="5 seeds; digits 30 epochs, event_digits 10 epochs, T = 4", bases=OFFLINE),
        "real": Budget(seeds=(1, 2, 3, 4, 5), description="5 seeds; Fashion-MNIST, 8 epochs on 120 training images per class, "
                       "tested on 100 per class, T = 4", bases=("fashion_mnist",)),
    },
    metrics={**ACCURACY, "test_error": partial(mean_over_epochs, key="test_acc", transform=1.0)},
    units={"accuracy": "%", "test_error": "%"},
    claims=(
        Claim(
            "plif_beats_lif",
            "If the initial membrane time constant tau_0 of PLIF neurons is set equal to the membrane time constant tau of "
            "LIF neurons, the test accuracy of the SNNs with PLIF neurons is always higher than that with LIF neurons.",
            "PLIF paper, Sec. 4.3 and Table 4",
            (
                difference("PLIF(2) - LIF(2)", PLIF2, LIF2, "positive", within=DATASET),
                difference("PLIF(16) - LIF(16)", PLIF16, LIF16, "positive", within=DATASET),
            ),
        ),
        Claim(
            "lif_tau16_degrades",
            "The accuracy and convergence speed of the SNNs with LIF neurons decrease seriously if the initial value of the "
            "membrane time constant is not reasonable (red curve: LIF, tau = 16).",
            "PLIF paper, Sec. 4.3, Fig. 6 and Table 4",
            (
                difference("LIF(2) - LIF(16), accuracy", LIF2, LIF16, "positive", margin=0.01, within=DATASET),
                difference("LIF(16) - LIF(2), mean test error over epochs", LIF16, LIF2, "positive", "test_error", 0.01, DATASET),
            ),
            note="'seriously' is read as at least 1 percentage point; convergence speed as the test error averaged over the "
            "epochs (the area under the test-error curve of Fig. 6, divided by the epochs).",
        ),
        Claim(
            "plif_less_sensitive",
            "SNNs made of PLIF neurons are more robust to initial values (less sensitive to the initial tau) than SNNs of LIF neurons.",
            "PLIF paper, abstract, Sec. 1 (contribution 1) and Table 4",
            (
                Check(
                    "[LIF(2) - LIF(16)] - [PLIF(2) - PLIF(16)]",
                    ((1.0, LIF2), (-1.0, LIF16), (-1.0, PLIF2), (1.0, PLIF16)),
                    "positive",
                    within=DATASET,
                ),
            ),
            note="the loss of accuracy from tau = 2 to tau = 16, LIF's minus PLIF's: a difference of differences of four "
            "independent groups of seeds.",
        ),
    ),
    curves=(Curves("test_accuracy", "test_acc", "test accuracy", panels=DATASET, lines=("model.neuron.kind", "model.neuron.tau")),),
    design="The PLIF paper's recipe and networks (plifnet_mnist on digits and Fashion-MNIST, plifnet_nmnist on event_digits), "
    "protocol B, T = 4; LIF is the same network with tau fixed. Our choice of size: 30 epochs on digits and 10 on event_digits "
    "(frames 16x16) keep 40 runs within 40 minutes on 2 cores; the paper trains 1024 epochs. The real budget trains on "
    "Fashion-MNIST (the official files, from Debian's dataset-fashion-mnist): a fixed class-balanced subset of 120 training "
    "images per class (protocol B keeps 102 per class for training and 18 for validation) and 100 test images per class, the "
    "first of each class in file order, for 8 epochs at T = 4 (the paper uses T = 8), so that 20 runs fit about an hour on 2 "
    "cores with one thread each; the paper trains on all 60,000 images and reaches 94.38% (Table 2), a scale far above this one.",
)
