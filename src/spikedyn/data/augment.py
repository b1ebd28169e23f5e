"""Augmentations in torch alone for an image [C, H, W] or frames [T, C, H, W]: one random draw for all steps.

Every transform acts on a tensor [..., C, H, W]; the leading dimensions (time steps) share the
random parameters of the call, so a sequence of frames moves as one. Each random transform takes
an optional ``generator`` (a ``torch.Generator``) for reproducible draws; without one it uses
torch's global generator, which DataLoader seeds differently in each worker.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

Transform = Callable[[torch.Tensor], torch.Tensor]

#: Resampling of :func:`affine`: "bilinear" for images, "nearest" for event frames (counts stay counts).
AFFINE_MODES = ("bilinear", "nearest")
#: Modes of :class:`Resize` (those of ``torch.nn.functional.interpolate`` for images).
RESIZE_MODES = ("nearest", "nearest-exact", "bilinear", "bicubic", "area")
#: The operations :class:`NeuromorphicAugment` picks from.
NDA_OPERATIONS = ("roll", "rotate", "shear")


def check_images(x: torch.Tensor, who: str, floating: bool = False) -> None:
    """Raise a ValueError naming ``who`` unless ``x`` is a tensor [..., C, H, W] (floating point if ``floating``)."""
    if not isinstance(x, torch.Tensor) or x.dim() < 3:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{who} expects a tensor [..., C, H, W] (an image [C, H, W] or frames [T, C, H, W]), got {shape}")
    if floating and not x.is_floating_point():
        raise ValueError(f"{who} resamples, so it needs a floating-point tensor, got {x.dtype}; convert it with .float() first")


def is_number(value: object) -> bool:
    """Whether ``value`` is a finite real number (and not a bool)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _size(size: int | Sequence[int], name: str) -> tuple[int, int]:
    pair = (size, size) if isinstance(size, int) and not isinstance(size, bool) else size
    if (
        not isinstance(pair, Sequence)
        or len(pair) != 2
        or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in pair)
    ):
        raise ValueError(f"{name} must be a positive int or a pair (height, width) of them, got {size!r}")
    return int(pair[0]), int(pair[1])


def _symmetric_range(value: float | Sequence[float], name: str, limit: float = math.inf) -> tuple[float, float]:
    """A number d >= 0 means (-d, d); a pair (low, high) is taken as it is; both within (-limit, limit)."""
    pair = (-value, value) if is_number(value) and value >= 0 else value
    if (
        not isinstance(pair, Sequence)
        or len(pair) != 2
        or not all(is_number(v) for v in pair)
        or not -limit < pair[0] <= pair[1] < limit
    ):
        raise ValueError(f"{name} must be a number >= 0 or a pair (low, high) with low <= high, inside (-{limit}, {limit}); got {value!r}")
    return float(pair[0]), float(pair[1])


def check_generator(generator: torch.Generator | None) -> torch.Generator | None:
    """``generator`` if it is a torch.Generator or None, else a TypeError."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    return generator


def random_uniform(low: float, high: float, generator: torch.Generator | None) -> float:
    """A random float in [low, high) from ``generator`` (or torch's global one)."""
    return low + (high - low) * torch.rand((), dtype=torch.float64, generator=generator).item()


def random_int(low: int, high: int, generator: torch.Generator | None) -> int:
    """A random integer in [low, high], both included."""
    return int(torch.randint(low, high + 1, (), generator=generator).item())


def affine(
    x: torch.Tensor,
    angle: float = 0.0,
    translate: tuple[float, float] = (0.0, 0.0),
    scale: float = 1.0,
    shear: float = 0.0,
    mode: str = "bilinear",
    shear_y: float = 0.0,
) -> torch.Tensor:
    """``x`` [..., C, H, W] sheared, scaled, turned and shifted about its centre; what comes in from outside is zero.

    A point (x right, y down, from the image centre) goes to
    ``scale * R(angle) @ [[1, 0], [tan(shear_y), 1]] @ [[1, tan(shear)], [0, 1]]`` applied to it plus
    ``translate`` = (dx, dy) pixels (torchvision's order of the factors): ``angle`` in degrees
    counter-clockwise as displayed, ``shear`` in degrees along x, ``shear_y`` along y. Pixels are
    resampled with ``mode`` (see :data:`AFFINE_MODES`).
    """
    check_images(x, "affine", floating=True)
    if mode not in AFFINE_MODES:
        raise ValueError(f"mode must be one of {list(AFFINE_MODES)}, got {mode!r}")
    numbers_ok = all(is_number(v) for v in (angle, scale, shear, shear_y, *translate))
    if not numbers_ok or scale <= 0 or abs(shear) >= 90 or abs(shear_y) >= 90:
        raise ValueError(
            f"affine needs finite angle, translate, shear and shear_y in (-90, 90) and scale > 0; "
            f"got angle={angle!r}, translate={translate!r}, scale={scale!r}, shear={shear!r}, shear_y={shear_y!r}"
        )
    *lead, channels, height, width = x.shape
    a, s, sy = math.radians(angle), math.radians(shear), math.radians(shear_y)
    rotation = torch.tensor([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]], dtype=torch.float64)
    shearing_y = torch.tensor([[1.0, 0.0], [math.tan(sy), 1.0]], dtype=torch.float64)
    shearing = shearing_y @ torch.tensor([[1.0, math.tan(s)], [0.0, 1.0]], dtype=torch.float64)
    inverse = torch.linalg.inv(scale * rotation @ shearing)
    # affine_grid maps output to input positions in [-1, 1] coordinates (x = W/2, y = H/2 at the border).
    half = torch.tensor([width / 2, height / 2], dtype=torch.float64)
    theta = torch.empty(2, 3, dtype=torch.float64)
    theta[:, :2] = inverse * half / half[:, None]
    theta[:, 2] = -(inverse @ torch.tensor(translate, dtype=torch.float64)) / half
    grid = F.affine_grid(theta.to(x.dtype)[None], [1, channels, height, width], align_corners=False).to(x.device)
    flat = x.reshape(-1, channels, height, width)
    out = F.grid_sample(flat, grid.expand(flat.shape[0], -1, -1, -1), mode=mode, padding_mode="zeros", align_corners=False)
    return out.reshape(*lead, channels, height, width)


