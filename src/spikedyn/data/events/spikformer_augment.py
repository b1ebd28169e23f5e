"""The IMP code's N-Caltech101 augmentation of event frames: one random operation per sample (amazing-cls SpikFormerDVS).

amazing-cls ``amzcls/datasets/transforms/dvs/version_spikformer.py`` L73-196: ``SpikFormerDVS``
runs ``SpikFormerAugmentWide`` (a TrivialAugment-Wide variant, after TEBN) on a sample's frames
[T, C, H, W]. Each call picks one operation uniformly, one of its magnitude bins uniformly and,
if the operation is signed, a random sign, then applies it to every frame with the same
parameters: torchvision ops, nearest interpolation, zeros where the image moved away. In the IMP
pipeline it follows a bilinear antialiased resize to 48 x 48 and a horizontal flip with p = 0.5
(IMP-SNN ``experiment/configs/_base_/datasets/ncaltech101_48x48_t10.py``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from spikedyn.data.augment import (
    AFFINE_MODES,
    RandomErasing,
    affine,
    check_generator,
    check_images,
    erase,
    is_number,
    random_int,
)

#: An augmentation space: operation -> (magnitude bins, signed). No bins: the magnitude is 0.
Space = Mapping[str, tuple[tuple[float, ...], bool]]
#: The operations a space may hold, by their names in the reference code.
OPERATIONS = ("Identity", "ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate", "Cutout")


def magnitude_bins(low: float, high: float, count: int = 31) -> tuple[float, ...]:
    """``torch.linspace(low, high, count)`` as Python floats: the float32 values the reference code draws from."""
    return tuple(torch.linspace(low, high, count).tolist())


#: What the released code ran. ``SpikFormerDVS.__init__`` passes ``augmentation_space=prepare(...)``
#: and ``prepare`` (L150-156) evaluates the config's space in place but returns None, so
#: ``SpikFormerAugmentWide`` always falls back to its own space (L100-110): no ShearY, translations
#: of -5 .. 5 pixels. Shear in radians, translation in pixels (truncated to an int), rotation in
#: degrees; Cutout's magnitude is drawn but unused (the erased box has its own draws).
SPIKFORMER_DVS_SPACE: Space = {
    "Identity": ((), False),
    "ShearX": (magnitude_bins(-0.3, 0.3), True),
    "TranslateX": (magnitude_bins(-5.0, 5.0), True),
    "TranslateY": (magnitude_bins(-5.0, 5.0), True),
    "Rotate": (magnitude_bins(-30.0, 30.0), True),
    "Cutout": (magnitude_bins(1.0, 30.0), True),
}
#: The space the IMP N-Caltech101 config writes (IMP-SNN ``experiment/configs/_base_/datasets/
#: ncaltech101_48x48_t10.py``, the same in amazing-cls): with ShearY, and translations from -0.5
#: (probably meant -5) to 5. The released code never applied it (see :data:`SPIKFORMER_DVS_SPACE`).
IMP_NCALTECH101_CONFIG_SPACE: Space = {
    "Identity": ((), False),
    "ShearX": (magnitude_bins(-0.3, 0.3), True),
    "ShearY": (magnitude_bins(-0.3, 0.3), True),
    "TranslateX": (magnitude_bins(-0.5, 5.0), True),
    "TranslateY": (magnitude_bins(-0.5, 5.0), True),
    "Rotate": (magnitude_bins(-30.0, 30.0), True),
    "Cutout": (magnitude_bins(1.0, 30.0), True),
}
#: Cutout in the reference code: ``RandomErasing(p=1, scale=(0.001, 0.11), ratio=(1, 1))``, filled with 0.
CUTOUT_SCALE = (0.001, 0.11)
CUTOUT_RATIO = (1.0, 1.0)


@dataclass(frozen=True)
class Draw:
    """One random draw: the operation, its signed magnitude and, for Cutout, the erased box (top, left, h, w) or None."""

    operation: str
    magnitude: float = 0.0
    box: tuple[int, int, int, int] | None = None


def apply_operation(x: torch.Tensor, draw: Draw, mode: str = "nearest") -> torch.Tensor:
    """``x`` [..., C, H, W] transformed by ``draw`` as torchvision does it in the reference code's ``_apply_op``.

    torchvision's ``F.affine(shear=[d, 0])`` maps x to x - tan(d) * y, so its shear is our
    ``-d``; ``F.rotate`` turns counter-clockwise, as :func:`affine` does.
    """
    name, m = draw.operation, draw.magnitude
    if name == "Identity":
        return x
    if name == "ShearX":
        return affine(x, shear=-math.degrees(m), mode=mode)
    if name == "ShearY":
        return affine(x, shear_y=-math.degrees(m), mode=mode)
    if name == "TranslateX":
        return affine(x, translate=(float(int(m)), 0.0), mode=mode)
    if name == "TranslateY":
        return affine(x, translate=(0.0, float(int(m))), mode=mode)
    if name == "Rotate":
        return affine(x, angle=m, mode=mode)
    if name == "Cutout":
        return x if draw.box is None else erase(x, draw.box)
    raise ValueError(f"unknown operation {name!r}; expected one of {list(OPERATIONS)}")


def _check_space(space: Space) -> dict[str, tuple[tuple[float, ...], bool]]:
    if not isinstance(space, Mapping) or not space:
        raise ValueError(f"SpikformerDVSAugment space must be a non-empty mapping operation -> (bins, signed), got {space!r}")
    checked = {}
    for name, entry in space.items():
        if name not in OPERATIONS:
            raise ValueError(f"SpikformerDVSAugment space has operation {name!r}; expected some of {list(OPERATIONS)}")
        ok = isinstance(entry, Sequence) and len(entry) == 2 and isinstance(entry[0], Sequence) and isinstance(entry[1], bool)
        if not ok or not all(is_number(v) for v in entry[0]):
            raise ValueError(f"SpikformerDVSAugment space[{name!r}] must be (a sequence of finite magnitudes, signed: bool), got {entry!r}")
        checked[name] = (tuple(float(v) for v in entry[0]), entry[1])
    return checked


class SpikformerDVSAugment:
    """One operation of ``space`` per call, drawn as the IMP code's ``SpikFormerDVS`` draws it, on every frame alike.

    Defaults reproduce what the released code ran (:data:`SPIKFORMER_DVS_SPACE`); pass
    :data:`IMP_NCALTECH101_CONFIG_SPACE` for the space its config writes.
    """

    def __init__(
        self,
        space: Space = SPIKFORMER_DVS_SPACE,
        cutout_scale: Sequence[float] = CUTOUT_SCALE,
        cutout_ratio: Sequence[float] = CUTOUT_RATIO,
        mode: str = "nearest",
        generator: torch.Generator | None = None,
    ) -> None:
        self.space = _check_space(space)
        if mode not in AFFINE_MODES:
            raise ValueError(f"SpikformerDVSAugment mode must be one of {list(AFFINE_MODES)}, got {mode!r}")
        self.mode = mode
        self.generator = check_generator(generator)
        self.cutout = RandomErasing(p=1.0, scale=cutout_scale, ratio=cutout_ratio, generator=self.generator)

    def draw(self, height: int, width: int) -> Draw:
        """A random operation and magnitude (and box, for Cutout) for an image of ``height`` x ``width``."""
        g = self.generator
        names = list(self.space)
        name = names[random_int(0, len(names) - 1, g)]
        bins, signed = self.space[name]
        magnitude = bins[random_int(0, len(bins) - 1, g)] if bins else 0.0
        if signed and random_int(0, 1, g):
            magnitude = -magnitude
        box = self.cutout.box(height, width) if name == "Cutout" else None
        return Draw(name, magnitude, box)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, "SpikformerDVSAugment", floating=True)
        return apply_operation(x, self.draw(*x.shape[-2:]), self.mode)

    def __repr__(self) -> str:
        return f"SpikformerDVSAugment(operations={list(self.space)}, cutout={self.cutout!r}, mode={self.mode!r})"
