"""Event streams as frame datasets: readers of event files, frames by Eq. S1, the neuromorphic datasets.

    errors.py             EventFileError: an event file that cannot be read, named
    aedat4_decode.py      the AEDAT4 decoder, run in a child process with capped memory
    aedat4.py             AEDAT4 files (CIFAR10-DVS): scanned, then decoded in that child
    sources.py            the event files of each dataset and their readers
    frames.py             events to frames: equal event counts (Eq. S1) or equal durations
    dataset.py            an event dataset: files to cached frames
    spikformer_augment.py the IMP code's N-Caltech101 frame augmentation
    neuromorphic.py       N-MNIST, CIFAR10-DVS, DVS128 Gesture, N-Caltech101 by name
    nmnist_format.py      events written as N-MNIST .bin files
    camera.py             a simulated event camera (N-MNIST's saccades over a grey image)
    digits.py             "event_digits": scikit-learn's digits through that camera

They use the shared modules of :mod:`spikedyn.data` (base, options, splits, registry, cache,
download, augment); ``digits.py`` takes its images from :mod:`spikedyn.data.static.digits`.
"""