class RandomCrop:
    """A random ``size`` window of the image zero-padded by ``padding`` pixels on each side (CIFAR-10: 32, 4)."""

    def __init__(self, size: int | Sequence[int], padding: int = 0, generator: torch.Generator | None = None) -> None:
        self.size = _size(size, "RandomCrop size")
        if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
            raise ValueError(f"RandomCrop padding must be an int >= 0, got {padding!r}")
        self.padding = padding
        self.generator = check_generator(generator)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, "RandomCrop")
        if self.padding:
            x = F.pad(x, (self.padding,) * 4)
        (height, width), (h, w) = x.shape[-2:], self.size
        if h > height or w > width:
            raise ValueError(f"RandomCrop of size {self.size} does not fit in an image of {height}x{width} (padding {self.padding} included)")
        top, left = random_int(0, height - h, self.generator), random_int(0, width - w, self.generator)
        return x[..., top : top + h, left : left + w]

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """The image mirrored left-right with probability ``p``."""

    def __init__(self, p: float = 0.5, generator: torch.Generator | None = None) -> None:
        if not is_number(p) or not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)
        self.generator = check_generator(generator)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, "RandomHorizontalFlip")
        if torch.rand((), generator=self.generator).item() < self.p:
            return torch.flip(x, dims=(-1,))
        return x

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


class RandomAffine:
    """:func:`affine` with random parameters: angle in ``degrees``, shift up to ``translate`` of the size, ``scale``, x-``shear``.

    ``degrees`` and ``shear`` are a number d (meaning (-d, d)) or a range (low, high) in degrees;
    ``translate`` = (a, b): horizontal shift up to a * W, vertical up to b * H, rounded to whole
    pixels (as torchvision does); ``scale`` = (low, high).
    """

    def __init__(
        self,
        degrees: float | Sequence[float],
        translate: Sequence[float] = (0.0, 0.0),
        scale: Sequence[float] = (1.0, 1.0),
        shear: float | Sequence[float] = 0.0,
        mode: str = "bilinear",
        generator: torch.Generator | None = None,
    ) -> None:
        self.degrees = _symmetric_range(degrees, "RandomAffine degrees")
        if not isinstance(translate, Sequence) or len(translate) != 2 or not all(is_number(t) and 0 <= t <= 1 for t in translate):
            raise ValueError(f"RandomAffine translate must be a pair of fractions in [0, 1], got {translate!r}")
        self.translate = (float(translate[0]), float(translate[1]))
        if not isinstance(scale, Sequence) or len(scale) != 2 or not all(is_number(s) for s in scale) or not 0 < scale[0] <= scale[1]:
            raise ValueError(f"RandomAffine scale must be a pair (low, high) with 0 < low <= high, got {scale!r}")
        self.scale = (float(scale[0]), float(scale[1]))
        self.shear = _symmetric_range(shear, "RandomAffine shear", limit=90.0)
        if mode not in AFFINE_MODES:
            raise ValueError(f"RandomAffine mode must be one of {list(AFFINE_MODES)}, got {mode!r}")
        self.mode = mode
        self.generator = check_generator(generator)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, "RandomAffine", floating=True)
        height, width = x.shape[-2:]
        g = self.generator
        angle = random_uniform(*self.degrees, g)
        max_dx, max_dy = self.translate[0] * width, self.translate[1] * height
        shift = (float(round(random_uniform(-max_dx, max_dx, g))), float(round(random_uniform(-max_dy, max_dy, g))))
        return affine(x, angle, shift, random_uniform(*self.scale, g), random_uniform(*self.shear, g), self.mode)

    def __repr__(self) -> str:
        return f"RandomAffine(degrees={self.degrees}, translate={self.translate}, scale={self.scale}, shear={self.shear}, mode={self.mode!r})"


