"""Static images as frame datasets: one image fed at every one of the T time steps.

    digits.py    "digits": scikit-learn's 1,797 real 8x8 handwritten digits (no download)
    images.py    MNIST, Fashion-MNIST and CIFAR-10, normalised
    files.py     their official files: where they live, how they are read and fetched
    augment.py   their train-split augmentation (the PLIF code's, the paper's, or none)
    imagenet.py  ImageNet from an ImageFolder tree

They use the shared modules of :mod:`spikedyn.data` (base, options, splits, registry, download,
augment) and nothing of ``events/``. This package exports the names of :mod:`.images` (the
module ``spikedyn.data.static`` was before it became a package).
"""

from spikedyn.data.static.images import COMMON, StaticImageDataset, channel_statistics, load_static

__all__ = ["COMMON", "StaticImageDataset", "channel_statistics", "load_static"]
