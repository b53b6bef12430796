"""``trialmatch import ctgov``: a ClinicalTrials.gov study record as a draft criteria file (to be
written)."""

from __future__ import annotations