def erase(x: torch.Tensor, box: tuple[int, int, int, int], value: float = 0.0) -> torch.Tensor:
    """A copy of ``x`` [..., C, H, W] with the box (top, left, height, width) set to ``value`` in every channel and step."""
    check_images(x, "erase")
    top, left, height, width = box
    out = x.clone()
    out[..., top : top + height, left : left + width] = value
    return out


class RandomErasing:
    """With probability ``p``, a random box of the image set to ``value``: torchvision's RandomErasing (Cutout).

    The box: up to 10 tries at an area of U(``scale``) * H * W and an aspect (height / width) of
    exp(U(log ``ratio``)), rounded to whole pixels, that fits strictly inside the image; if none
    fits, the image is left as it is. All steps of a sequence lose the same box.
    """

    def __init__(
        self,
        p: float = 0.5,
        scale: Sequence[float] = (0.02, 0.33),
        ratio: Sequence[float] = (0.3, 3.3),
        value: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> None:
        if not is_number(p) or not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomErasing p must be a probability in [0, 1], got {p!r}")
        for name, pair in (("scale", scale), ("ratio", ratio)):
            if not isinstance(pair, Sequence) or len(pair) != 2 or not all(is_number(v) and v > 0 for v in pair) or pair[0] > pair[1]:
                raise ValueError(f"RandomErasing {name} must be a pair (low, high) with 0 < low <= high, got {pair!r}")
        if not is_number(value):
            raise ValueError(f"RandomErasing value must be a finite number, got {value!r}")
        self.p = float(p)
        self.scale = (float(scale[0]), float(scale[1]))
        self.ratio = (float(ratio[0]), float(ratio[1]))
        self.value = float(value)
        self.generator = check_generator(generator)

    def box(self, height: int, width: int) -> tuple[int, int, int, int] | None:
        """A random (top, left, box height, box width) inside a ``height`` x ``width`` image, or None if no try fits."""
        g = self.generator
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            area = height * width * random_uniform(*self.scale, g)
            aspect = math.exp(random_uniform(*log_ratio, g))
            h, w = round(math.sqrt(area * aspect)), round(math.sqrt(area / aspect))
            if h < height and w < width:
                return random_int(0, height - h, g), random_int(0, width - w, g), h, w
        return None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, "RandomErasing")
        if torch.rand((), generator=self.generator).item() >= self.p:
            return x
        box = self.box(*x.shape[-2:])
        return x if box is None else erase(x, box, self.value)

    def __repr__(self) -> str:
        return f"RandomErasing(p={self.p}, scale={self.scale}, ratio={self.ratio}, value={self.value})"


class Resize:
    """The image resampled to ``size`` (height, width) with ``torch.nn.functional.interpolate``'s ``mode``.

    Bilinear without antialiasing by default: what the IMP code applies to event count frames.
    """

    def __init__(self, size: int | Sequence[int], mode: str = "bilinear", antialias: bool = False) -> None:
        self.size = _size(size, "Resize size")
        if mode not in RESIZE_MODES:
            raise ValueError(f"Resize mode must be one of {list(RESIZE_MODES)}, got {mode!r}")
        if not isinstance(antialias, bool) or (antialias and mode not in ("bilinear", "bicubic")):
            raise ValueError(f"Resize antialias must be a bool, and True only with mode 'bilinear' or 'bicubic'; got antialias={antialias!r}, mode={mode!r}")
        self.mode = mode
        self.antialias = antialias

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, "Resize", floating=not self.mode.startswith("nearest"))
        *lead, channels, height, width = x.shape
        align = False if self.mode in ("bilinear", "bicubic") else None
        out = F.interpolate(x.reshape(-1, channels, height, width), size=self.size, mode=self.mode, align_corners=align, antialias=self.antialias)
        return out.reshape(*lead, channels, *self.size)

    def __repr__(self) -> str:
        return f"Resize(size={self.size}, mode={self.mode!r}, antialias={self.antialias})"


