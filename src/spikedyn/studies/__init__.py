"""Studies: the seed papers' claims put to the test over many seeds, on data that needs no download.

``study`` defines a study (a sweep sized by a budget, the claims it tests, its figures),
``claims`` tests a claim by confidence intervals of contrasts and gives the verdict,
``metrics`` are the per-run quantities claims are about, ``bases`` the shared base configs,
``catalog`` the studies by name, ``runner`` runs one through the sweep engine, ``report``
and ``figures`` write study.md, its table and figures, and ``commands`` is ``spikedyn study``.
"""

#: smoke: a few minutes, checks that a study runs end to end; full: the study itself (about 40 minutes on 2 cores);
#: real: the study on real data (Fashion-MNIST from Debian's package), about 2 hours on 2 cores, where a study has one.
BUDGETS = ("smoke", "full", "real")
#: The budgets every study has.
REQUIRED_BUDGETS = ("smoke", "full")
#: The torch threads of every run of a study, whatever --workers: its numbers must not depend on how many runs share the machine.
STUDY_THREADS = 1
