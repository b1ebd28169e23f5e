"""Sweeps: one file names a grid of runs (bases x grid x variants x seeds) that train, resume and report as one.

``sweep_file`` reads and checks the file, ``expand`` makes its runs and their names,
``configs`` validates every run's config, ``sweep`` ties them to a folder and ``state``
reads each run's state there; ``local`` and ``slurm`` train the runs, ``commands`` is the
``spikedyn sweep`` command; ``run`` trains a sweep for it and for ``spikedyn study``. This package sits above ``training``: it trains through
:func:`spikedyn.training.train.train` and its exact-folder option only.
"""

#: How a sweep's runs are trained: worker processes here, or a SLURM job array through submitit.
EXECUTORS = ("local", "slurm")
