"""Leaf predicates, one test module per predicate module (``test_lab.py`` for
``predicates/lab.py``): real behaviour, boundaries and unhappy paths.

Every case builds a patient and a one-leaf rule, evaluates it on a fixed screening date and
checks the verdict and the evidence. Missing, stale or unconvertible data must give ``unknown``
(never met or not met) and name the datum that would decide it.
"""
