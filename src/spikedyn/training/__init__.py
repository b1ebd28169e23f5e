"""Training: experiment configs, the Lightning trainer that records tau and IMP, resumable runs.

Import the parts you need (``spikedyn.training.train``, ``.config``, ``.evaluate``); this
package's ``__init__`` stays light so that ``spikedyn --help`` does not load Lightning.
"""
