"""Train-split augmentation of MNIST, Fashion-MNIST and CIFAR-10: as the PLIF authors' code does it, as the paper's text says, or none.

The PLIF authors' code (codes/models.py L173-209, ``get_transforms``, torchvision of 2020) uses
for MNIST ``RandomAffine(degrees=30, translate=(0.15, 0.15), scale=(0.85, 1.11))`` (nearest
resampling, fill 0, no shear), for Fashion-MNIST nothing, for CIFAR-10 ``RandomCrop(32,
padding=4)`` and ``RandomHorizontalFlip()``. The paper's text (supplementary Sec. 5) says "random
horizontal flipping and cropping on MNIST and CIFAR-10 ... We do not use these augmentations on
Fashion-MNIST"; it gives no padding, so MNIST's crop uses 4 pixels, CIFAR-10's in the code (our choice).
"""

from __future__ import annotations

from collections.abc import Callable

from spikedyn.data.augment import Compose, RandomAffine, RandomCrop, RandomHorizontalFlip
from spikedyn.data.base import Transform
from spikedyn.data.options import OptionError

#: The ``augment`` choices: the authors' released code (the default), the paper's text, none.
#: True and False are accepted for "code" and "none".
AUGMENT_CHOICES = ("code", "text", "none")
#: MNIST in the PLIF code: RandomAffine(degrees=30, translate=(0.15, 0.15), scale=(0.85, 1.11)), nearest.
MNIST_AFFINE_DEGREES = 30.0
MNIST_AFFINE_TRANSLATE = (0.15, 0.15)
MNIST_AFFINE_SCALE = (0.85, 1.11)
#: Zero padding of the random crop: CIFAR-10's 4 in the PLIF code; for MNIST with "text", our choice.
CROP_PADDING = 4


def check_augment(augment: bool | str) -> str:
    """The choice ``augment`` names (True -> "code", False -> "none"); a clear error for anything else."""
    if isinstance(augment, bool):
        return "code" if augment else "none"
    if not isinstance(augment, str):
        raise OptionError("augment", f"augment must be one of {list(AUGMENT_CHOICES)} (or True / False for 'code' / 'none'), got {augment!r}")
    if augment not in AUGMENT_CHOICES:
        raise OptionError("augment", f"augment={augment!r} is not known; expected one of {list(AUGMENT_CHOICES)} (or True / False for 'code' / 'none')")
    return augment


def _crop_and_flip(size: int) -> Transform:
    return Compose([RandomCrop(size, padding=CROP_PADDING), RandomHorizontalFlip()])


# (dataset, choice) -> its augmentation; pairs not listed (Fashion-MNIST, "none") have none.
_AUGMENTATIONS: dict[tuple[str, str], Callable[[], Transform]] = {
    ("mnist", "code"): lambda: RandomAffine(MNIST_AFFINE_DEGREES, translate=MNIST_AFFINE_TRANSLATE, scale=MNIST_AFFINE_SCALE, mode="nearest"),
    ("mnist", "text"): lambda: _crop_and_flip(28),
    ("cifar10", "code"): lambda: _crop_and_flip(32),
    ("cifar10", "text"): lambda: _crop_and_flip(32),
}


def static_augmentation(dataset: str, augment: bool | str) -> Transform | None:
    """The train-split augmentation of ``dataset`` ("mnist", "fashion_mnist", "cifar10") for the choice ``augment``."""
    build = _AUGMENTATIONS.get((dataset, check_augment(augment)))
    return None if build is None else build()