class Normalize:
    """(x - mean[c]) / std[c] for each channel c: zero mean and unit variance per channel on the data they came from."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        if (
            not isinstance(mean, Sequence)
            or not isinstance(std, Sequence)
            or not mean
            or len(mean) != len(std)
            or not all(is_number(m) for m in mean)
            or not all(is_number(s) and s > 0 for s in std)
        ):
            raise ValueError(f"Normalize needs a mean and a std per channel (same length, finite, std > 0), got mean={mean!r}, std={std!r}")
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, "Normalize", floating=True)
        if x.shape[-3] != len(self.mean):
            raise ValueError(f"Normalize has statistics for {len(self.mean)} channels but the input has {x.shape[-3]} (shape {tuple(x.shape)})")
        mean = torch.tensor(self.mean, dtype=x.dtype, device=x.device)[:, None, None]
        std = torch.tensor(self.std, dtype=x.dtype, device=x.device)[:, None, None]
        return (x - mean) / std

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


class Compose:
    """The ``transforms`` applied one after the other."""

    def __init__(self, transforms: Sequence[Transform]) -> None:
        if isinstance(transforms, (str, bytes)) or not isinstance(transforms, Sequence) or not all(callable(t) for t in transforms):
            raise ValueError(f"Compose needs a sequence of callables, got {transforms!r}")
        self.transforms = list(transforms)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        for transform in self.transforms:
            x = transform(x)
        return x

    def __repr__(self) -> str:
        return "Compose([" + ", ".join(repr(t) for t in self.transforms) + "])"


class NeuromorphicAugment:
    """Neuromorphic data augmentation (NDA; Li et al., ECCV 2022) as the TET and IMP papers apply it to event frames.

    Each call picks one of ``operations`` at random (equally likely) and applies it with the same
    parameters to every frame of the sample:

    - "roll": shift by (dy, dx) pixels, each a random integer in [-max_roll, max_roll], wrapping
      around the borders (``torch.roll``);
    - "rotate": turn by a random angle in [-max_degrees, max_degrees] degrees about the centre;
    - "shear": shear along x by a random angle in [-max_shear, max_shear] degrees.

    Rotation and shear fill the uncovered corners with zeros and resample with ``mode``: "nearest"
    by default, as the reference code's torchvision RandomRotation and RandomAffine do on tensors.
    """

    def __init__(
        self,
        max_roll: int = 5,
        max_degrees: float = 15.0,
        max_shear: float = 30.0,
        operations: Sequence[str] = NDA_OPERATIONS,
        mode: str = "nearest",
        generator: torch.Generator | None = None,
    ) -> None:
        if isinstance(max_roll, bool) or not isinstance(max_roll, int) or max_roll < 0:
            raise ValueError(f"NeuromorphicAugment max_roll must be an int >= 0 (pixels), got {max_roll!r}")
        if not is_number(max_degrees) or max_degrees < 0:
            raise ValueError(f"NeuromorphicAugment max_degrees must be a number >= 0, got {max_degrees!r}")
        if not is_number(max_shear) or not 0 <= max_shear < 90:
            raise ValueError(f"NeuromorphicAugment max_shear must be a number in [0, 90) degrees, got {max_shear!r}")
        if isinstance(operations, str) or not operations or any(op not in NDA_OPERATIONS for op in operations):
            raise ValueError(f"NeuromorphicAugment operations must be a non-empty sequence of {list(NDA_OPERATIONS)}, got {operations!r}")
        if mode not in AFFINE_MODES:
            raise ValueError(f"NeuromorphicAugment mode must be one of {list(AFFINE_MODES)}, got {mode!r}")
        self.max_roll = max_roll
        self.max_degrees = float(max_degrees)
        self.max_shear = float(max_shear)
        self.operations = tuple(operations)
        self.mode = mode
        self.generator = check_generator(generator)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, "NeuromorphicAugment")
        g = self.generator
        operation = self.operations[random_int(0, len(self.operations) - 1, g)]
        if operation == "roll":
            shifts = (random_int(-self.max_roll, self.max_roll, g), random_int(-self.max_roll, self.max_roll, g))
            return torch.roll(x, shifts=shifts, dims=(-2, -1))
        if operation == "rotate":
            return affine(x, angle=random_uniform(-self.max_degrees, self.max_degrees, g), mode=self.mode)
        return affine(x, shear=random_uniform(-self.max_shear, self.max_shear, g), mode=self.mode)

    def __repr__(self) -> str:
        return (
            f"NeuromorphicAugment(max_roll={self.max_roll}, max_degrees={self.max_degrees}, max_shear={self.max_shear}, "
            f"operations={self.operations}, mode={self.mode!r})"
        )
