"""Dataset options are checked before anything is read, generated or allocated, and every error names its option."""

from __future__ import annotations

import pytest

from spikedyn.data import build_dataset
from spikedyn.data.options import OptionError, check_memory, format_bytes

EVENT_DATASETS = ("nmnist", "cifar10dvs", "dvs128_gesture", "ncaltech101", "event_digits")
STATIC_DATASETS = ("mnist", "fashion_mnist", "cifar10")
ALL_DATASETS = (*EVENT_DATASETS, *STATIC_DATASETS, "digits", "imagenet")

# Strings that read as true if a bool option is only tested for truth.
FALSE_LOOKING = ["off", "no", "false", "0", ""]


def _build(tmp_path, name: str, **options: object):
    rooted = {} if name == "digits" else {"root": str(tmp_path)}
    return build_dataset(name, "train", **{**rooted, **options})


def _refused(tmp_path, name: str, key: str, value: object) -> str:
    with pytest.raises(OptionError) as caught:
        _build(tmp_path, name, **{key: value})
    assert caught.value.key.startswith(key) and key in str(caught.value)
    assert not (tmp_path / "EventDigits").exists()  # refused before event_digits generates its files
    return str(caught.value)


BOOLEAN_OPTIONS = [(name, "flip") for name in EVENT_DATASETS] + [(name, "cache") for name in EVENT_DATASETS]
BOOLEAN_OPTIONS += [(name, "download") for name in (*EVENT_DATASETS[:4], *STATIC_DATASETS)]
BOOLEAN_OPTIONS += [("digits", "augment"), ("imagenet", "augment")]


@pytest.mark.parametrize("name, key", BOOLEAN_OPTIONS)
@pytest.mark.parametrize("value", FALSE_LOOKING[:3])
def test_strings_for_boolean_options_are_refused_not_read_as_true(tmp_path, name, key, value):
    message = _refused(tmp_path, name, key, value)
    assert f"{key} must be True or False, got {value!r}" in message


@pytest.mark.parametrize("value", FALSE_LOOKING)
def test_static_augment_takes_its_documented_choices_only(tmp_path, value):
    message = _refused(tmp_path, "mnist", "augment", value)
    assert "'code', 'text', 'none'" in message


@pytest.mark.parametrize("name", ALL_DATASETS)
@pytest.mark.parametrize(
    "key, value",
    [("split_seed", -5), ("split_seed", "0"), ("val_fraction", 1.5), ("val_fraction", "0.1"), ("time_steps", 0), ("time_steps", 10**6), ("time_steps", 2.0)],
)
def test_common_options_name_themselves_in_every_dataset(tmp_path, name, key, value):
    _refused(tmp_path, name, key, value)


@pytest.mark.parametrize("name", ALL_DATASETS[:-2] + ("imagenet",))
@pytest.mark.parametrize("value", [None, 5])
def test_the_root_must_be_a_path(tmp_path, name, value):
    if value is None and name in ("mnist", "fashion_mnist", "cifar10"):
        pytest.skip("the static datasets take root=None: data/<layout> first, then the system's dataset folders")
    assert "root must be a folder path" in _refused(tmp_path, name, "root", value)


@pytest.mark.parametrize("name", EVENT_DATASETS)
@pytest.mark.parametrize(
    "key, value",
    [
        ("resize", 0),
        ("resize", 10**6),
        ("resize", 48.0),
        ("crop_padding", -1),
        ("crop_padding", 10**6),
        ("split_by", "space"),
        ("cache_root", 5),
        ("cache_verify", "mtime"),
        ("nda", "yes"),
    ],
)
def test_frame_options_name_themselves(tmp_path, name, key, value):
    _refused(tmp_path, name, key, value)


@pytest.mark.parametrize("key, value", [("train_fraction", 1.0), ("train_fraction", 0), ("test_part", "middle")])
def test_split_options_of_datasets_without_an_official_split(tmp_path, key, value):
    _refused(tmp_path, "cifar10dvs", key, value)


@pytest.mark.parametrize(
    "name, options, size",
    [
        ("digits", {"upscale": 1000}, "291.3 GiB"),  # the train split's images, 1222 of 8000x8000
        ("digits", {"upscale": 800, "time_steps": 8}, "1.2 GiB"),  # one sample's frames, 8 x 6400x6400
        ("nmnist", {"resize": 4096, "time_steps": 20}, "2.5 GiB"),
        ("cifar10dvs", {"time_steps": 4096}, "512.0 MiB"),  # fits: no error
        ("imagenet", {"crop": 4096, "time_steps": 8}, "1.5 GiB"),
    ],
)
def test_absurd_sizes_are_refused_with_the_size_before_allocating(tmp_path, name, options, size):
    if size.endswith("MiB"):
        with pytest.raises(FileNotFoundError):  # the options pass; only the files are missing
            _build(tmp_path, name, **options)
        return
    with pytest.raises(OptionError, match=rf"would take {size} .*over the limit of") as caught:
        _build(tmp_path, name, **options)
    assert any(key in caught.value.key for key in options)


def test_event_digits_refuses_an_upscale_that_does_not_fit_its_sensor(tmp_path):
    with pytest.raises(ValueError, match=r"upscale=1000: digits upscaled 1000x .* do not fit on the 34x34 sensor"):
        build_dataset("event_digits", "train", root=str(tmp_path), upscale=1000, limit=2)
    assert not (tmp_path / "EventDigits").exists()


def test_an_option_error_is_both_a_value_error_and_a_type_error():
    with pytest.raises(ValueError):
        build_dataset("digits", "train", time_steps="4")
    with pytest.raises(TypeError):
        build_dataset("digits", "train", time_steps=-4)


def test_sizes_read_in_binary_units():
    assert [format_bytes(n) for n in (512, 1536, 3 << 30)] == ["512 B", "1.5 KiB", "3.0 GiB"]
    with pytest.raises(OptionError, match=r"a thing would take 4.0 KiB \(1024 values of 4 bytes\), over the limit of 1.0 KiB"):
        check_memory("size", "a thing", (1024,), 1024)
