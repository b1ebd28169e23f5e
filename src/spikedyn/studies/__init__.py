"""Studies: the seed papers' claims put to the test over many seeds, on data that needs no download.

``study`` defines a study (a sweep sized by a budget, the claims it tests, its figures),
``claims`` tests a claim by confidence intervals of contrasts and gives the verdict,
``metrics`` are the per-run quantities claims are about, ``bases`` the shared base configs,
``catalog`` the studies by name, ``runner`` runs one through the sweep engine, ``report``
and ``figures`` write study.md, its table and figures, and ``commands`` is ``spikedyn study``.
"""

#: smoke: a few minutes, checks that a study runs end to end; full: the study itself (at most 40 minutes on 2 cores).
BUDGETS = ("smoke", "full")
