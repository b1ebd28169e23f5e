"""The Lightning DataModule around the data registry: splits, loaders and distributed sampling."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from spikedyn.data import FrameDataset, build_dataset
from spikedyn.data.base import DatasetInfo
from spikedyn.training.protocols import dataset_options
from spikedyn.training.config.schema import DataConfig


class ShardSampler(Sampler[int]):
    """Every ``world_size``-th index from ``rank``, in order, without padding.

    Evaluation must see every sample exactly once, so that accuracies summed over the
    processes are accuracies over the whole split; DistributedSampler pads by repeating.
    """

    def __init__(self, length: int, rank: int, world_size: int) -> None:
        self.indices = list(range(rank, length, world_size))

    def __iter__(self):
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


class EpochShuffleSampler(Sampler[int]):
    """This process's share of a permutation that depends on (seed, epoch) alone.

    Neither the permutation nor the DataLoader workers' seeds (``worker_generator``) come
    from the global random state, so a run resumed at epoch e reads the same batches as one
    that never stopped. Lightning calls :meth:`set_epoch` before each training epoch. With
    several processes the permutation is padded to a multiple of their number, as
    DistributedSampler does, so that every process takes the same number of steps.
    """

    def __init__(self, length: int, seed: int, rank: int = 0, world_size: int = 1) -> None:
        self.length, self.seed, self.rank, self.world_size = length, seed, rank, world_size
        self.worker_generator = torch.Generator()
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        """Choose the permutation (and the workers' seeds) of ``epoch``."""
        self.epoch = epoch
        self.worker_generator.manual_seed(self._seed(1))

    def _seed(self, stream: int) -> int:
        return (self.seed * 2_654_435_761 + self.epoch * 40_503 + stream) % (2**63)

    def __iter__(self):
        order = torch.randperm(self.length, generator=torch.Generator().manual_seed(self._seed(0))).tolist()
        padded = -(-self.length // self.world_size) * self.world_size
        while len(order) < padded:
            order += order[: padded - len(order)]
        return iter(order[self.rank :: self.world_size])

    def __len__(self) -> int:
        return -(-self.length // self.world_size)


class _DeferredIterator:
    """An iterator made on the first ``next``, not on ``iter``."""

    def __init__(self, make: Callable[[], Iterator]) -> None:
        self._make, self._iterator = make, None

    def __iter__(self) -> _DeferredIterator:
        return self

    def __next__(self):
        if self._iterator is None:
            self._iterator = self._make()
        return next(self._iterator)


class EpochLoader(DataLoader):
    """A DataLoader whose iterator starts its workers and draws its indices on the first batch.

    A loader with workers draws their seeds and its first indices as soon as its iterator is
    made, and Lightning makes a resumed run's first iterator before it calls ``set_epoch``:
    deferring to the first batch lets that epoch's (seed, epoch) decide, as in a run that
    never stopped.
    """

    def __iter__(self):
        if self.num_workers == 0:
            return super().__iter__()
        return _DeferredIterator(super().__iter__)


class SpikeDataModule(pl.LightningDataModule):
    """The splits of one registered dataset that a protocol trains on and evaluates.

    Protocol A trains on the whole official training set (``val_fraction=0``) and evaluates the
    test split; protocol B trains on 85% per class and evaluates the validation split (and the
    test split unless ``data.test`` is false).
    """

    def __init__(self, config: DataConfig, seed: int, protocol: str = "B") -> None:
        super().__init__()
        self.config = config
        self.seed = seed
        self.protocol = protocol
        self.splits: dict[str, FrameDataset] = {}

    def dataset(self, split: str) -> FrameDataset:
        """The dataset of ``split``, built on first use."""
        if split not in self.splits:
            self.splits[split] = build_dataset(self.config.dataset, split, **dataset_options(self.config.options, self.protocol))
        return self.splits[split]

    @property
    def info(self) -> DatasetInfo:
        """Classes, frame shape and T of the dataset (from its training split)."""
        return self.dataset("train").info

    @property
    def eval_splits(self) -> list[str]:
        """The splits evaluated every epoch, in dataloader order."""
        if self.protocol == "A":
            return ["test"]
        return ["val", "test"] if self.config.test else ["val"]

    def split_sizes(self) -> dict[str, int]:
        """Samples in each split this run uses (0 for one it does not: val under protocol A)."""
        used = ["train", *self.eval_splits]
        return {split: len(self.dataset(split)) if split in used else 0 for split in ("train", "val", "test")}

    def setup(self, stage: str | None = None) -> None:
        for split in ["train", *self.eval_splits]:
            self.dataset(split)

    def _distributed(self) -> tuple[int, int] | None:
        if self.trainer is None or self.trainer.world_size <= 1:
            return None
        for split, dataset in self.splits.items():
            if len(dataset) < self.trainer.world_size:
                raise ValueError(f"the {split} split has {len(dataset)} samples, fewer than the {self.trainer.world_size} processes")
        return self.trainer.global_rank, self.trainer.world_size

    def _loader(self, dataset: Dataset, batch_size: int, sampler: Sampler | None, persistent: bool = True) -> DataLoader:
        workers = self.config.num_workers
        return EpochLoader(
            dataset,
            batch_size=batch_size,
            sampler=sampler,
            generator=getattr(sampler, "worker_generator", None),
            num_workers=workers,
            persistent_workers=persistent and workers > 0,
            pin_memory=torch.cuda.is_available(),
        )

    def train_dataloader(self) -> DataLoader:
        dataset = self.dataset("train")
        rank, world_size = self._distributed() or (0, 1)
        sampler = EpochShuffleSampler(len(dataset), self.seed, rank, world_size)
        # workers start afresh every epoch, seeded from (seed, epoch): a resumed run draws the same augmentation
        return self._loader(dataset, self.config.batch_size, sampler, persistent=False)

    def val_dataloader(self) -> list[DataLoader]:
        batch = self.config.eval_batch_size or self.config.batch_size
        shard = self._distributed()
        loaders = []
        for split in self.eval_splits:
            dataset = self.dataset(split)
            sampler = ShardSampler(len(dataset), *shard) if shard is not None else None
            loaders.append(self._loader(dataset, batch, sampler))
        return loaders
