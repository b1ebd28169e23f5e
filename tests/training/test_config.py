"""Experiment configs: defaults, extends, overrides, validation messages, save/load round trip."""

from __future__ import annotations

import dataclasses
import tracemalloc
from pathlib import Path

import pytest
import yaml

from spikedyn.training.config import (
    ConfigError,
    config_from_dict,
    config_to_dict,
    load_config,
    save_config,
)
from spikedyn.data import dataset_defaults
from spikedyn.training.config.resolve import resolved
from spikedyn.training.config.reading import MAX_BYTES, MAX_DEPTH, MAX_VALUES, read_file
from spikedyn.training.config.schema import ExperimentConfig, NeuronConfig

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def error_of(path: Path | None = None, overrides: tuple[str, ...] = (), text: str | None = None) -> str:
    if text is not None:
        write(path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, overrides)
    return str(caught.value)


# ------------------------------------------------------------------ defaults and files


def test_no_path_gives_the_schema_defaults():
    cfg = load_config()
    assert cfg == resolved(ExperimentConfig())  # the dataset options written out: what the run trains with
    assert cfg.data.options == {key: value for key, value in dataset_defaults("digits").items() if key != "val_fraction"}
    assert cfg.data.dataset == "digits" and cfg.model.name == "plifnet_mnist"
    assert cfg.model.options == {}


def test_a_file_sets_what_it_says_and_the_rest_keeps_its_default(tmp_path):
    path = write(tmp_path / "run.yaml", "name: run\ntrainer:\n  max_epochs: 5\nmodel:\n  neuron:\n    tau: 4\n")
    cfg = load_config(path)
    assert cfg.name == "run" and cfg.trainer.max_epochs == 5
    assert cfg.model.neuron.tau == 4.0 and isinstance(cfg.model.neuron.tau, float)  # int accepted as float
    assert cfg.model.neuron.kind == "plif" and cfg.trainer.precision == "32-true"
    assert cfg.model.options == {}


def test_an_empty_file_is_the_defaults(tmp_path):
    assert load_config(write(tmp_path / "empty.yaml", "")) == load_config()


def test_yaml_1_2_scalars_exponent_floats_and_the_key_on(tmp_path):
    path = write(tmp_path / "r.yaml", "optimizer:\n  lr: 1e-3\nregularizer:\n  on: tau\n")
    cfg = load_config(path)
    assert cfg.optimizer.lr == 0.001
    assert cfg.regularizer.on == "tau"


def test_the_top_level_must_be_a_mapping_and_valid_yaml(tmp_path):
    assert "top level must be a mapping" in error_of(tmp_path / "list.yaml", text="- 1\n- 2\n")
    message = error_of(tmp_path / "broken.yaml", text="model: [1, 2\n")
    assert str(tmp_path / "broken.yaml") in message and "not valid YAML" in message


def test_a_missing_file_is_a_config_error(tmp_path):
    assert "cannot read" in error_of(tmp_path / "nowhere.yaml")


