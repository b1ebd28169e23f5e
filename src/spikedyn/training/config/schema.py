"""The experiment configuration: what a YAML file under configs/ may say, with defaults.

Every field has a type and a default; :mod:`spikedyn.training.config` loads, validates,
overrides and saves these. The defaults are the offline default run (PLIF net on digits).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class NeuronConfig:
    """The spiking neuron of every layer: kind "plif" | "lif" | "if" | "alif" | "cubalif" and its options."""

    kind: str = "plif"
    tau: float = 2.0
    tau_shape: str = "layer"  # PLIF: "layer" | "channel" | "neuron"
    tau_init: str = "constant"  # PLIF: "constant" | "lognormal"
    tau_std: float = 0.0
    imp: str | None = None  # None | "channel" | "neuron": learnable initial membrane potential
    imp_init_range: list[float] = field(default_factory=lambda: [-0.2, 0.2])
    v_threshold: float = 1.0
    v_reset: float | None = 0.0  # None: soft reset (subtract the threshold)
    detach_reset: bool = True
    decay_input: bool = True
    surrogate: str = "atan"  # "atan" | "sigmoid" | "triangle" | "rectangular"
    surrogate_alpha: float | None = None  # None: the surrogate's own default
    backend: str | None = None  # None: the global default ("auto")
    threshold: str = "fixed"  # "fixed" | "layer" | "channel" | "neuron": a learned threshold starting at v_threshold
    adaptation_tau: float = 4.0  # alif: tau_a of the adaptive threshold A_t = theta + beta a_{t-1}
    adaptation_strength: float = 0.5  # alif: beta > 0
    adaptation_shape: str = "layer"  # alif: tau_a and beta per "layer" | "channel" | "neuron"
    detach_adaptation: bool = False  # alif: no gradient through a_{t-1}
    synaptic_tau: float = 2.0  # cubalif: tau_s of the synaptic current
    synaptic_shape: str = "layer"  # cubalif: tau_s per "layer" | "channel" | "neuron"


@dataclass
class EncoderConfig:
    """How the data's frames reach the network: "direct" (as they are) | "poisson" | "latency" spikes."""

    kind: str = "direct"
    options: dict[str, Any] = field(default_factory=dict)  # poisson: gain; latency: mode, threshold (spikedyn.layers.encoders)


@dataclass
class ModelConfig:
    """A network of the model registry (or "package.module:callable"), its options, its neuron and input encoder."""

    name: str = "plifnet_mnist"
    options: dict[str, Any] = field(default_factory=dict)  # in_channels, input_size, num_classes, time_steps come from the data
    neuron: NeuronConfig = field(default_factory=NeuronConfig)
    encoder: EncoderConfig = field(default_factory=EncoderConfig)


@dataclass
class DataConfig:
    """A dataset of the data registry, its options, and how it is loaded."""

    dataset: str = "digits"
    options: dict[str, Any] = field(default_factory=dict)  # passed to build_dataset (root, time_steps, ...)
    batch_size: int = 16
    eval_batch_size: int | None = None  # None: batch_size
    num_workers: int = 0
    test: bool = True  # evaluate the test split every epoch; False skips it (protocol B only)


@dataclass
class LossConfig:
    """A loss of the loss registry and its options."""

    name: str = "mse_rate"
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class RegularizerConfig:
    """The tau regulariser: "none" | "variance" | "clustering"."""

    kind: str = "none"
    lam: float | list[float] | dict[str, float] = 0.0
    on: str = "a"  # "a" (the raw parameter) | "tau"
    num_centres: int = 2  # clustering only


@dataclass
class OptimizerConfig:
    """Optimiser and parameter groups: tau and IMP may get their own lr and weight decay."""

    name: str = "adam"  # "adam" | "adamw" | "sgd"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.9  # sgd only
    tau_lr: float | None = None  # None: lr
    imp_lr: float | None = None  # None: lr
    dynamics_lr: float | None = None  # a learned threshold, ALIF's tau_a and beta, CubaLIF's tau_s; None: tau_lr
    tau_weight_decay: float = 0.0
    imp_weight_decay: float = 0.0
    dynamics_weight_decay: float = 0.0
    norm_bias_weight_decay: float = 0.0


@dataclass
class SchedulerConfig:
    """Learning-rate schedule per epoch: "cosine" (with optional linear warm-up) | "none"."""

    name: str = "cosine"
    t_max: int | None = None  # cosine period in epochs; None: max_epochs (after warm-up)
    warmup_epochs: int = 0
    eta_min: float = 0.0


@dataclass
class TrainerConfig:
    """Lightning Trainer settings."""

    max_epochs: int = 30
    accelerator: str = "auto"  # "cpu" | "gpu" | "auto"
    devices: int | str = 1
    num_nodes: int = 1
    strategy: str = "auto"  # "auto" | "ddp" | ...
    precision: str = "32-true"  # "32-true" | "bf16-mixed" | "16-mixed"
    compile: bool = False  # torch.compile the whole network, neurons included, as one graph (fullgraph)
    compact_activations: bool = True  # keep saved spikes as bits and recompute BN-fed H in backward, exactly (spikedyn.memory); off under compile
    gradient_clip_val: float | None = None
    sync_batchnorm: bool = False  # BN statistics over all processes' batches (DDP)
    progress_bar: bool = True  # the live bar on a terminal; one line per epoch elsewhere, or with false
    loggers: list[str] = field(default_factory=lambda: ["tensorboard"])  # any of "tensorboard", "csv", "wandb", "mlflow"
    deterministic: bool = False
    on_divergence: str = "stop"  # a NaN/inf loss or parameter: "stop" the run | "warn" and go on (a silent layer is reported, never stops a run)


@dataclass
class RecordsConfig:
    """What the run records besides the per-epoch metrics."""

    snapshot_every: int = 1  # epochs between snapshots of every layer's full tau and IMP tensors (0: never)
    weights: list[str] = field(default_factory=list)  # module names whose weights are snapshotted too
    firing_rates: bool = True  # firing rate per spiking layer, on the validation split (protocol A: the test split)
    tensorboard: bool = True  # false: no TensorBoard logger even where trainer.loggers names it (older configs' switch)


#: What an experiment config says the source of (``sources``): a paper section, a released-code
#: file, or "our choice: <reason>" for each.
SOURCE_ASPECTS = (
    "protocol", "data", "time_steps", "augmentation", "model", "neuron", "surrogate", "reset", "initialisation",
    "dropout", "loss", "optimizer", "lr", "weight_decay", "schedule", "epochs", "batch_size", "seed",
)  # fmt: skip


@dataclass
class ExperimentConfig:
    """One experiment: what to train on what, how, and what to record."""

    name: str = "digits"
    description: str = ""
    sources: dict[str, str] = field(default_factory=dict)  # {aspect: where its value comes from}, see SOURCE_ASPECTS
    seed: int = 2020
    # "A": train on the whole training set, report the maximum test accuracy (PLIF Table 2);
    # "B": train on 85% per class, report the test accuracy at the best validation epoch (Table S2)
    protocol: str = "B"
    output_dir: str = "runs"
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    regularizer: RegularizerConfig = field(default_factory=RegularizerConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    records: RecordsConfig = field(default_factory=RecordsConfig)
