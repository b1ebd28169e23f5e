"""Dataset "digits": scikit-learn's 1,797 real 8x8 handwritten digits, a static image repeated over T steps."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from sklearn.datasets import load_digits

from spikedyn.data.base import DatasetInfo, FrameDataset
from spikedyn.data.options import MAX_IN_MEMORY_BYTES, check_bool, check_int, check_memory, check_sample_size, check_time_steps
from spikedyn.data.registry import register_dataset
from spikedyn.data.splits import VALIDATION_FRACTION, check_split, check_split_seed, stratified_holdout

#: Fraction of each class held out for test; the rest plays the official training set.
TEST_FRACTION = 0.20
#: load_digits pixels are counts 0..16 (4x4 blocks of a 32x32 bitmap).
MAX_PIXEL = 16.0
CLASSES = tuple(str(d) for d in range(10))


@lru_cache(maxsize=1)
def digit_images() -> tuple[np.ndarray, np.ndarray]:
    """(images [1797, 8, 8] float32 in [0, 1], labels [1797] int64), read-only: load_digits scaled by 1/16."""
    digits = load_digits()
    images = (digits.images / MAX_PIXEL).astype(np.float32)
    labels = digits.target.astype(np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def digits_split(split: str, split_seed: int = 0, val_fraction: float = VALIDATION_FRACTION) -> np.ndarray:
    """Sorted indices into :func:`digit_images` of ``split``: test 20% of each class, val ``val_fraction`` of each class of the rest.

    The rest (80%) plays the official training set: ``val_fraction=0`` trains on all of it (protocol A).
    """
    check_split(split)
    _, labels = digit_images()
    rest, test = stratified_holdout(labels, TEST_FRACTION, split_seed, key="TEST_FRACTION")
    if split == "test":
        return test
    train, val = stratified_holdout(labels[rest], val_fraction, split_seed)
    return rest[train] if split == "train" else rest[val]


def upscale_images(images: np.ndarray, factor: int) -> np.ndarray:
    """Images [..., H, W] enlarged to [..., factor*H, factor*W] by nearest neighbour.

    Nearest neighbour invents no intensities: each pixel becomes a factor x factor block, so
    averaging the blocks gives the original back exactly, and mean and std are unchanged.
    """
    factor = check_int("upscale", factor, 1)
    return np.repeat(np.repeat(np.asarray(images), factor, axis=-2), factor, axis=-1)


def train_statistics(split_seed: int = 0, val_fraction: float = VALIDATION_FRACTION) -> tuple[float, float]:
    """(mean, std) of all train-split pixels in [0, 1]: the normalisation of every split."""
    images, _ = digit_images()
    train = images[digits_split("train", split_seed, val_fraction)].astype(np.float64)
    return float(train.mean()), float(train.std())


class RandomShift:
    """Shift all frames of a sample by the same random (dy, dx) in [-max_shift, max_shift], filling with ``fill``."""

    def __init__(self, max_shift: int, fill: float) -> None:
        self.max_shift = max_shift
        self.fill = fill

    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        m = self.max_shift
        dy, dx = (int(v) for v in torch.randint(-m, m + 1, (2,)))
        height, width = frames.shape[-2:]
        padded = torch.nn.functional.pad(frames, (m, m, m, m), value=self.fill)
        return padded[..., m - dy : m - dy + height, m - dx : m - dx + width].clone()


class DigitsDataset(FrameDataset):
    """One split of "digits": frames [T, 1, 8k, 8k], the normalised image (or with ``normalize=False`` the [0, 1] one) repeated over T."""

    def __init__(
        self, split: str, time_steps: int = 4, upscale: int = 1, augment: bool = False, split_seed: int = 0,
        val_fraction: float = VALIDATION_FRACTION, normalize: bool = True,
    ) -> None:  # fmt: skip
        time_steps = check_time_steps(time_steps)
        upscale = check_int("upscale", upscale, 1)
        augment = check_bool("augment", augment)
        normalize = check_bool("normalize", normalize)
        check_split_seed(split_seed)
        images, labels = digit_images()
        indices = digits_split(split, split_seed, val_fraction)
        size = 8 * upscale
        check_sample_size({"time_steps": time_steps, "upscale": upscale}, time_steps, (1, size, size))
        images_shape = (len(indices), 1, size, size)
        check_memory("upscale", f"the {split} split of digits with upscale={upscale}", images_shape, MAX_IN_MEMORY_BYTES, hint="use a smaller upscale")
        mean, std = train_statistics(split_seed, val_fraction) if normalize else (0.0, 1.0)
        normalised = (upscale_images(images[indices], upscale) - mean) / std
        self.indices = indices
        self.images = torch.from_numpy(normalised.astype(np.float32)).unsqueeze(1)  # [N, 1, H, W]
        info = DatasetInfo(name="digits", num_classes=10, frame_shape=(1, size, size), time_steps=time_steps, classes=CLASSES)
        # shift by up to one original pixel; the border is the normalised value of a blank pixel
        transform = RandomShift(upscale, fill=-mean / std) if augment and split == "train" else None  # evaluation is never augmented
        super().__init__(info, labels[indices], transform)

    def frames(self, index: int) -> torch.Tensor:
        """The image expanded (a view, not a copy) over T steps: transforms must not modify it in place."""
        return self.images[index].unsqueeze(0).expand(self.info.time_steps, -1, -1, -1)


@register_dataset("digits")
def digits(
    split: str, time_steps: int = 4, upscale: int = 1, augment: bool = False, split_seed: int = 0,
    val_fraction: float = VALIDATION_FRACTION, normalize: bool = True,
) -> DigitsDataset:  # fmt: skip
    """Real 8x8 handwritten digits that need no download, upscaled by ``upscale`` and repeated over ``time_steps``.

    ``augment`` shifts each training sample by up to one digit pixel (``upscale`` frame pixels) each way;
    the val and test splits are never augmented. ``normalize=False`` keeps intensities in [0, 1]
    (what a Poisson or latency encoder takes) instead of the train split's mean/std normalisation.
    """
    return DigitsDataset(split, time_steps=time_steps, upscale=upscale, augment=augment, split_seed=split_seed,
                         val_fraction=val_fraction, normalize=normalize)  # fmt: skip