def test_a_config_that_is_not_utf8_names_the_file_and_the_line(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: run\ndescription: caf\u00e9\n".encode("latin-1"))
    message = error_of(path)
    assert message.startswith(str(path)) and "not UTF-8" in message and "line 2" in message


def test_a_config_far_larger_than_any_config_is_refused_unread(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"# padding\n" * (MAX_BYTES // 10 + 1))
    assert "larger than" in error_of(path)


# ------------------------------------------------------------------ YAML limits: aliases, depth, duplicate keys


def _alias_bomb(levels: int) -> str:
    """The "billion laughs" under model.options.x: each line an anchor of 9 aliases of the one before, 9**levels values in all."""
    lines = ['      - &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"      - &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "model:\n  options:\n    x:\n" + "\n".join(lines) + "\n"


@pytest.mark.drill
def test_an_alias_bomb_is_refused_before_it_expands(tmp_path):
    path = write(tmp_path / "laughs.yaml", _alias_bomb(7))  # 9**7 = 4.8 million "lol"s from 8 lines
    tracemalloc.start()
    try:
        message = error_of(path)
        assert tracemalloc.get_traced_memory()[1] < 8 * 2**20  # peak bytes: the 4.8 million values were never built
    finally:
        tracemalloc.stop()
    assert message.startswith(str(path)) and "model.options.x[" in message
    assert f"more than {MAX_VALUES} values" in message and "aliases" in message
    assert len(message) < 300


@pytest.mark.drill
def test_an_alias_bomb_in_an_override_is_refused_too():
    bomb = "[" + ", ".join(["&a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]", *(f"&{b} [{', '.join([f'*{a}'] * 10)}]" for a, b in zip("abcd", "bcde"))]) + "]"
    message = error_of(None, (f"model.options.x={bomb}",))
    assert "override 'model.options.x=" in message and f"more than {MAX_VALUES} values" in message


@pytest.mark.drill
@pytest.mark.parametrize(
    "text, key",
    [
        ("model:\n  options: &x\n    a: *x\n", "model.options.a"),
        ("sources: &x\n  data: *x\n", "sources.data"),
        ("records:\n  weights: &w [a, *w]\n", "records.weights[1]"),
    ],
    ids=["mapping", "section", "list"],
)
def test_an_alias_inside_its_own_anchor_is_an_error_not_a_recursion(tmp_path, text, key):
    path = tmp_path / "self.yaml"
    message = error_of(path, text=text)
    assert message.startswith(f"{path}: {key} (line ") and "inside its own anchor" in message


@pytest.mark.drill
def test_values_nested_thousands_deep_are_an_error_not_a_recursion(tmp_path):
    path = tmp_path / "deep.yaml"
    message = error_of(path, text="model:\n  options:\n    x: " + "[" * 5000 + "]" * 5000 + "\n")
    assert message.startswith(f"{path}: model.options.x[0]") and f"nested more than {MAX_DEPTH} levels" in message


@pytest.mark.parametrize(
    "text, key, lines",
    [
        ("model:\n  neuron:\n    tau: 2.0\n    kind: plif\n    tau: 3.0\n", "model.neuron.tau", "line 3 and again on line 5"),
        ("name: a\nseed: 1\nname: b\n", "name", "line 1 and again on line 3"),
        ("trainer: {max_epochs: 1, max_epochs: 2}\n", "trainer.max_epochs", "line 1 and again on line 1"),
    ],
    ids=["nested", "top-level", "flow"],
)
def test_a_key_set_twice_in_one_mapping_names_the_key_and_both_lines(tmp_path, text, key, lines):
    path = tmp_path / "twice.yaml"
    assert error_of(path, text=text) == f"{path}: {key}: duplicate key, set on {lines}; set it once"


def test_ordinary_anchors_aliases_and_merge_keys_still_load(tmp_path):
    path = write(
        tmp_path / "anchors.yaml",
        "sources:\n  <<: {lr: 'our choice: a test', seed: 'our choice: any'}\n  optimizer: &why 'our choice: the same'\n"
        "  schedule: *why\n  seed: 'our choice: overrides the merged one'\nrecords:\n  weights: &w [features.0]\n"
        "model:\n  neuron: &n {tau: 4.0}\n",
    )
    cfg = load_config(path)
    assert cfg.sources == {"lr": "our choice: a test", "seed": "our choice: overrides the merged one", "optimizer": "our choice: the same", "schedule": "our choice: the same"}
    assert cfg.records.weights == ["features.0"] and cfg.model.neuron.tau == 4.0


def test_every_file_in_configs_reads_well_within_the_limits():
    largest = 0
    for path in CONFIGS.rglob("*.yaml"):
        assert read_file(path, ())  # base files too, which are not whole configs on their own
        assert path.stat().st_size * 100 < MAX_BYTES
        largest = max(largest, _count(yaml.compose(path.read_text())))
    assert 0 < largest * 20 < MAX_VALUES


def _count(node: yaml.Node) -> int:
    if isinstance(node, yaml.ScalarNode):
        return 1
    children = [child for pair in node.value for child in pair] if isinstance(node, yaml.MappingNode) else node.value
    return 1 + sum(_count(child) for child in children)


# ------------------------------------------------------------------ extends


def test_extends_merges_mappings_key_by_key_and_replaces_lists(tmp_path):
    write(
        tmp_path / "base" / "root.yaml",
        "seed: 7\nmodel:\n  options: {pooling: avg, dropout: 0.25}\n  neuron: {tau: 4.0, surrogate: sigmoid}\n"
        "records:\n  weights: [a, b]\ntrainer: {max_epochs: 9}\n",
    )
    write(tmp_path / "base" / "mid.yaml", "extends: root.yaml\nmodel:\n  neuron: {tau: 3.0}\ntrainer: {max_epochs: 8}\n")
    child = write(
        tmp_path / "child.yaml",
        "extends: base/mid.yaml\nname: child\nmodel:\n  options: {dropout: 0.1}\nrecords:\n  weights: [c]\n",
    )
    cfg = load_config(child)
    assert cfg.name == "child" and cfg.seed == 7
    assert cfg.model.options == {"pooling": "avg", "dropout": 0.1}  # free dicts merge too, the child wins
    assert cfg.model.neuron.tau == 3.0 and cfg.model.neuron.surrogate == "sigmoid"
    assert cfg.records.weights == ["c"]  # lists replace
    assert cfg.trainer.max_epochs == 8


def test_null_in_the_child_replaces_the_parents_value(tmp_path):
    write(tmp_path / "a.yaml", "model:\n  neuron: {imp: neuron}\n")
    cfg = load_config(write(tmp_path / "b.yaml", "extends: a.yaml\nmodel:\n  neuron: {imp: null}\n"))
    assert cfg.model.neuron.imp is None


def test_an_extends_cycle_is_an_error(tmp_path):
    write(tmp_path / "a.yaml", "extends: b.yaml\n")
    write(tmp_path / "b.yaml", "extends: a.yaml\n")
    assert "cycle" in error_of(tmp_path / "a.yaml")
    assert "cycle" in error_of(tmp_path / "self.yaml", text="extends: self.yaml\n")


def test_extends_must_name_a_readable_file(tmp_path):
    message = error_of(tmp_path / "c.yaml", text="extends: missing.yaml\n")
    assert str(tmp_path / "c.yaml") in message and "missing.yaml" in message
    assert "extends" in error_of(tmp_path / "d.yaml", text="extends: [a.yaml]\n")


# ------------------------------------------------------------------ overrides


def test_overrides_of_scalars_nested_keys_null_and_lists(tmp_path):
    path = write(tmp_path / "run.yaml", "trainer: {max_epochs: 50}\nmodel:\n  neuron: {imp: neuron}\n")
    cfg = load_config(
        path,
        [
            "trainer.max_epochs=5",
            "model.neuron.tau_shape=neuron",
            "model.neuron.imp=null",
            "regularizer.lam=[0.1,0.01]",
            "optimizer.lr=2e-4",
            "name=over",
        ],
    )
    assert cfg.trainer.max_epochs == 5
    assert cfg.model.neuron.tau_shape == "neuron"
    assert cfg.model.neuron.imp is None
    assert cfg.regularizer.lam == [0.1, 0.01]
    assert cfg.optimizer.lr == pytest.approx(2e-4)
    assert cfg.name == "over"


def test_overrides_of_free_dicts_add_keys_and_keep_the_others():
    cfg = load_config(None, ["model.options.in_channels=1", "model.options.input_size=16", "data.options.upscale=2", "loss.name=tet", "loss.options.phi=0.5"])
    assert cfg.model.options == {"in_channels": 1, "input_size": 16}
    assert cfg.data.options == {**resolved(ExperimentConfig()).data.options, "upscale": 2}
    assert cfg.loss.options == {"phi": 0.5}


def test_overrides_apply_in_order_the_last_wins():
    assert load_config(None, ["trainer.max_epochs=3", "trainer.max_epochs=4"]).trainer.max_epochs == 4


def test_an_override_without_equals_is_an_error():
    message = error_of(None, ("trainer.max_epochs",))
    assert "trainer.max_epochs" in message and "dotted.key=value" in message


def test_an_override_of_an_unknown_key_names_the_nearest(tmp_path):
    path = write(tmp_path / "run.yaml", "name: run\n")
    message = error_of(path, ("trainer.max_epoch=5",))
    assert str(path) in message
    assert "'trainer.max_epoch'" in message and "did you mean 'trainer.max_epochs'" in message


def test_an_override_cannot_descend_into_a_scalar():
    assert "not a mapping" in error_of(None, ("trainer.max_epochs.value=3",))


def test_an_override_value_is_type_checked():
    message = error_of(None, ("trainer.max_epochs=many",))
    assert "trainer.max_epochs" in message and "expected int" in message and "'many'" in message


# ------------------------------------------------------------------ unknown keys and types


def test_an_unknown_key_names_the_dotted_key_the_nearest_and_the_valid_ones(tmp_path):
    path = tmp_path / "typo.yaml"
    message = error_of(path, text="model:\n  neuron:\n    tua: 3.0\n")
    assert message.startswith(str(path))
    assert "'model.neuron.tua'" in message
    assert "did you mean 'model.neuron.tau'" in message
    assert "tau_shape" in message and "surrogate_alpha" in message  # the valid keys are listed


def test_an_unknown_top_level_key(tmp_path):
    message = error_of(tmp_path / "t.yaml", text="trainr:\n  max_epochs: 3\n")
    assert "'trainr'" in message and "did you mean 'trainer'" in message


def test_a_wrong_type_names_the_key_the_expected_type_and_the_value(tmp_path):
    message = error_of(tmp_path / "w.yaml", text="trainer:\n  max_epochs: ten\n")
    assert "trainer.max_epochs" in message and "expected int" in message and "'ten'" in message
    message = error_of(tmp_path / "w2.yaml", text="model:\n  neuron:\n    v_reset: low\n")
    assert "model.neuron.v_reset" in message and "float | None" in message


def test_a_section_must_be_a_mapping(tmp_path):
    message = error_of(tmp_path / "s.yaml", text="trainer: 5\n")
    assert "trainer" in message and "expected a mapping" in message


@pytest.mark.parametrize(
    "text, key",
    [
        ("data:\n  batch_size: true\n", "data.batch_size"),  # bool is not an int
        ("optimizer:\n  lr: true\n", "optimizer.lr"),  # nor a float
        ("trainer:\n  max_epochs: 2.0\n", "trainer.max_epochs"),  # a float is not an int
        ("trainer:\n  compile: 1\n", "trainer.compile"),  # an int is not a bool
        ("trainer:\n  devices: 1.5\n", "trainer.devices"),
        ("regularizer:\n  lam: strong\n", "regularizer.lam"),
        ("regularizer:\n  lam: [0.1, x]\n", "regularizer.lam"),
        ("model:\n  neuron:\n    imp_init_range: 0.2\n", "model.neuron.imp_init_range"),
        ("model:\n  options: [1, 2]\n", "model.options"),
        ("records:\n  weights: [1]\n", "records.weights"),
        ("name: 5\n", "name"),
    ],
)
def test_wrong_types_are_rejected(tmp_path, text, key):
    message = error_of(tmp_path / "w.yaml", text=text)
    assert f"{key}: expected" in message


def test_unions_accept_each_of_their_forms(tmp_path):
    for lam in ("0.1", "[0.1, 0.2]", "{features.1: 0.5}"):
        cfg = load_config(write(tmp_path / "u.yaml", f"regularizer:\n  kind: variance\n  lam: {lam}\n"))
        assert cfg.regularizer.lam == yaml.safe_load(lam)
    lam = load_config(None, ["regularizer.lam=1"]).regularizer.lam
    assert lam == 1.0 and isinstance(lam, float)  # the int became the union's float
    assert load_config(None, ["trainer.devices=auto"]).trainer.devices == "auto"
    assert load_config(None, ["trainer.devices=2"]).trainer.devices == 2
    assert load_config(None, ["scheduler.t_max=null"]).scheduler.t_max is None


# ------------------------------------------------------------------ choices, registries, numbers


@pytest.mark.parametrize(
    "override, key",
    [
        ("model.neuron.kind=lifx", "model.neuron.kind"),
        ("model.neuron.tau_shape=layers", "model.neuron.tau_shape"),
        ("model.neuron.tau_init=uniform", "model.neuron.tau_init"),
        ("model.neuron.imp=all", "model.neuron.imp"),
        ("model.neuron.surrogate=tanh", "model.neuron.surrogate"),
        ("optimizer.name=rmsprop", "optimizer.name"),
        ("scheduler.name=step", "scheduler.name"),
        ("regularizer.kind=l2", "regularizer.kind"),
        ("regularizer.on=k", "regularizer.on"),
        ("trainer.precision=half", "trainer.precision"),
    ],
)
def test_choices_are_checked(override, key):
    message = error_of(None, (override,))
    assert f"{key}:" in message and "is not one of" in message


def test_unknown_registry_names_are_rejected():
    message = error_of(None, ("model.name=plifnet_mnst",))
    assert "model.name" in message and "did you mean 'plifnet_mnist'" in message
    message = error_of(None, ("data.dataset=cifar11",))
    assert "data.dataset" in message and "unknown dataset 'cifar11'" in message
    message = error_of(None, ("loss.name=cross_entropy",))
    assert "loss.name" in message and "mse_rate" in message


def test_model_options_must_be_options_of_that_model():
    message = error_of(None, ("model.options.pooling_kind=max",))
    assert "model.options.pooling_kind" in message and "did you mean 'pooling'" in message
    message = error_of(None, ("model.name=sew_resnet18", "model.options={dropout: 0.5}"))
    assert "model.options.dropout" in message and "sew_resnet18" in message
    assert "model.neuron" in error_of(None, ("model.options.neuron=plif",))


def test_data_and_loss_options_are_checked():
    assert "data.options.resize" in error_of(None, ("data.options.resize=48",))  # digits has no resize
    assert "data.options.root" in error_of(None, ("data.options.root=data",))
    cfg = load_config(None, ["data.dataset=cifar10dvs", "data.options.resize=48"])
    assert cfg.data.options["resize"] == 48 and cfg.data.options["time_steps"] == dataset_defaults("cifar10dvs")["time_steps"]
    assert "loss.options" in error_of(None, ("loss.options.label_smoothing=0.1",))  # mse_rate has none
    assert "label_smoothing" in error_of(None, ("loss.name=tet_s", "loss.options.label_smoothing=1.5"))
    assert load_config(None, ["loss.name=tet_s", "loss.options.label_smoothing=0.1"]).loss.options == {"label_smoothing": 0.1}


@pytest.mark.parametrize(
    "override, key",
    [
        ("optimizer.lr=0", "optimizer.lr"),
        ("optimizer.lr=-1e-3", "optimizer.lr"),
        ("optimizer.weight_decay=-0.1", "optimizer.weight_decay"),
        ("optimizer.momentum=1.0", "optimizer.momentum"),
        ("data.batch_size=0", "data.batch_size"),
        ("data.eval_batch_size=0", "data.eval_batch_size"),
        ("data.num_workers=-1", "data.num_workers"),
        ("trainer.max_epochs=0", "trainer.max_epochs"),
        ("trainer.devices=0", "trainer.devices"),
        ("scheduler.t_max=0", "scheduler.t_max"),
        ("scheduler.warmup_epochs=30", "scheduler.warmup_epochs"),  # = max_epochs: no cosine epochs left
        ("model.neuron.tau=1.0", "model.neuron.tau"),
        ("model.neuron.v_reset=1.0", "model.neuron.v_reset"),
        ("model.neuron.surrogate_alpha=0", "model.neuron.surrogate_alpha"),
        ("model.neuron.imp_init_range=[0.2,-0.2]", "model.neuron.imp_init_range"),
        ("regularizer.lam=-0.1", "regularizer.lam"),
        ("regularizer.num_centres=0", "regularizer.num_centres"),
        ("seed=-1", "seed"),
        ("name=a/b", "name"),
        ("records.snapshot_every=-1", "records.snapshot_every"),
    ],
)
def test_numbers_and_names_are_sane(override, key):
    assert f"{key}:" in error_of(None, (override,))


def test_options_that_apply_to_plif_only_are_rejected_for_other_neurons():
    message = error_of(None, ("model.neuron.kind=lif", "model.neuron.tau_shape=neuron"))
    assert "model.neuron.tau_shape" in message and "plif" in message
    message = error_of(None, ("model.neuron.kind=lif", "regularizer.kind=variance", "regularizer.lam=0.1"))
    assert "regularizer.kind" in message
    assert "tau_std" in error_of(None, ("model.neuron.tau_init=lognormal",))  # needs tau_std > 0


def test_every_problem_is_reported_at_once(tmp_path):
    message = error_of(tmp_path / "m.yaml", text="optimizer:\n  lr: 0\ndata:\n  batch_size: 0\n")
    assert "2 problems" in message and "optimizer.lr" in message and "data.batch_size" in message


@pytest.mark.parametrize(
    "text, keys",
    [
        (
            "trainr: {}\nmodel:\n  neuron: {tua: 2}\n  options: [1]\ntrainer: {max_epochs: ten}\nrecords: {weights: [1]}\nsources: 5\n",
            ["trainr", "model.neuron.tua", "model.options", "trainer.max_epochs", "records.weights", "sources"],
        ),
        (
            "optimizer: {lr: 0, name: rms}\nmodel:\n  options: {pool: max}\n  neuron: {kind: lif, tau_shape: neuron}\n"
            "data: {options: {resize: 2}}\nsources: {lrr: x, seed: ''}\nrecords: {weights: ['']}\n",
            ["optimizer.name", "model.neuron.tau_shape", "optimizer.lr", "sources.lrr", "sources.seed", "records.weights[0]",
             "model.options.pool", "data.options.resize"],
        ),
    ],
    ids=["types", "values"],
)
def test_every_problem_names_its_dotted_key(tmp_path, text, keys):
    path = tmp_path / "many.yaml"
    head, *lines = error_of(path, text=text).splitlines()
    assert head == f"{path}: {len(keys)} problems:"
    assert sorted(line.split(": ", 1)[0] for line in lines) == sorted(f"  - {key}" for key in keys)


def test_a_huge_value_is_shown_cut_short(tmp_path):
    message = error_of(tmp_path / "long.yaml", text=f"trainer:\n  max_epochs: {list(range(5000))}\n")
    assert message.startswith(f"{tmp_path / 'long.yaml'}: trainer.max_epochs: expected int, got [0, 1, 2,") and len(message) < 200
    assert len(error_of(None, (f"trainer.max_epochs={list(range(5000))}",))) < 300


# ------------------------------------------------------------------ dicts and saving


def test_config_from_dict_validates_and_names_its_source():
    cfg = config_from_dict({"trainer": {"max_epochs": 3}})
    assert cfg.trainer.max_epochs == 3 and cfg.model == ExperimentConfig().model
    with pytest.raises(ConfigError, match=r"^checkpoint\.ckpt: optimizer\.lr"):
        config_from_dict({"optimizer": {"lr": -1}}, source="checkpoint.ckpt")


def test_config_to_dict_is_plain_yaml():
    cfg = load_config(None, ["regularizer.lam={features.1: 0.5}"])
    data = config_to_dict(cfg)
    assert yaml.safe_load(yaml.safe_dump(data)) == data
    assert data["model"]["neuron"]["imp_init_range"] == [-0.2, 0.2]
    assert list(data) == [f.name for f in dataclasses.fields(ExperimentConfig)]


def test_save_then_load_gives_an_equal_config(tmp_path):
    cfg = load_config(
        None,
        [
            "name=round",
            "model.name=vgg11_imp",
            "model.options={norm: bn}",
            "model.neuron.kind=lif",
            "model.neuron.tau=1.3333333333333333",
            "model.neuron.imp=neuron",
            "model.neuron.v_reset=null",
            "model.neuron.surrogate=triangle",
            "model.neuron.surrogate_alpha=1",
            "regularizer.on=tau",
            "optimizer.lr=1e-05",
            "data.dataset=cifar10dvs",
            "data.options={resize: 48, flip: true}",
            "trainer.devices=auto",
            "records.weights=[features.0]",
        ],
    )
    path = save_config(cfg, tmp_path / "out" / "config.yaml")
    assert load_config(path) == cfg
    assert [p.name for p in path.parent.iterdir()] == ["config.yaml"]  # no temporary file left behind
    assert yaml.safe_load(path.read_text())["regularizer"]["on"] == "tau"  # readable by any YAML reader
    assert load_config(save_config(ExperimentConfig(), tmp_path / "d.yaml")) == load_config()


def test_save_config_needs_a_config(tmp_path):
    with pytest.raises(TypeError):
        save_config({"name": "x"}, tmp_path / "x.yaml")  # type: ignore[arg-type]


def test_neuron_config_defaults_are_those_of_the_schema():
    assert load_config().model.neuron == NeuronConfig()
