"""Spike max-pooling vs average pooling (PLIF paper Sec. 3.6, Sec. 4.3, Table 5) on digits and event_digits."""

from __future__ import annotations

from spikedyn.studies.bases import digits_base, event_digits_base, smoke_budget
from spikedyn.studies.claims import Claim, difference
from spikedyn.studies.metrics import ACCURACY
from spikedyn.studies.study import Budget, Curves, Study

DATASET = ("data.dataset",)
MAX, AVG = {"model.options.pooling": "max"}, {"model.options.pooling": "avg"}
SEEDS = (1, 2, 3, 4, 5, 6, 7, 8)

STUDY = Study(
    name="pooling",
    title="Spike max-pooling vs average pooling",
    question="Does max-pooling of spikes lose accuracy against average pooling, as earlier work held?",
    bases={"digits": digits_base(epochs=30), "event_digits": event_digits_base(epochs=10)},
    grid={"model.options.pooling": ["max", "avg"]},
    budgets={
        "smoke": smoke_budget(digits="digits", event_digits="event_digits"),
        "full": Budget(seeds=SEEDS, description="8 seeds (an equivalence needs narrow intervals); digits 30 epochs, event_digits 10 epochs, T = 4"),
    },
    metrics=ACCURACY,
    units={"accuracy": "%"},
    claims=(
        Claim(
            "max_comparable_to_avg",
            "The performance of max-pooling is similar to that of average-pooling, which indicates that the previous "
            "conclusion that max-pooling results in significant information loss in SNNs is not reasonable.",
            "PLIF paper, Sec. 4.3 and Table 5 (abstract: max-pooling will not lead to significant information loss)",
            (difference("max - avg", MAX, AVG, "equivalent", margin=0.01, within=DATASET),),
            note="'similar' is read as within 1 percentage point (Table 5's differences are 0.2 to 2.1 points).",
        ),
        Claim(
            "max_slightly_higher_on_events",
            "The max-pooling gets slightly higher accuracies on CIFAR-10, CIFAR10-DVS, and DVS128 Gesture datasets, "
            "showing its better fitting capability in complex tasks.",
            "PLIF paper, Sec. 4.3 and Table 5; Sec. 3.6 (max-pooling increases the fitting capability in temporal tasks)",
            (difference("max - avg on event_digits", {**MAX, "data.dataset": "event_digits"}, {**AVG, "data.dataset": "event_digits"}, "positive"),),
            note="tested on the neuromorphic data, the temporal task the paper's argument is about; on Fashion-MNIST, "
            "its one simple static set, average pooling was higher.",
        ),
    ),
    curves=(Curves("test_accuracy", "test_acc", "test accuracy", panels=DATASET, lines=("model.options.pooling",)),),
    design="The PLIF paper's recipe and networks (plifnet_mnist on digits, plifnet_nmnist on event_digits), PLIF tau_0 = 2, "
    "protocol B, T = 4, max or average pooling in every down-sampling stage. Our choice of size: 30 epochs on digits, "
    "10 on event_digits (frames 16x16), 8 seeds.",
)
