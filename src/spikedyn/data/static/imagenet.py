"""ImageNet (ILSVRC-2012, 1000 classes) from an ImageFolder tree: the normalised image fed at every time step.

Files: ``<root>/ImageNet/train/<wnid>/*.JPEG`` and ``<root>/ImageNet/val/<wnid>/*.JPEG`` (the
official validation images sorted into one folder per class). Classes are the train folder's
class folders, sorted (labels 0, 1, ... in that order). Split "test" is the official validation
set (what papers report); "train" and "val" divide the official training set per class
(:func:`split_indices`). Images are decoded with Pillow; the transforms follow torchvision's
ImageNet recipe with Pillow and torch alone.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from spikedyn.data.augment import Normalize, check_generator, random_int, random_uniform
from spikedyn.data.base import DatasetInfo, FrameDataset
from spikedyn.data.options import check_bool, check_fraction, check_path, check_sample_size, check_side, check_time_steps
from spikedyn.data.registry import DATASETS
from spikedyn.data.splits import check_split, check_split_seed, split_indices

#: Where the images live under ``root``.
FOLDER = "ImageNet"
#: Per-channel mean and std of the ImageNet training images on the [0, 1] scale (torchvision's).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: Files a class folder may hold that are read as images (lower case; others are ignored).
IMAGE_EXTENSIONS = (".jpeg", ".jpg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
#: Default share of each class of the official training set held out as split "val".
VAL_FRACTION = 0.01

_HOW_TO_GET = (
    "ImageNet cannot be downloaded automatically: it needs an account at https://image-net.org. "
    "Download ILSVRC2012_img_train.tar and ILSVRC2012_img_val.tar, extract the training images into "
    "{root}/ImageNet/train/<wnid>/*.JPEG (one folder per class, e.g. n01440764) and sort the validation "
    "images into {root}/ImageNet/val/<wnid>/*.JPEG with the devkit's ground truth (e.g. the widely used valprep.sh)"
)


def _missing(folder: Path, root: Path, what: str) -> FileNotFoundError:
    return FileNotFoundError(f"ImageNet: {what} ({folder}). " + _HOW_TO_GET.format(root=root))


def class_folders(folder: Path, root: Path) -> list[str]:
    """The sorted names of the class folders (wnids) in ``folder``; hidden folders are skipped."""
    if not folder.is_dir():
        raise _missing(folder, root, "folder not found")
    with os.scandir(folder) as entries:
        names = sorted(entry.name for entry in entries if entry.is_dir() and not entry.name.startswith("."))
    if not names:
        raise _missing(folder, root, "no class folders (<wnid>/) found, images must be sorted into one folder per class")
    return names


def list_images(folder: Path, classes: Sequence[str], root: Path) -> tuple[np.ndarray, np.ndarray]:
    """(file names as bytes [N], labels int64 [N]) of the images in ``folder/<class>/``, sorted; no image is opened.

    Names are a fixed-width numpy bytes array, so DataLoader workers share them without
    copying (a list of 1.28M Python strings would be copied into each worker as it is read).
    """
    names: list[bytes] = []
    counts: list[int] = []
    for wnid in classes:
        with os.scandir(folder / wnid) as entries:
            found = sorted(entry.name for entry in entries if entry.name.lower().endswith(IMAGE_EXTENSIONS) and entry.is_file())
        if not found:
            raise _missing(folder / wnid, root, f"class folder {wnid!r} holds no images ({', '.join(IMAGE_EXTENSIONS)})")
        names.extend(os.fsencode(name) for name in found)
        counts.append(len(found))
    labels = np.repeat(np.arange(len(classes), dtype=np.int64), counts)
    return np.array(names, dtype=np.bytes_), labels


# (folder, classes, each class folder's mtime) -> (names, labels): train and val list the same folder once
_LISTINGS: dict[tuple[object, ...], tuple[np.ndarray, np.ndarray]] = {}


def _cached_listing(folder: Path, classes: Sequence[str], root: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        stamp = tuple(os.stat(folder / wnid).st_mtime_ns for wnid in classes)
    except FileNotFoundError as error:
        raise _missing(Path(error.filename), root, "class folder vanished while listing") from None
    key = (str(folder.resolve()), tuple(classes), stamp)
    if key not in _LISTINGS:
        _LISTINGS[key] = list_images(folder, classes, root)
    return _LISTINGS[key]


def decode_image(path: str | os.PathLike[str]) -> Image.Image:
    """The image at ``path`` as RGB (greyscale and CMYK converted); ValueError naming the file if it cannot be decoded."""
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except FileNotFoundError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise ValueError(f"ImageNet: cannot decode image {os.fspath(path)} ({type(error).__name__}: {error}); the file is corrupt or truncated, replace it") from None


class RandomResizedCrop:
    """A random box of the image (area ``scale`` of it, aspect ``ratio``) resized to ``size`` x ``size`` (bilinear).

    torchvision's RandomResizedCrop: 10 tries at a box of area U(scale) * W * H and aspect
    exp(U(log ratio)), inside the image; failing that, the centre box with the aspect clamped to
    ``ratio``. Acts on a Pillow image and returns one.
    """

    def __init__(
        self,
        size: int,
        scale: tuple[float, float] = (0.08, 1.0),
        ratio: tuple[float, float] = (3 / 4, 4 / 3),
        generator: torch.Generator | None = None,
    ) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"RandomResizedCrop size must be a positive int, got {size!r}")
        for name, pair in (("scale", scale), ("ratio", ratio)):
            if len(pair) != 2 or not all(math.isfinite(v) and v > 0 for v in pair) or pair[0] > pair[1]:
                raise ValueError(f"RandomResizedCrop {name} must be (low, high) with 0 < low <= high, got {pair!r}")
        self.size = size
        self.scale = (float(scale[0]), float(scale[1]))
        self.ratio = (float(ratio[0]), float(ratio[1]))
        self.generator = check_generator(generator)

    def box(self, width: int, height: int) -> tuple[int, int, int, int]:
        """A random (left, top, box width, box height) inside a ``width`` x ``height`` image."""
        g, area = self.generator, width * height
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            target = area * random_uniform(*self.scale, g)
            aspect = math.exp(random_uniform(*log_ratio, g))
            w, h = round(math.sqrt(target * aspect)), round(math.sqrt(target / aspect))
            if 0 < w <= width and 0 < h <= height:
                return random_int(0, width - w, g), random_int(0, height - h, g), w, h
        w, h = width, height
        if width / height < self.ratio[0]:
            h = round(width / self.ratio[0])
        elif width / height > self.ratio[1]:
            w = round(height * self.ratio[1])
        return (width - w) // 2, (height - h) // 2, w, h

    def __call__(self, image: Image.Image) -> Image.Image:
        left, top, w, h = self.box(*image.size)
        return image.resize((self.size, self.size), Image.Resampling.BILINEAR, box=(left, top, left + w, top + h))

    def __repr__(self) -> str:
        return f"RandomResizedCrop(size={self.size}, scale={self.scale}, ratio={self.ratio})"


def eval_resize(crop: int) -> int:
    """The shorter side the evaluation transform resizes to before its centre crop: 256 for a 224 crop."""
    return round(crop * 256 / 224)


class ResizeCenterCrop:
    """The image resized (bilinear) so its shorter side is ``resize``, then its centre ``size`` x ``size``.

    torchvision's Resize(resize) + CenterCrop(size): the longer side becomes
    int(resize * long / short); the crop starts at round((side - size) / 2).
    """

    def __init__(self, size: int, resize: int | None = None) -> None:
        resize = eval_resize(size) if resize is None else resize
        if isinstance(size, bool) or not isinstance(size, int) or size < 1 or not isinstance(resize, int) or resize < size:
            raise ValueError(f"ResizeCenterCrop needs positive ints with resize >= size, got size={size!r}, resize={resize!r}")
        self.size = size
        self.resize = resize

    def __call__(self, image: Image.Image) -> Image.Image:
        width, height = image.size
        if width <= height:
            new = (self.resize, int(self.resize * height / width))
        else:
            new = (int(self.resize * width / height), self.resize)
        if new != image.size:
            image = image.resize(new, Image.Resampling.BILINEAR)
        left, top = round((new[0] - self.size) / 2), round((new[1] - self.size) / 2)
        return image.crop((left, top, left + self.size, top + self.size))

    def __repr__(self) -> str:
        return f"ResizeCenterCrop(size={self.size}, resize={self.resize})"


def to_tensor(image: Image.Image) -> torch.Tensor:
    """An RGB Pillow image as float32 [3, H, W] in [0, 1]."""
    return torch.from_numpy(np.array(image, dtype=np.uint8)).permute(2, 0, 1).float().div_(255)


class ImageFolderDataset(FrameDataset):
    """Images of ``folder/<class>/<name>`` fed directly to a spiking network: frames [T, 3, crop, crop].

    Each sample is decoded, cropped by ``crop_image`` (a Pillow image to a Pillow image of
    ``crop`` x ``crop``), flipped left-right with probability 1/2 if ``flip``, normalised with
    the ImageNet mean and std, and broadcast over ``info.time_steps`` steps as a view (no copy).
    Random draws use torch's global generator (DataLoader seeds each worker differently) unless
    a ``generator`` is given. ``indices`` locate the samples in the folder's sorted listing.
    """

    def __init__(
        self,
        info: DatasetInfo,
        folder: str | os.PathLike[str],
        names: np.ndarray,
        labels: np.ndarray,
        crop_image: RandomResizedCrop | ResizeCenterCrop,
        flip: bool = False,
        indices: np.ndarray | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        if len(names) != len(labels):
            raise ValueError(f"{info.name}: {len(names)} file names but {len(labels)} labels")
        super().__init__(info, labels, None)
        self.folder = os.fspath(folder)
        self.names = np.asarray(names, dtype=np.bytes_)
        self.crop_image = crop_image
        self.flip = flip
        self.normalize = Normalize(IMAGENET_MEAN, IMAGENET_STD)
        self.indices = np.arange(len(names)) if indices is None else np.asarray(indices, dtype=np.int64)
        self.generator = check_generator(generator)

    def path(self, index: int) -> str:
        """The file of sample ``index``."""
        return os.path.join(self.folder, self.info.classes[self.labels[index]], os.fsdecode(self.names[index]))

    def image(self, index: int) -> torch.Tensor:
        """Image ``index`` [3, crop, crop] float32: cropped (at random if training), maybe flipped, normalised."""
        image = to_tensor(self.crop_image(decode_image(self.path(index))))
        if self.flip and torch.rand((), generator=self.generator).item() < 0.5:
            image = torch.flip(image, dims=(-1,))
        return self.normalize(image)

    def frames(self, index: int) -> torch.Tensor:
        """The image broadcast over T steps (a view, not a copy): transforms must not modify it in place."""
        image = self.image(index)
        return image.unsqueeze(0).expand(self.info.time_steps, *image.shape)


def _check_options(root: object, time_steps: int, crop: int, augment: bool, val_fraction: float, split_seed: int | None) -> None:
    check_path("root", root)
    check_time_steps(time_steps)
    check_side("crop", crop)
    check_sample_size({"time_steps": time_steps, "crop": crop}, time_steps, (3, crop, crop))
    check_bool("augment", augment)
    check_fraction("val_fraction", val_fraction)
    check_split_seed(split_seed)


def build_imagenet(
    split: str,
    root: str | os.PathLike[str] = "data",
    time_steps: int = 4,
    crop: int = 224,
    augment: bool = True,
    val_fraction: float = VAL_FRACTION,
    split_seed: int | None = 0,
) -> ImageFolderDataset:
    """The ``split`` of ImageNet under ``<root>/ImageNet/`` as frames [time_steps, 3, crop, crop].

    Train (with ``augment``): RandomResizedCrop(crop, scale (0.08, 1), ratio (3/4, 4/3)) and a
    horizontal flip; otherwise (val, test, or no augment): shorter side resized to
    crop * 256 / 224, centre crop. ``val_fraction`` defaults to 1% of each class, not the
    library's 15%: about 12,800 images are plenty to pick an epoch, and the train split stays
    nearly the whole official set that ImageNet results are trained on (0 keeps it all). "val" is
    drawn from ``split_seed``, or with ``split_seed=None`` it is the last images of each class in
    sorted file order (the PLIF authors' ordered split, :func:`~spikedyn.data.splits.stratified_holdout`).
    """
    check_split(split)
    _check_options(root, time_steps, crop, augment, val_fraction, split_seed)
    root = Path(root)
    base = root / FOLDER
    if not base.is_dir():
        raise _missing(base, root, "folder not found")
    train_folder = base / "train"
    classes = class_folders(train_folder, root)  # the labels are the train folder's, for every split
    if split == "test":
        folder = base / "val"
        val_classes = set(class_folders(folder, root))
        unknown = sorted(val_classes - set(classes))
        if unknown:
            raise ValueError(f"ImageNet: {folder} has class folders that {train_folder} lacks: {', '.join(unknown[:5])}; both must hold the same wnids")
        present = [wnid for wnid in classes if wnid in val_classes]
        names, local = _cached_listing(folder, present, root)
        label_of = {wnid: label for label, wnid in enumerate(classes)}
        labels = np.asarray([label_of[wnid] for wnid in present], dtype=np.int64)[local]
        indices = np.arange(len(labels))
    else:
        folder = train_folder
        all_names, all_labels = _cached_listing(folder, classes, root)
        indices = split_indices(split, all_labels, float(val_fraction), None if split_seed is None else int(split_seed))
        names, labels = all_names[indices], all_labels[indices]
    info = DatasetInfo("imagenet", num_classes=len(classes), frame_shape=(3, int(crop), int(crop)), time_steps=int(time_steps), classes=tuple(classes))
    training = augment and split == "train"
    crop_image = RandomResizedCrop(int(crop)) if training else ResizeCenterCrop(int(crop))
    return ImageFolderDataset(info, folder, names, labels, crop_image, flip=training, indices=indices)


DATASETS.register_variant(
    "imagenet",
    build_imagenet,
    "ImageNet ILSVRC-2012 (1000 classes, 3xcropxcrop), from ``<root>/ImageNet/{train,val}/<wnid>/``; "
    "train random-resized-cropped and flipped, eval resized and centre-cropped; 'test' is the official val set.",
    root="data",
    time_steps=4,
    crop=224,
    augment=True,
    val_fraction=VAL_FRACTION,
    split_seed=0,
)
