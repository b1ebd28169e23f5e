"""Integers no config field can hold (thousands of digits, past 64 bits) are one-line config errors naming the key."""

from __future__ import annotations

import pytest

from spikedyn.cli import main
from spikedyn.training.config import ConfigError, config_from_dict, load_config
from spikedyn.training.config.reading import MAX_INT_DIGITS

HUGE = "1" + "0" * 99_999  # 100,000 digits: int() of it raises "Exceeds the limit (4300 digits)"


def _error(path=None, overrides=()) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path, overrides)
    return str(caught.value)


@pytest.mark.drill
def test_an_override_of_100000_digits_is_one_config_error_naming_the_key(tmp_path, capsys):
    # Before: ValueError: Exceeds the limit (4300 digits) for integer string conversion, with a traceback.
    code = main(["train", f"trainer.max_epochs={HUGE}", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err and len(err) < 400
    assert "trainer.max_epochs" in err and "an integer of 100000 digits" in err and f"at most {MAX_INT_DIGITS} digits" in err
    assert not any(tmp_path.iterdir())


@pytest.mark.drill
@pytest.mark.parametrize("written", [HUGE, f"-{HUGE}", "1_" + "0" * 99_999, "!!int " + HUGE, "1" + ":30" * 200], ids=["plain", "negative", "underscores", "tagged", "sexagesimal"])
def test_a_yaml_file_integer_of_thousands_of_digits_names_the_key_and_line(tmp_path, written):
    path = tmp_path / "big.yaml"
    path.write_text(f"name: big\ntrainer:\n  max_epochs: {written}\n")
    message = _error(path)
    assert message.startswith(f"{path}: trainer.max_epochs (line 3): an integer of ") and "\n" not in message


@pytest.mark.drill
def test_a_huge_integer_key_or_list_item_is_refused_before_conversion(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text(f"model:\n  options:\n    x: [1, {HUGE}]\n")
    assert _error(path).startswith(f"{path}: model.options.x[1] (line 3): an integer of 100000 digits")
    path.write_text(f"sources:\n  {HUGE}: x\n")
    assert "an integer of 100000 digits" in _error(path)


@pytest.mark.parametrize(
    "override, key",
    [
        (f"trainer.max_epochs={2**63}", "trainer.max_epochs"),
        (f"optimizer.lr={10**99}", "optimizer.lr"),  # an int for a float field: float() of it would overflow past 309 digits
        (f"seed=-{2**63 + 1}", "seed"),
        (f"model.options.x=[1, {10**40}]", "model.options.x[1]"),
        ("trainer.max_epochs=0x" + "f" * 90, "trainer.max_epochs"),
    ],
)
def test_an_integer_past_64_bits_names_its_key(override, key):
    message = _error(None, (override,))
    assert f"{key}: an integer of " in message and "-2**63 to 2**63 - 1" in message


def test_the_largest_64_bit_integers_still_load_and_meet_the_range_checks():
    cfg = load_config(None, (f"trainer.max_epochs={2**63 - 1}", f"optimizer.lr={2**63 - 1}"))
    assert cfg.trainer.max_epochs == 2**63 - 1 and cfg.optimizer.lr == float(2**63 - 1)
    assert f"seed: must be an int in [0, {2**32 - 1}], got {-(2**63)}" in _error(None, (f"seed={-(2**63)}",))


@pytest.mark.drill
def test_a_dict_with_an_integer_too_long_to_print_is_a_config_error():
    with pytest.raises(ConfigError) as caught:  # str() of 10**5000 raises past 4300 digits
        config_from_dict({"trainer": {"max_epochs": 10**5000}})
    assert "trainer.max_epochs: an integer of about 5001 digits" in str(caught.value)
