"""Mistakes in a training command get a clear message and leave no run folder behind."""

from spikedyn.cli import main


def _run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().err


def test_an_unknown_config_key_names_it_and_the_nearest_valid_one(tmp_path, capsys):
    code, err = _run(capsys, "train", "trainer.max_epoch=3", "--out", str(tmp_path))
    assert code == 2
    assert "trainer.max_epoch" in err and "trainer.max_epochs" in err
    assert not any(tmp_path.iterdir())


def test_a_missing_dataset_says_where_to_put_it_and_writes_nothing(tmp_path, capsys):
    code, err = _run(capsys, "train", "data.dataset=nmnist", "model.name=plifnet_nmnist", f"data.options.root={tmp_path / 'data'}", "--out", str(tmp_path / "runs"))
    assert code == 2
    assert "nmnist was not found" in err and "download=True" in err
    assert not (tmp_path / "runs").exists()


def test_resuming_something_that_is_not_a_run(tmp_path, capsys):
    code, err = _run(capsys, "train", "--resume", str(tmp_path))
    assert code == 2 and "is not a spikedyn run folder" in err


def test_a_resumed_run_refuses_config_changes_other_than_more_epochs(tmp_path, capsys):
    (tmp_path / "config.yaml").write_text("name: x\n")
    code, err = _run(capsys, "train", "--resume", str(tmp_path), "optimizer.lr=0.1")
    assert code == 2 and "only trainer.max_epochs" in err


def test_eval_of_a_missing_checkpoint(tmp_path, capsys):
    code, err = _run(capsys, "eval", str(tmp_path / "nothing.ckpt"))
    assert code == 2 and "no checkpoint at" in err
