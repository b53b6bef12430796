"""``trialmatch import fhir``: a FHIR R4 patient bundle as a patient file (to be written)."""

from __future__ import annotations
