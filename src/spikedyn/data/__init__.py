"""Datasets by name, each yielding (frames [T, C, H, W] float32, label int): static images,
the offline digits, and neuromorphic event streams integrated into frames (Eq. S1), cached.

Layout: the shared parts here, one subpackage per kind of data; ``static/`` and ``events/``
import the shared modules, never the other way round (only this ``__init__`` imports the
subpackages, to register their datasets), and ``events/`` may use ``static/`` (the simulated
event camera records the static digits)::

    base.py            FrameDataset and DatasetInfo: the contract of every dataset
    options.py         dataset options checked by name and type
    splits.py          train / val / test splits, stratified hold-outs
    registry.py        datasets by name (built in, import paths, entry points)
    plugin_dataset.py  a user's dataset behind the same contract
    cache.py           frames cached on disk, keyed by their parameters
    download.py        downloads that land whole and verified or not at all
    augment.py         image and frame augmentations in torch alone
    batches.py         time-first batches for a training loop of your own
    static/            images repeated over T steps: digits, MNIST, Fashion-MNIST, CIFAR-10, ImageNet
    events/            event streams: file readers (N-MNIST, AEDAT4, ...), frames (Eq. S1),
                       the neuromorphic datasets, the simulated event camera

Modules that lived flat here before (``static_files``, ``event_camera``, ``frames``, ...) still
import from their old paths with a DeprecationWarning (:data:`spikedyn._moved.MOVED`).
"""

from spikedyn import _moved

_moved.install()

from spikedyn.data.static import digits as _digits  # noqa: E402, F401, I001  (the imports of these five register the datasets, in this order)
from spikedyn.data.events import digits as _event_digits  # noqa: E402, F401
from spikedyn.data.static import imagenet as _imagenet  # noqa: E402, F401
from spikedyn.data.events import neuromorphic as _neuromorphic  # noqa: E402, F401
from spikedyn.data.static import images as _images  # noqa: E402, F401
from spikedyn.data.base import DatasetInfo, FrameDataset  # noqa: E402
from spikedyn.data.cache import FrameCache  # noqa: E402
from spikedyn.data.events.errors import EventFileError  # noqa: E402
from spikedyn.data.events.frames import events_to_frames  # noqa: E402
from spikedyn.data.options import OptionError  # noqa: E402
from spikedyn.data.registry import build_dataset, dataset_defaults, dataset_options, list_datasets  # noqa: E402
from spikedyn.data.splits import SPLITS  # noqa: E402

__all__ = [
    "SPLITS",
    "DatasetInfo",
    "EventFileError",
    "FrameCache",
    "FrameDataset",
    "OptionError",
    "build_dataset",
    "dataset_defaults",
    "dataset_options",
    "events_to_frames",
    "list_datasets",
]


def __getattr__(name: str) -> object:
    return _moved.package_attribute(__name__, name)
