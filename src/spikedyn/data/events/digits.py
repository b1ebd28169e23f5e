"""The "event_digits" dataset: scikit-learn's digits recorded by the simulated event camera,
stored exactly like N-MNIST and read through the same neuromorphic pipeline (Eq. S1, cache)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from spikedyn.atomic import write_bytes_atomically
from spikedyn.data.static.digits import digit_images, digits_split, upscale_images
from spikedyn.data.events.camera import (
    EPS,
    SACCADE_PATH,
    add_background_noise,
    check_positive,
    check_rate,
    check_sensor,
    pixel_thresholds,
    saccade_offsets,
    simulate_saccades,
)
from spikedyn.data.events.dataset import EventFrameDataset
from spikedyn.data.events.sources import NMNIST_SOURCE
from spikedyn.data.events.neuromorphic import assemble_event_dataset, check_frame_options
from spikedyn.data.events.nmnist_format import write_nmnist_file
from spikedyn.data.options import check_fraction, check_int, check_optional_int, check_path
from spikedyn.data.registry import DATASETS
from spikedyn.data.splits import VALIDATION_FRACTION, check_split

#: Bump when the simulation changes what it writes: folders of another version are refused.
EVENT_DIGITS_VERSION = 1
EVENT_DIGITS_FOLDER = "EventDigits"
#: Written last: the folder is complete, and these were its generation parameters.
COMPLETE_MARKER = "complete.json"
#: Written first: the parameters of a generation that may have been interrupted.
STARTED_MARKER = "started.json"
#: Digits simulated per call while generating (bounds the memory their events take).
GENERATION_BATCH = 512
#: The simulated sensor (W, H): N-MNIST's.
SENSOR = (34, 34)


def _event_digits_parameters(**parameters: object) -> dict[str, object]:
    """The parameters, checked, as JSON gives them back (tuples become lists): stored and requested compare equal."""
    for name in ("seed", "split_seed"):
        check_int(name, parameters[name], 0)
    pixel_thresholds((1, 1), parameters["threshold"], parameters["threshold_sigma"], 0)
    check_positive("eps", parameters["eps"])
    check_rate(parameters["noise_rate_hz"])
    saccade_offsets(SACCADE_PATH, parameters["saccade_us"], parameters["dt_us"])
    check_optional_int("limit", parameters["limit"], 1, why="or None for all digits")
    upscale = check_int("upscale", parameters["upscale"], 1)
    width, height = check_sensor(parameters["sensor"])
    if width > 256 or height > 240:
        raise ValueError(f"sensor {width}x{height} does not fit the N-MNIST format, which holds x < 256 and y < 240")
    if 8 * upscale > min(width, height):
        raise ValueError(f"upscale={upscale}: digits upscaled {upscale}x ({8 * upscale}x{8 * upscale}) do not fit on the {width}x{height} sensor")
    return json.loads(json.dumps({"version": EVENT_DIGITS_VERSION, **parameters}, default=_plain))


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{value!r} ({type(value).__name__}) cannot be stored as a generation parameter")


def _check_same(folder: Path, marker: str, stored: dict[str, object], requested: dict[str, object]) -> None:
    if stored != requested:
        keys = sorted(set(stored) | set(requested))
        differ = ", ".join(f"{k}: {stored.get(k)!r} there, {requested.get(k)!r} asked" for k in keys if stored.get(k) != requested.get(k))
        raise ValueError(
            f"{folder} was generated with other parameters ({differ}; from {marker}); "
            f"use another root, or delete {folder} to generate it again"
        )


def _read_marker(path: Path) -> dict[str, object]:
    try:
        marker = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read the marker {path} ({error}); delete {path.parent} to generate it again") from error
    if not isinstance(marker, dict):
        raise ValueError(f"the marker {path} holds {type(marker).__name__}, not an object; delete {path.parent} to generate it again")  # noqa: TRY004 (a bad file, not a bad argument)
    return marker


def _event_digit_path(folder: Path, index: int, label: int, test: bool) -> Path:
    return folder / ("Test" if test else "Train") / str(label) / f"{index}.bin"


def ensure_event_digits(
    root: str | os.PathLike[str],
    *,
    upscale: int = 3,
    sensor: tuple[int, int] = SENSOR,
    threshold: float = 0.15,
    threshold_sigma: float = 0.0,
    eps: float = EPS,
    dt_us: int = 1000,
    saccade_us: int = 100_000,
    noise_rate_hz: float = 0.0,
    seed: int = 0,
    split_seed: int = 0,
    limit: int | None = None,
) -> Path:
    """``<root>/EventDigits``, generated once: the digits upscaled and recorded by :func:`simulate_saccades`.

    Laid out like N-MNIST: ``Train/<digit>/<index>.bin`` (the train and val splits) and
    ``Test/<digit>/<index>.bin`` (the test split of ``split_seed``), ``index`` into
    load_digits. ``complete.json``, written last, marks the folder complete; an interrupted
    generation resumes, keeping the files already written. ``limit`` generates only digits
    0..limit-1 (for tests). A folder generated with other parameters is refused.
    """
    parameters = _event_digits_parameters(
        upscale=upscale, sensor=sensor, threshold=threshold, threshold_sigma=threshold_sigma, eps=eps, dt_us=dt_us,
        saccade_us=saccade_us, noise_rate_hz=noise_rate_hz, seed=seed, split_seed=split_seed, limit=limit,
    )
    folder = Path(root) / EVENT_DIGITS_FOLDER
    complete = folder / COMPLETE_MARKER
    if complete.exists():
        _check_same(folder, COMPLETE_MARKER, _read_marker(complete).get("parameters", {}), parameters)
        return folder
    started = folder / STARTED_MARKER
    if started.exists():
        _check_same(folder, STARTED_MARKER, _read_marker(started), parameters)
    else:
        write_bytes_atomically(started, json.dumps(parameters, indent=1).encode())

    images, labels = digit_images()
    count = len(labels) if limit is None else min(int(limit), len(labels))
    test = np.zeros(len(labels), dtype=bool)
    test[digits_split("test", split_seed)] = True
    paths = [_event_digit_path(folder, i, int(labels[i]), bool(test[i])) for i in range(count)]
    missing = [i for i in range(count) if not paths[i].exists()]
    duration_us = (len(SACCADE_PATH) - 1) * saccade_us
    for begin in range(0, len(missing), GENERATION_BATCH):
        batch = missing[begin : begin + GENERATION_BATCH]
        streams = simulate_saccades(
            upscale_images(images[batch], upscale), sensor, threshold, dt_us, saccade_us, seed, eps=eps, threshold_sigma=threshold_sigma
        )
        for index, events in zip(batch, streams):
            # noise keyed by the digit, not its place in the batch: a resumed generation writes the same files
            events = add_background_noise(events, noise_rate_hz, sensor, duration_us, np.random.default_rng((seed, index)))
            write_nmnist_file(paths[index], events)

    files = {"Train": int(count - test[:count].sum()), "Test": int(test[:count].sum())}
    write_bytes_atomically(complete, json.dumps({"parameters": parameters, "files": files}, indent=1).encode())
    return folder


def event_digits_parameters(root: str | os.PathLike[str]) -> dict[str, object]:
    """The generation parameters of the complete ``<root>/EventDigits`` (sensor, durations, ...), from its marker."""
    complete = Path(root) / EVENT_DIGITS_FOLDER / COMPLETE_MARKER
    if not complete.exists():
        raise FileNotFoundError(f"{complete.parent} is not a complete event_digits folder (no {COMPLETE_MARKER}); call ensure_event_digits({str(root)!r}) first")
    return _read_marker(complete)["parameters"]


def event_digits_files(
    root: str | os.PathLike[str], split: str, split_seed: int = 0, val_fraction: float = VALIDATION_FRACTION
) -> tuple[list[Path], np.ndarray]:
    """(paths, labels) of the files of ``split`` in the complete ``<root>/EventDigits``, in load_digits order.

    "train" and "val" live in Train (val is carved out by ``split_seed``), "test" in Test.
    """
    check_split(split)
    parameters = event_digits_parameters(root)
    if parameters["split_seed"] != split_seed:
        raise ValueError(
            f"{Path(root) / EVENT_DIGITS_FOLDER} holds the test split of split_seed={parameters['split_seed']}, "
            f"not {split_seed}; use that split_seed, or generate into another root"
        )
    _, labels = digit_images()
    indices = digits_split(split, split_seed, val_fraction)
    if parameters["limit"] is not None:
        indices = indices[indices < parameters["limit"]]
    folder = Path(root) / EVENT_DIGITS_FOLDER
    paths = [_event_digit_path(folder, int(i), int(labels[i]), split == "test") for i in indices]
    return paths, labels[indices].copy()


def build_event_digits(
    split: str,
    *,
    root: str = "data",
    split_seed: int = 0,
    val_fraction: float = VALIDATION_FRACTION,
    upscale: int = 3,
    threshold: float = 0.15,
    limit: int | None = None,
    **frame_options: object,
) -> EventFrameDataset:
    """One split of event_digits as frames, generating the folder first if needed (about 6 s, once).

    Every option is checked before the folder is generated; an error names the option.
    """
    check_path("root", root)
    check_split(split)
    check_fraction("val_fraction", val_fraction)
    check_frame_options((*SENSOR, 2), **frame_options)  # type: ignore[arg-type]
    folder = ensure_event_digits(root, upscale=upscale, threshold=threshold, split_seed=split_seed, limit=limit)
    files, labels = event_digits_files(root, split, split_seed, val_fraction)
    width, height = event_digits_parameters(root)["sensor"]
    return assemble_event_dataset(
        split, name="event_digits", classes=tuple(str(d) for d in range(10)), files=files, labels=labels,
        read=NMNIST_SOURCE.read, sensor_size=(width, height, 2), data_folder=folder, root=root, **frame_options,
    )  # fmt: skip


DATASETS.register_variant(
    "event_digits",
    build_event_digits,
    "scikit-learn's digits (upscaled 3x) seen by a simulated event camera along N-MNIST's saccades, "
    "stored like N-MNIST on a 34x34 sensor: offline neuromorphic data; T=10.",
    root="data", split_seed=0, val_fraction=VALIDATION_FRACTION, upscale=3, threshold=0.15, limit=None, time_steps=10,
    split_by="number", resize=None,
    cache=True, cache_root=None, cache_verify="stat", flip=False, crop_padding=0, nda=False,
)  # fmt: skip
