"""Generate a synthetic patients CSV in the layout of :mod:`trialmatch.model.csvlayout`.

Usage::

    .venv/bin/python benchmarks/generate_patients.py --rows 100000 --out benchmarks/data/p.csv
    .venv/bin/python benchmarks/generate_patients.py --rows 2000 --out /tmp/p.csv --check
    .venv/bin/python benchmarks/generate_patients.py --rows 5000 --out /tmp/bad.csv \\
        --bad-rows 0.01 --check

Options: ``--seed`` (default 20261121) fixes the output byte for byte; ``--missing`` (default
0.05) is the fraction of optional cells blanked at random ("not recorded"; ``id`` and the cells
an item cannot exist without are never blanked); ``--bad-rows`` (default 0) is the fraction of
rows given exactly one bad cell (``sex`` = ``F``, a date ``2024-13-40``, ``ecog`` = ``two``, ...)
to exercise error rows; ``--check`` reads the first 2000 rows back through
``csvlayout.parse_header`` + ``row_to_patient`` and requires a Patient for every clean row and a
RowError for every corrupted one, and checks that every condition, drug, regimen, lab and unit
the generator uses resolves in the shipped vocabulary.

The header is ``csvlayout.template_columns(LAB_IDS)``: every scalar, the ten labs the criteria
catalogue uses, and every list slot. Dates are relative to the screening date 2026-11-21.

Rows are realistic rather than random: diagnoses across MDS (with IPSS-R, a quarter with
isolated del(5q)), multiple myeloma (with a rare plasma cell leukaemia), peripheral T-cell
lymphomas and DLBCL; a treatment history of 0-4 courses in time order with real regimens from
the vocabulary (lines, settings, cycles, best response, outcome, the last one sometimes
ongoing), transplants, transfusion periods for MDS, donors for some myeloma patients, labs in
mixed units with their own ULNs (some older than a year), comorbidities with statuses, prior
malignancies, hypersensitivities, pregnancy flags for women. Rows are streamed to the file in
chunks, so memory stays flat; one million rows take well under two minutes.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from trialmatch.model import csvlayout, csvrow

T = TypeVar("T")

SEED = 20261121
AS_OF = dt.date(2026, 11, 21)
LAB_IDS: tuple[str, ...] = (
    "creatinine",
    "ast",
    "alt",
    "bilirubin_direct",
    "bilirubin_total",
    "creatinine_clearance",
    "lvef",
    "dlco",
    "weight",
    "hemoglobin",
)
CHECK_ROWS = 2000
CHUNK = 5000
YEAR = 365.25

_TODAY = AS_OF.toordinal()
_D0 = dt.date(1925, 1, 1).toordinal()
_DATES: list[str] = [dt.date.fromordinal(o).isoformat() for o in range(_D0, _TODAY + 1)]


def ds(ordinal: int) -> str:
    """ISO date of a day ordinal (clamped to the table: 1925-01-01 .. the screening date)."""
    if ordinal > _TODAY:
        ordinal = _TODAY
    return _DATES[ordinal - _D0]


def weighted(*pairs: tuple[T, int]) -> tuple[T, ...]:
    """A flat choice list where each value appears `weight` times (pick with one random())."""
    out: list[T] = []
    for value, weight in pairs:
        out += [value] * weight
    return tuple(out)


# ------------------------------------------------------------------------------------------
# Vocabulary-backed content


class Course:
    """A therapy template: drugs or a regimen, setting, cycle length, typical cycles."""

    __slots__ = ("agent", "cycle_days", "cycles", "is_regimen", "setting")

    def __init__(self, agent: str, setting: str, cycle_days: int, cycles: tuple[int, int],
                 is_regimen: bool = False) -> None:
        self.agent = agent
        self.setting = setting
        self.cycle_days = cycle_days
        self.cycles = cycles
        self.is_regimen = is_regimen


def R(name: str, setting: str, cycle_days: int = 28, cycles: tuple[int, int] = (4, 8)) -> Course:
    """A course given as a named regimen."""
    return Course(name, setting, cycle_days, cycles, True)


def D(drugs: str, setting: str, cycle_days: int = 28, cycles: tuple[int, int] = (4, 8)) -> Course:
    """A course given as a ';'-separated drug list."""
    return Course(drugs, setting, cycle_days, cycles, False)


# MDS
MDS_ESA = weighted(
    (D("epoetin alfa", "first_line", 28, (3, 18)), 5),
    (D("darbepoetin alfa", "first_line", 28, (3, 18)), 3),
    (D("epoetin alfa;filgrastim", "first_line", 28, (3, 12)), 1),
)
MDS_SUPPORTIVE = weighted(
    (D("filgrastim", "supportive", 14, (1, 6)), 3),
    (D("deferasirox", "supportive", 28, (3, 24)), 2),
    (D("eltrombopag", "supportive", 28, (2, 10)), 1),
)
MDS_DEL5Q_FIRST = weighted(
    (D("lenalidomide", "first_line", 28, (3, 36)), 8),
    (D("epoetin alfa", "first_line", 28, (3, 12)), 2),
)
MDS_HMA = weighted(
    (D("azacitidine", "first_line", 28, (2, 18)), 6),
    (D("decitabine", "first_line", 28, (2, 12)), 3),
    (R("Decitabine and cedazuridine", "first_line", 28, (2, 12)), 1),
)
MDS_SALVAGE = weighted(
    (D("lenalidomide", "salvage", 28, (2, 12)), 4),
    (D("luspatercept", "salvage", 21, (3, 16)), 3),
    (R("Aza-Ven", "salvage", 28, (1, 8)), 2),
    (D("imetelstat", "salvage", 28, (2, 10)), 1),
    (D("azacitidine", "salvage", 28, (2, 10)), 1),
    (R("CPX-351", "salvage", 28, (1, 2)), 1),
)
# Myeloma
MM_INDUCTION = weighted(
    (R("VRd", "induction", 21, (3, 8)), 8),
    (R("Dara-VRd", "induction", 28, (4, 6)), 4),
    (R("VCd", "induction", 28, (3, 6)), 3),
    (R("VTd", "induction", 28, (3, 6)), 2),
    (R("DRd", "first_line", 28, (6, 30)), 3),
    (R("Rd", "first_line", 28, (4, 24)), 2),
    (R("D-VMP", "first_line", 42, (4, 9)), 1),
)
MM_CONDITIONING = D("melphalan", "conditioning", 1, (1, 1))
MM_MAINTENANCE = weighted(
    (D("lenalidomide", "maintenance", 28, (3, 40)), 8),
    (D("bortezomib", "maintenance", 14, (6, 40)), 1),
)
MM_SALVAGE = weighted(
    (R("KRd", "salvage", 28, (3, 18)), 3),
    (R("Kd", "salvage", 28, (3, 12)), 3),
    (R("DPd", "salvage", 28, (3, 18)), 3),
    (R("Pd", "salvage", 28, (3, 12)), 2),
    (R("Isa-Pd", "salvage", 28, (3, 12)), 2),
    (R("DVd", "salvage", 21, (4, 8)), 2),
    (D("pomalidomide;bortezomib;dexamethasone", "salvage", 21, (4, 12)), 2),
    (R("Elo-Pd", "salvage", 28, (3, 10)), 1),
)
MM_LATE = weighted(
    (D("teclistamab", "salvage", 28, (2, 12)), 3),
    (D("elranatamab", "salvage", 28, (2, 12)), 2),
    (D("idecabtagene vicleucel", "salvage", 1, (1, 1)), 1),
    (D("ciltacabtagene autoleucel", "salvage", 1, (1, 1)), 1),
    (R("Isa-Kd", "salvage", 28, (3, 10)), 2),
    (D("belantamab mafodotin", "salvage", 21, (2, 8)), 1),
)
# T-cell lymphoma
TCL_FIRST = weighted(
    (R("CHOP", "first_line", 21, (4, 6)), 6),
    (R("CHOEP", "first_line", 21, (4, 6)), 4),
    (R("BV-CHP", "first_line", 21, (6, 6)), 3),
)
TCL_SALVAGE = weighted(
    (R("ICE", "salvage", 21, (2, 4)), 4),
    (R("GDP", "salvage", 21, (2, 6)), 4),
    (R("DHAP", "salvage", 21, (2, 4)), 2),
    (R("GemOx", "salvage", 14, (4, 8)), 2),
    (R("ESHAP", "salvage", 21, (2, 4)), 1),
    (D("romidepsin", "salvage", 28, (2, 10)), 2),
    (D("belinostat", "salvage", 21, (2, 10)), 1),
    (D("pralatrexate", "salvage", 49, (1, 6)), 1),
    (D("brentuximab vedotin", "salvage", 21, (3, 16)), 2),
)
TCL_MAINTENANCE = D("lenalidomide", "maintenance", 28, (3, 24))
LYMPHOMA_CONDITIONING = R("BEAM", "conditioning", 6, (1, 1))
# DLBCL
DLBCL_FIRST = weighted(
    (R("R-CHOP", "first_line", 21, (6, 6)), 8),
    (R("DA-EPOCH-R", "first_line", 21, (6, 6)), 2),
    (D("polatuzumab vedotin;rituximab;cyclophosphamide;doxorubicin;prednisone",
       "first_line", 21, (6, 6)), 2),
)
DLBCL_SALVAGE = weighted(
    (R("R-ICE", "salvage", 21, (2, 3)), 4),
    (R("R-DHAP", "salvage", 21, (2, 3)), 2),
    (R("R-GDP", "salvage", 21, (2, 4)), 2),
    (R("R-GemOx", "salvage", 14, (4, 8)), 2),
    (D("polatuzumab vedotin;bendamustine;rituximab", "salvage", 21, (2, 6)), 2),
)

OUTCOME_NEXT = weighted(
    ("progression", 8), ("relapse", 5), ("refractory", 3), ("no_response", 2),
    ("intolerance", 3), ("toxicity", 2),
)
OUTCOME_LAST = weighted(
    ("completed", 10), ("progression", 4), ("relapse", 3), ("intolerance", 3),
    ("toxicity", 1), ("physician_decision", 2), ("patient_decision", 1), ("refractory", 1),
    ("no_response", 1), ("other", 1),
)
RESP_MM = weighted(("sCR", 2), ("CR", 4), ("VGPR", 7), ("PR", 6), ("MR", 1), ("SD", 2), ("PD", 2))
RESP_LYMPH = weighted(("CR", 7), ("PR", 6), ("SD", 2), ("PD", 3))
RESP_MDS = weighted(("CR", 2), ("PR", 2), ("SD", 7), ("PD", 2))
ASSESS_MM = weighted(("IMWG", 6), ("bone marrow", 3), ("PET-CT", 1))
ASSESS_LYMPH = weighted(("CT", 5), ("PET-CT", 5))
ASSESS_MDS: tuple[str, ...] = ("bone marrow",)

IPSSR = weighted(("very low", 2), ("low", 5), ("intermediate", 3), ("high", 2), ("very high", 1))
IPSSR_DEL5Q = weighted(("very low", 2), ("low", 6), ("intermediate", 2), ("high", 1))
RISS = weighted(("I", 3), ("II", 5), ("III", 2))
IPI = weighted(("low", 3), ("low-intermediate", 3), ("high-intermediate", 2), ("high", 2))
MDS_CLASS = weighted(("WHO 2016", 5), ("WHO 2008", 2), ("WHO 2022", 2), ("ICC 2022", 1))
LYMPH_CLASS = weighted(("WHO 2016", 6), ("WHO 2022", 3), ("ICC 2022", 1))

# (condition, code, subtype) for each diagnosis family
DX_DEL5Q = (
    ("myelodysplastic syndrome", "D46.C", "MDS with isolated del(5q)"),
    ("MDS with isolated del(5q)", "D46.C", ""),
    ("del(5q) MDS", "", ""),
)
DX_MDS = weighted(
    (("myelodysplastic syndrome", "D46.9", ""), 3),
    (("myelodysplastic syndrome", "D46.Z", "MDS-SLD"), 1),
    (("MDS with excess blasts-1", "D46.21", ""), 3),
    (("MDS with excess blasts-2", "D46.22", ""), 2),
    (("myelodysplastic syndrome", "D46.A", "MDS-MLD"), 2),
    (("refractory anemia with ring sideroblasts", "D46.1", ""), 1),
    (("MDS with low blasts and SF3B1 mutation", "", ""), 1),
    (("therapy-related MDS", "", ""), 1),
)
DX_MM = weighted(
    (("multiple myeloma", "C90.00", "IgG kappa"), 5),
    (("multiple myeloma", "C90.00", "IgA lambda"), 2),
    (("multiple myeloma", "C90.00", "IgG lambda"), 2),
    (("plasma cell myeloma", "C90.00", "light chain kappa"), 1),
    (("multiple myeloma", "C90.02", "IgA kappa"), 1),
    (("myeloma", "", ""), 1),
)
DX_PCL = (("plasma cell leukemia", "C90.10", "primary"),)
DX_TCL = weighted(
    (("peripheral T-cell lymphoma", "C84.40", ""), 5),
    (("PTCL-NOS", "C84.45", ""), 1),
    (("angioimmunoblastic T-cell lymphoma", "C86.50", ""), 3),
    (("ALK-negative ALCL", "C84.70", ""), 2),
    (("ALK-positive ALCL", "C84.60", ""), 1),
    (("extranodal NK/T-cell lymphoma", "C86.00", ""), 1),
)
DX_DLBCL = weighted(
    (("diffuse large B-cell lymphoma", "C83.30", "GCB"), 3),
    (("diffuse large B-cell lymphoma", "C83.33", "non-GCB"), 2),
    (("DLBCL", "C83.398", ""), 1),
)
FIND_MDS = weighted(("", 6), ("SF3B1", 2), ("TP53", 1), ("-7", 1), ("+8", 1), ("ASXL1;RUNX1", 1))
FIND_MM = weighted(("", 5), ("t(4;14)", 1), ("del(17p)", 1), ("gain(1q)", 2), ("t(11;14)", 2),
                   ("t(4;14);gain(1q)", 1))
FIND_ABSENT_MM = weighted(("", 2), ("del(17p)", 3), ("t(4;14);t(14;16);del(17p)", 2))

# (name, statuses) for comorbidities; statuses picked uniformly from the weighted list
CONDITIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("hypertension", weighted(("controlled", 6), ("uncontrolled", 1), ("active", 2))),
    ("hypertension", weighted(("controlled", 6), ("uncontrolled", 1), ("active", 2))),
    ("type 2 diabetes", weighted(("controlled", 5), ("uncontrolled", 1), ("active", 2))),
    ("HIV", weighted(("absent", 12), ("controlled", 1))),
    ("hepatitis B", weighted(("absent", 4), ("resolved", 3), ("history", 1), ("controlled", 1),
                             ("active", 1))),
    ("hepatitis C", weighted(("absent", 4), ("resolved", 1))),
    ("Gilbert syndrome", ("active",)),
    ("pneumonia", weighted(("resolved", 4), ("active", 2), ("uncontrolled", 1))),
    ("bacterial infection", weighted(("resolved", 3), ("active", 2), ("controlled", 1),
                                     ("uncontrolled", 1))),
    ("infection", weighted(("active", 1), ("resolved", 2))),
    ("herpes zoster", weighted(("resolved", 3), ("active", 1))),
    ("atrial fibrillation", weighted(("controlled", 3), ("active", 1))),
    ("chronic kidney disease", weighted(("active", 3), ("controlled", 1))),
    ("myocardial infarction", ("history",)),
    ("hypothyroidism", ("controlled",)),
    ("hyperlipidemia", weighted(("controlled", 3), ("active", 1))),
    ("depression", weighted(("active", 1), ("controlled", 2))),
    ("peripheral neuropathy", ("active",)),
    ("deep vein thrombosis", weighted(("resolved", 2), ("history", 1))),
    ("COPD", weighted(("active", 1), ("controlled", 1))),
    ("osteoporosis", ("active",)),
    ("von Willebrand disease", ("active",)),
    ("lactose intolerance", ("active",)),
)
INFECTIONS = frozenset({"pneumonia", "bacterial infection", "infection", "herpes zoster"})
PRIOR_FEMALE = weighted(
    ("breast cancer", 6), ("basal cell carcinoma", 4), ("colorectal cancer", 2), ("melanoma", 1),
    ("thyroid cancer", 2), ("cervical carcinoma in situ", 2),
    ("cutaneous squamous cell carcinoma", 1),
)
PRIOR_MALE = weighted(
    ("prostate cancer", 6), ("basal cell carcinoma", 4), ("colorectal cancer", 2), ("melanoma", 1),
    ("bladder cancer", 2), ("renal cell carcinoma", 1), ("cutaneous squamous cell carcinoma", 2),
)
HYPERSENSITIVITY = weighted(
    ("penicillin", 6), ("sulfonamides", 3), ("allopurinol", 2), ("iodinated contrast", 2),
    ("lenalidomide", 1), ("thalidomide", 1), ("rituximab", 1), ("lactose", 1), ("latex", 1),
    ("cotrimoxazole", 1),
)
REACTION = weighted(("rash", 6), ("urticaria", 3), ("anaphylaxis", 1), ("angioedema", 1),
                    ("pruritus", 2), ("", 2))
LOCI = ("HLA-C", "HLA-DQ", "HLA-A", "HLA-B", "DQB1", "HLA-DRB1")

# ------------------------------------------------------------------------------------------
# Labs: value pools drawn once (value, unit, uln) per lab


def _labs_pools(rng: random.Random, size: int = 4096) -> dict[str, list[tuple[str, str, str]]]:
    g = rng.gauss
    ln = rng.lognormvariate

    def clip(v: float, lo: float, hi: float) -> float:
        return lo if v < lo else hi if v > hi else v

    def creat() -> tuple[str, str, str]:
        v = clip(ln(math.log(0.95), 0.38), 0.35, 7.5)
        uln_mg = rng.choice((1.1, 1.2, 1.3))
        uln = rng.random() < 0.5
        if rng.random() < 0.65:
            return f"{v:.2f}", "mg/dL", f"{uln_mg}" if uln else ""
        return f"{v * 88.4:.0f}", rng.choice(("umol/L", "umol/L", "µmol/L")), (
            f"{uln_mg * 88.4:.0f}" if uln else "")

    def transaminase(mu: float, ulns: tuple[int, ...]) -> Callable[[], tuple[str, str, str]]:
        def make() -> tuple[str, str, str]:
            v = clip(ln(math.log(mu), 0.5), 6, 900)
            u = rng.choice(ulns)
            has_uln = rng.random() < 0.92
            x = rng.random()
            if x < 0.75:
                return f"{v:.0f}", "U/L", f"{u}" if has_uln else ""
            if x < 0.96:
                return f"{v:.0f}", "IU/L", f"{u}" if has_uln else ""
            return f"{v / 60:.2f}", "ukat/L", f"{u / 60:.2f}" if has_uln else ""
        return make

    def bili(mu: float, sigma: float,
             uln_mg: tuple[float, ...]) -> Callable[[], tuple[str, str, str]]:
        def make() -> tuple[str, str, str]:
            v = clip(ln(math.log(mu), sigma), 0.05, 15)
            u = rng.choice(uln_mg)
            has_uln = rng.random() < 0.9
            if rng.random() < 0.65:
                return f"{v:.2f}", "mg/dL", f"{u}" if has_uln else ""
            return f"{v * 17.1:.1f}", "umol/L", f"{u * 17.1:.0f}" if has_uln else ""
        return make

    def crcl() -> tuple[str, str, str]:
        v = clip(g(78, 28), 8, 170)
        if rng.random() < 0.95:
            return f"{v:.0f}", "mL/min", ""
        return f"{v / 60:.2f}", "mL/s", ""

    def lvef() -> tuple[str, str, str]:
        return f"{clip(g(60, 7), 20, 80):.0f}", "%", ""

    def dlco() -> tuple[str, str, str]:
        return f"{clip(g(78, 16), 25, 125):.0f}", "%", ""

    def weight() -> tuple[str, str, str]:
        v = clip(g(76, 16), 38, 170)
        if rng.random() < 0.92:
            return f"{v:.1f}", "kg", ""
        return f"{v * 2.2046226:.0f}", "lb", ""

    def hb() -> tuple[str, str, str]:
        v = clip(g(10.6, 1.9), 5.5, 17.5)
        x = rng.random()
        if x < 0.85:
            return f"{v:.1f}", "g/dL", ""
        if x < 0.97:
            return f"{v * 10:.0f}", "g/L", ""
        return f"{v * 0.6206:.2f}", "mmol/L", ""

    makers: dict[str, Callable[[], tuple[str, str, str]]] = {
        "creatinine": creat,
        "ast": transaminase(26, (34, 35, 37, 40, 41)),
        "alt": transaminase(24, (33, 40, 45, 55)),
        "bilirubin_total": bili(0.7, 0.5, (1.0, 1.1, 1.2)),
        "bilirubin_direct": bili(0.18, 0.6, (0.3, 0.4)),
        "creatinine_clearance": crcl,
        "lvef": lvef,
        "dlco": dlco,
        "weight": weight,
        "hemoglobin": hb,
    }
    return {lab: [make() for _ in range(size)] for lab, make in makers.items()}


# Probability that each lab is recorded, per diagnosis family (order of LAB_IDS)
LAB_PRESENCE: dict[str, tuple[float, ...]] = {
    "mds": (0.95, 0.85, 0.85, 0.6, 0.85, 0.3, 0.2, 0.1, 0.85, 0.97),
    "mm": (0.97, 0.85, 0.85, 0.4, 0.85, 0.55, 0.5, 0.35, 0.9, 0.95),
    "tcl": (0.95, 0.85, 0.85, 0.4, 0.85, 0.35, 0.45, 0.2, 0.9, 0.9),
    "dlbcl": (0.95, 0.85, 0.85, 0.4, 0.85, 0.35, 0.5, 0.2, 0.9, 0.9),
}


def _lab_age_pool(rng: random.Random, size: int = 4096) -> list[int]:
    """Days before the screening date: mostly recent, some older than a year."""
    out = []
    for _ in range(size):
        x = rng.random()
        out.append(rng.randint(0, 45) if x < 0.82 else rng.randint(46, 365) if x < 0.93
                   else rng.randint(366, 900))
    return out


# Bad cells for --bad-rows: each always makes the row unreadable
CORRUPTIONS: tuple[tuple[str, str], ...] = (
    ("sex", "F"),
    ("sex", "M"),
    ("birth_date", "2024-13-40"),
    ("ecog_date", "2024-02-30"),
    ("ecog", "two"),
    ("ecog", "7"),
    ("pregnant", "maybe"),
    ("lab_creatinine", "1,2"),
    ("lab_hemoglobin", "n/a"),
    ("tx_1_setting", "frontline"),
    ("tx_1_start", "12/03/2021"),
    ("tx_1_line", "1.5"),
    ("therapies", "yes"),
    ("conditions", "no"),
    ("dx_1_findings", "del(5q);;TP53"),
    ("disease_response_after_line", "0"),
    ("donor_hla_match", "10 of 10"),
)


# ------------------------------------------------------------------------------------------
# The row maker


class RowMaker:
    """Makes one row (a list of cells in header order) at a time, from one seeded RNG."""

    def __init__(self, seed: int, missing: float, bad_rows: float) -> None:
        self.rng = random.Random(seed)
        self.header = csvlayout.template_columns(LAB_IDS)
        self.idx = {name: i for i, name in enumerate(self.header)}
        self.blank = [""] * len(self.header)
        self.missing = missing
        self.bad_rows = bad_rows
        self.lab_pools = _labs_pools(self.rng)
        self.lab_ages = _lab_age_pool(self.rng)
        i = self.idx
        self.lab_cols = [(lab, i[f"lab_{lab}"], i[f"lab_{lab}_unit"], i[f"lab_{lab}_date"],
                          i[f"lab_{lab}_uln"]) for lab in LAB_IDS]
        self.slots: dict[str, list[dict[str, int]]] = {
            g.marker: [{c.suffix: i[f"{g.prefix}_{k}_{c.suffix}"] for c in g.cols}
                       for k in range(1, g.slots + 1)]
            for g in csvlayout.GROUPS
        }
        # cells that may be blanked: not id, and not a cell an item cannot exist without
        key = {"id", "ecog", "disease_response", "donor_relation", "donor_hla_match"}
        for lab in LAB_IDS:
            key |= {f"lab_{lab}", f"lab_{lab}_unit"}
        key_suffix = {
            "diagnoses": {"condition", "risk_system", "risk_category"},
            "therapies": {"drugs", "regimen"},
            "procedures": {"type"},
            "transfusions": {"status", "start"},
            "conditions": {"name", "status"},
            "prior_malignancies": {"condition"},
            "hypersensitivities": {"agent"},
            "attestations": {"trial", "criterion", "holds", "by", "on"},
        }
        for g in csvlayout.GROUPS:
            for k in range(1, g.slots + 1):
                key |= {f"{g.prefix}_{k}_{s}" for s in key_suffix[g.marker]}
        self.optional = tuple(n for n, name in enumerate(self.header) if name not in key)
        self._log1m = math.log(1.0 - missing) if 0.0 < missing < 1.0 else 0.0
        self._next_blank = self._skip() - 1 if self._log1m else 0
        self.corruptions = tuple((i[c], c, v) for c, v in CORRUPTIONS)
        self.families = weighted(("mds", 38), ("mm", 30), ("tcl", 19), ("dlbcl", 13))

    # -- helpers -------------------------------------------------------------------------

    def _skip(self) -> int:
        """Geometric gap to the next blanked optional cell."""
        return 1 + int(math.log(1.0 - self.rng.random()) / self._log1m)

    # -- one row -------------------------------------------------------------------------

    def make(self, n: int) -> tuple[list[str], str | None]:
        """Row number `n` (1-based) and the column corrupted in it (None when clean)."""
        rng = self.rng
        r = rng.random
        ri = rng.randint
        i = self.idx
        row = self.blank[:]
        row[0] = f"P{n:07d}"

        family = self.families[int(r() * len(self.families))]
        # age by family: MDS and myeloma are diseases of older patients
        if family == "mds":
            age = min(90, max(25, int(rng.gauss(72, 9))))
        elif family == "mm":
            age = min(90, max(25, int(rng.gauss(66, 10))))
        else:
            age = min(90, max(25, int(rng.gauss(60, 14))))
        birth = _TODAY - int(age * YEAR) - ri(1, 364)
        x = r()
        if x < 0.96:
            row[i["birth_date"]] = ds(birth)
        elif x < 0.99:
            row[i["age"]] = str(_age(birth))
        sex = "male" if r() < 0.55 else "female" if r() < 0.998 else "other"
        row[i["sex"]] = sex
        if sex == "female":
            if age < 50:
                cbp = r() < 0.8
                row[i["childbearing_potential"]] = "true" if cbp else "false"
                row[i["pregnant"]] = "true" if cbp and r() < 0.03 else "false"
                row[i["breastfeeding"]] = "true" if cbp and r() < 0.02 else "false"
            else:
                if r() < 0.9:
                    row[i["childbearing_potential"]] = "false"
                if r() < 0.6:
                    row[i["pregnant"]] = "false"
                    row[i["breastfeeding"]] = "false"

        x = r()
        if x < 0.93:
            ecog = 0 if x < 0.28 else 1 if x < 0.66 else 2 if x < 0.82 else 3 if x < 0.9 else 4
            row[i["ecog"]] = str(ecog)
            row[i["ecog_date"]] = ds(_TODAY - int(r() * r() * 200))

        # diagnosis
        years_back = min(10.0, (age - 20) * 1.0)
        dx_day = _TODAY - 20 - int(r() ** 1.6 * years_back * YEAR)
        dx = self.slots["diagnoses"][0]
        row[dx["date"]] = ds(dx_day)
        del5q = False
        if family == "mds":
            del5q = r() < 0.25
            cond, code, sub = (DX_DEL5Q[int(r() * 3)] if del5q
                               else DX_MDS[int(r() * len(DX_MDS))])
            row[dx["classification"]] = MDS_CLASS[int(r() * len(MDS_CLASS))]
            if del5q:
                row[dx["findings"]] = "del(5q)" if r() < 0.8 else "del(5q)(q13q33)"
                risk = IPSSR_DEL5Q[int(r() * len(IPSSR_DEL5Q))]
            else:
                f = FIND_MDS[int(r() * len(FIND_MDS))]
                if f:
                    row[dx["findings"]] = f
                if r() < 0.4:
                    row[dx["findings_absent"]] = "del(5q)"
                risk = IPSSR[int(r() * len(IPSSR))]
            if r() < 0.9:
                row[dx["risk_system"]] = "IPSS-R"
                row[dx["risk_category"]] = risk
                row[dx["risk_date"]] = ds(dx_day)
        elif family == "mm":
            if r() < 0.02:
                cond, code, sub = DX_PCL[0]
            else:
                cond, code, sub = DX_MM[int(r() * len(DX_MM))]
            row[dx["classification"]] = "IMWG 2014"
            f = FIND_MM[int(r() * len(FIND_MM))]
            if f:
                row[dx["findings"]] = f
            fa = FIND_ABSENT_MM[int(r() * len(FIND_ABSENT_MM))]
            if fa and "del(17p)" not in f:
                row[dx["findings_absent"]] = fa if "t(4;14)" not in f else "del(17p)"
            if r() < 0.8:
                row[dx["risk_system"]] = "R-ISS"
                row[dx["risk_category"]] = RISS[int(r() * len(RISS))]
                row[dx["risk_date"]] = ds(dx_day)
        else:
            pool = DX_TCL if family == "tcl" else DX_DLBCL
            cond, code, sub = pool[int(r() * len(pool))]
            row[dx["classification"]] = LYMPH_CLASS[int(r() * len(LYMPH_CLASS))]
            if r() < 0.75:
                row[dx["risk_system"]] = "IPI"
                row[dx["risk_category"]] = IPI[int(r() * len(IPI))]
                row[dx["risk_date"]] = ds(dx_day)
        row[dx["condition"]] = cond
        if code:
            row[dx["code"]] = code
        if sub:
            row[dx["subtype"]] = sub
        if family == "mds" and r() < 0.03:  # transformed to AML
            dx2 = self.slots["diagnoses"][1]
            row[dx2["condition"]] = "AML with myelodysplasia-related changes"
            row[dx2["code"]] = "C92.A0"
            row[dx2["date"]] = ds(min(_TODAY - 5, dx_day + ri(120, 900)))

        # therapies, procedures, transfusions, response
        self._history(row, family, del5q, dx_day)

        # labs
        pres = LAB_PRESENCE[family]
        pools = self.lab_pools
        ages = self.lab_ages
        base_age = ages[int(r() * len(ages))]
        for k, (lab, c_val, c_unit, c_date, c_uln) in enumerate(self.lab_cols):
            if r() < pres[k]:
                val, unit, uln = pools[lab][int(r() * 4096)]
                row[c_val] = val
                row[c_unit] = unit
                if uln:
                    row[c_uln] = uln
                # labs of one visit share a date; some were measured another day
                days = base_age if r() < 0.8 else ages[int(r() * len(ages))]
                row[c_date] = ds(_TODAY - days)

        self._comorbidities(row, birth, sex)

        if r() < 0.01:
            att = self.slots["attestations"][0]
            row[att["trial"]] = "NCT01421927"
            row[att["criterion"]] = "inc-consent"
            row[att["holds"]] = "true"
            row[att["by"]] = "INV-03"
            row[att["on"]] = ds(_TODAY - ri(0, 30))

        # blank optional cells: geometric gaps over the optional columns, carried across rows
        if self._log1m:
            opt = self.optional
            n_opt = len(opt)
            pos = self._next_blank
            while pos < n_opt:
                row[opt[pos]] = ""
                pos += self._skip()
            self._next_blank = pos - n_opt

        bad = None
        if self.bad_rows and r() < self.bad_rows:
            col, bad, value = self.corruptions[int(r() * len(self.corruptions))]
            row[col] = value
        return row, bad

    def _history(self, row: list[str], family: str, del5q: bool, dx_day: int) -> None:
        rng = self.rng
        r = rng.random
        ri = rng.randint
        i = self.idx
        tx_slots = self.slots["therapies"]
        x = r()
        n_tx = 0 if x < 0.12 else 1 if x < 0.45 else 2 if x < 0.73 else 3 if x < 0.9 else 4
        courses: list[Course] = []
        proc: list[tuple[str, int, str]] = []
        if family == "mds":
            if del5q:
                courses.append(MDS_DEL5Q_FIRST[int(r() * len(MDS_DEL5Q_FIRST))])
            elif r() < 0.5:
                courses.append(MDS_ESA[int(r() * len(MDS_ESA))])
            else:
                courses.append(MDS_HMA[int(r() * len(MDS_HMA))])
            while len(courses) < n_tx:
                if r() < 0.25:
                    courses.append(MDS_SUPPORTIVE[int(r() * len(MDS_SUPPORTIVE))])
                elif courses[-1].agent == "lenalidomide" and del5q and r() < 0.4:
                    courses.append(D("lenalidomide", "salvage", 28, (3, 24)))  # re-treatment
                else:
                    courses.append(MDS_SALVAGE[int(r() * len(MDS_SALVAGE))])
            resp, assess = RESP_MDS, ASSESS_MDS
        elif family == "mm":
            courses.append(MM_INDUCTION[int(r() * len(MM_INDUCTION))])
            if n_tx >= 2 and r() < 0.55:
                courses.append(MM_CONDITIONING)
            while len(courses) < n_tx:
                if courses[-1].setting in ("conditioning", "induction") and r() < 0.7:
                    courses.append(MM_MAINTENANCE[int(r() * len(MM_MAINTENANCE))])
                elif len(courses) >= 3 and r() < 0.5:
                    courses.append(MM_LATE[int(r() * len(MM_LATE))])
                else:
                    courses.append(MM_SALVAGE[int(r() * len(MM_SALVAGE))])
            resp, assess = RESP_MM, ASSESS_MM
        else:
            first, salvage = (TCL_FIRST, TCL_SALVAGE) if family == "tcl" else (
                DLBCL_FIRST, DLBCL_SALVAGE)
            courses.append(first[int(r() * len(first))])
            while len(courses) < n_tx:
                last = courses[-1]
                if last.setting == "salvage" and r() < 0.3:
                    courses.append(LYMPHOMA_CONDITIONING)
                elif last.setting in ("salvage", "conditioning") and family == "tcl" \
                        and r() < 0.5:
                    courses.append(TCL_MAINTENANCE)
                else:
                    courses.append(salvage[int(r() * len(salvage))])
            resp, assess = RESP_LYMPH, ASSESS_LYMPH
        courses = courses[:n_tx]

        indication = row[self.slots["diagnoses"][0]["condition"]]
        t = dx_day + ri(7, 60)
        line = 0
        last_line = 0
        last_resp = ""
        last_start = 0
        last_outcome = ""
        len_course: tuple[int, int | None] | None = None
        written = 0
        for k, c in enumerate(courses):
            if t > _TODAY - 7:
                break
            s = tx_slots[written]
            written += 1
            if c.setting in ("first_line", "induction", "salvage") and not (
                    c.setting == "induction" and line):
                line += 1
            elif c.setting == "supportive":
                pass
            elif line == 0:
                line = 1
            cycles = ri(*c.cycles)
            dur = max(1, cycles * c.cycle_days - ri(0, 7))
            end = t + dur
            row[s["regimen" if c.is_regimen else "drugs"]] = c.agent
            row[s["setting"]] = c.setting
            row[s["start"]] = ds(t)
            if c.setting != "supportive":
                row[s["line"]] = str(line)
                last_line = line
                if r() < 0.7:
                    row[s["indication"]] = indication
            else:
                row[s["indication"]] = "anemia" if "epoetin" in c.agent else indication
            is_last = k == len(courses) - 1
            if end >= _TODAY or (is_last and c.cycle_days > 1 and r() < 0.3):
                # ongoing: cycles so far
                cycles = max(1, (_TODAY - t) // max(1, c.cycle_days))
                row[s["ongoing"]] = "true"
                row[s["outcome"]] = "ongoing"
                end_day: int | None = None
                outcome = "ongoing"
            else:
                row[s["end"]] = ds(end)
                if r() < 0.8:
                    row[s["ongoing"]] = "false"
                outcome = (OUTCOME_LAST[int(r() * len(OUTCOME_LAST))] if is_last
                           else OUTCOME_NEXT[int(r() * len(OUTCOME_NEXT))])
                if c.setting in ("conditioning", "maintenance") and not is_last:
                    outcome = "completed" if c.setting == "conditioning" else "progression"
                elif not is_last and courses[k + 1].setting in ("conditioning", "maintenance"):
                    outcome = "completed"  # went on to transplant or maintenance
                row[s["outcome"]] = outcome
                end_day = end
            if c.cycle_days > 1:
                row[s["cycles"]] = str(cycles)
            if c.setting not in ("supportive", "conditioning"):
                br = resp[int(r() * len(resp))]
                if outcome in ("refractory", "no_response", "progression") and br in (
                        "sCR", "CR", "VGPR"):
                    br = "SD"
                row[s["best_response"]] = br
                if r() < 0.6:
                    row[s["response_assessed_by"]] = assess[int(r() * len(assess))]
                last_resp = br
                last_start = t
                last_outcome = outcome
            if c.agent == "lenalidomide" and family == "mds" and len_course is None:
                len_course = (t, end_day)
            if c.setting == "conditioning":
                kind = "allogeneic SCT" if family == "mds" else "autologous SCT"
                proc.append((kind, (end_day or t) + 1, "melphalan 200 mg/m2"
                             if c.agent == "melphalan" else "BEAM"))
            t = (end_day or _TODAY) + ri(14, 240)

        if written == 0 and r() < 0.5:
            row[i["therapies"]] = "none"

        # transplants without a recorded conditioning course
        if family == "mds" and written and r() < 0.04:
            proc.append(("allogeneic_sct", min(_TODAY - 10, dx_day + ri(200, 900)),
                         "reduced-intensity fludarabine-busulfan"))
        elif family == "mm" and written and r() < 0.04:
            proc.append(("allogeneic_sct", min(_TODAY - 10, dx_day + ri(500, 1500)),
                         "reduced-intensity fludarabine-melphalan"))
        if proc:
            for s, (kind, day, cond) in zip(self.slots["procedures"], proc, strict=False):
                row[s["type"]] = kind
                row[s["date"]] = ds(day)
                if r() < 0.8:
                    row[s["conditioning"]] = cond
        elif r() < 0.6:
            row[i["procedures"]] = "none"

        # donor for some myeloma patients
        if family == "mm" and r() < 0.09:
            row[i["donor_relation"]] = "related" if r() < 0.45 else "unrelated"
            x = r()
            if x < 0.68:
                row[i["donor_hla_match"]] = "10/10"
            elif x < 0.95:
                row[i["donor_hla_match"]] = "9/10"
                row[i["donor_mismatched_loci"]] = LOCI[int(r() * 3) if r() < 0.7
                                                       else int(r() * len(LOCI))]
            else:
                row[i["donor_hla_match"]] = "8/10"
                a, b = rng.sample(LOCI, 2)
                row[i["donor_mismatched_loci"]] = f"{a};{b}"

        # current disease status
        if last_line and r() < 0.88:
            if last_outcome in ("progression", "relapse", "refractory") and r() < 0.7:
                status = "PD"
            else:
                status = last_resp or "SD"
            row[i["disease_response"]] = status
            row[i["disease_response_date"]] = ds(min(_TODAY - ri(0, 30), last_start + ri(50, 400)))
            row[i["disease_response_assessed_by"]] = assess[int(r() * len(assess))]
            row[i["disease_response_after_line"]] = str(last_line)
        elif not last_line and r() < 0.3:
            row[i["disease_response"]] = "SD" if family == "mm" else "PD"
            row[i["disease_response_date"]] = ds(_TODAY - ri(0, 60))

        # transfusion periods (MDS)
        if family == "mds":
            tr = self.slots["transfusions"]
            x = r()
            if x < 0.1:
                row[i["transfusions"]] = "none"
            elif x < 0.9:
                start = min(_TODAY - 30, dx_day + ri(0, 120))
                if len_course is not None:
                    ls, le = len_course
                    dep_start = max(dx_day - ri(0, 60), ls - ri(60, 360))
                    row[tr[0]["status"]] = "dependent"
                    row[tr[0]["start"]] = ds(dep_start)
                    row[tr[0]["end"]] = ds(max(dep_start, ls - 1))
                    ti_start = min(_TODAY, ls + ri(30, 150))
                    row[tr[1]["status"]] = "independent"
                    row[tr[1]["start"]] = ds(ti_start)
                    if le is not None and r() < 0.35 and le + 30 < _TODAY:
                        # lost transfusion independence (sometimes before stopping)
                        lost = max(ti_start + 1, le + ri(-120, 600))
                        if lost < _TODAY:
                            row[tr[1]["end"]] = ds(lost - 1)
                            row[tr[2]["status"]] = "dependent"
                            row[tr[2]["start"]] = ds(lost)
                else:
                    row[tr[0]["status"]] = "dependent" if r() < 0.75 else "independent"
                    row[tr[0]["start"]] = ds(start)
                for s in tr:
                    if row[s["status"]] and r() < 0.3:
                        row[s["product"]] = "RBC"
        elif r() < 0.15:
            row[i["transfusions"]] = "none"

    def _comorbidities(self, row: list[str], birth: int, sex: str) -> None:
        rng = self.rng
        r = rng.random
        ri = rng.randint
        i = self.idx
        adult = birth + int(18 * YEAR)

        def since(max_years: float) -> int:
            lo = max(adult, _TODAY - int(max_years * YEAR))
            return ri(lo, _TODAY - 7)

        x = r()
        n = -1 if x < 0.05 else 0 if x < 0.35 else 1 if x < 0.6 else 2 if x < 0.8 else 3 \
            if x < 0.92 else 4
        if n == 0:
            row[i["conditions"]] = "none"
        elif n > 0:
            seen: set[str] = set()
            k = 0
            for _ in range(n * 2):
                name, statuses = CONDITIONS[int(r() * len(CONDITIONS))]
                if name in seen:
                    continue
                seen.add(name)
                s = self.slots["conditions"][k]
                k += 1
                status = statuses[int(r() * len(statuses))]
                row[s["name"]] = name
                row[s["status"]] = status
                if status != "absent" and r() < 0.75:
                    d = since(1.5 if name in INFECTIONS else 15)
                    row[s["since"]] = ds(d)
                    if status in ("resolved", "history") and r() < 0.7:
                        row[s["until"]] = ds(ri(d, _TODAY))
                if k == n:
                    break

        x = r()
        if x < 0.72:
            row[i["prior_malignancies"]] = "none"
        elif x < 0.8:
            pass  # not recorded
        else:
            pool = PRIOR_FEMALE if sex == "female" else PRIOR_MALE
            for s in self.slots["prior_malignancies"][: 1 if x < 0.97 else 2]:
                row[s["condition"]] = pool[int(r() * len(pool))]
                d = since(25)
                row[s["diagnosed"]] = ds(d)
                lt = min(_TODAY, d + ri(0, 365))
                if r() < 0.85:
                    row[s["last_treatment"]] = ds(lt)
                if r() < 0.7:
                    row[s["disease_free_since"]] = ds(min(_TODAY, lt + ri(0, 180)))
                row[s["curative_intent"]] = "true" if r() < 0.85 else "false"
                if r() < 0.8:
                    row[s["in_remission"]] = "true" if r() < 0.85 else "false"

        x = r()
        if x < 0.7:
            row[i["hypersensitivities"]] = "none"
        elif x < 0.8:
            pass
        else:
            agents = {HYPERSENSITIVITY[int(r() * len(HYPERSENSITIVITY))]
                      for _ in range(1 if x < 0.97 else 2)}
            for s, agent in zip(self.slots["hypersensitivities"], sorted(agents), strict=False):
                row[s["agent"]] = agent
                reaction = REACTION[int(r() * len(REACTION))]
                if reaction:
                    row[s["reaction"]] = reaction


def _age(birth: int) -> int:
    b = dt.date.fromordinal(birth)
    return AS_OF.year - b.year - ((AS_OF.month, AS_OF.day) < (b.month, b.day))


# ------------------------------------------------------------------------------------------
# Writing and checking


def generate(out: Path, rows: int, seed: int = SEED, missing: float = 0.05,
             bad_rows: float = 0.0, keep: int = 0) -> dict[int, str]:
    """Write `rows` rows to `out`; return the corrupted column of each of the first `keep` rows."""
    maker = RowMaker(seed, missing, bad_rows)
    log: dict[int, str] = {}
    out.parent.mkdir(parents=True, exist_ok=True)
    make = maker.make
    with out.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(maker.header)
        n = 0
        while n < rows:
            chunk = []
            for _ in range(min(CHUNK, rows - n)):
                n += 1
                row, bad = make(n)
                if bad is not None and n <= keep:
                    log[n] = bad
                chunk.append(row)
            w.writerows(chunk)
    return log


def vocabulary_problems() -> list[str]:
    """Terms the generator writes that the shipped vocabulary does not resolve."""
    from trialmatch.model.vocab import Vocabulary

    v = Vocabulary.default()
    problems = []
    conds = {c for pool in (DX_DEL5Q, DX_MDS, DX_MM, DX_PCL, DX_TCL, DX_DLBCL) for c, _, _ in pool}
    conds |= {code for pool in (DX_DEL5Q, DX_MDS, DX_MM, DX_PCL, DX_TCL, DX_DLBCL)
              for _, code, _ in pool if code}
    conds |= {n for n, _ in CONDITIONS} | set(PRIOR_FEMALE) | set(PRIOR_MALE)
    conds |= {"AML with myelodysplasia-related changes", "C92.A0", "anemia"}
    problems += [f"condition {c!r}" for c in sorted(conds) if v.condition_id(c) is None]
    courses = [c for pool in (MDS_ESA, MDS_SUPPORTIVE, MDS_DEL5Q_FIRST, MDS_HMA, MDS_SALVAGE,
                              MM_INDUCTION, MM_MAINTENANCE, MM_SALVAGE, MM_LATE, TCL_FIRST,
                              TCL_SALVAGE, DLBCL_FIRST, DLBCL_SALVAGE) for c in pool]
    courses += [MM_CONDITIONING, TCL_MAINTENANCE, LYMPHOMA_CONDITIONING]
    for c in courses:
        if c.is_regimen:
            if not v.is_regimen(c.agent):
                problems.append(f"regimen {c.agent!r}")
        else:
            problems += [f"drug {d!r}" for d in c.agent.split(";") if v.drug_ids(d) is None]
    for lab, pool in _labs_pools(random.Random(0), 256).items():
        if v.lab_id(lab) != lab:
            problems.append(f"lab {lab!r}")
        for unit in sorted({u for _, u, _ in pool}):
            if v.lab_factor(lab, unit) is None:
                problems.append(f"unit {unit!r} of lab {lab!r}")
    return problems


def check(out: Path, log: dict[int, str], limit: int = CHECK_ROWS) -> bool:
    """Read the first `limit` rows back: clean rows must be patients, corrupted rows errors."""
    ok = True
    problems = vocabulary_problems()
    for p in problems:
        print(f"check: vocabulary does not resolve {p}", file=sys.stderr)
    ok = not problems
    with out.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        columns = next(reader)
        header = csvlayout.parse_header(columns, LAB_IDS)
        n = patients = errors = expected_errors = same_column = 0
        shown = 0
        for cells in reader:
            n += 1
            if n > limit:
                break
            result = csvrow.row_to_patient(header, dict(zip(columns, cells, strict=True)), n)
            bad = log.get(n)
            if isinstance(result, csvlayout.RowError):
                errors += 1
                if bad is None:
                    ok = False
                    if shown < 10:
                        shown += 1
                        print(f"check: unexpected error: {result}", file=sys.stderr)
                else:
                    expected_errors += 1
                    same_column += result.column == bad
            else:
                patients += 1
                if bad is not None:
                    ok = False
                    print(f"check: row {n} has a bad {bad!r} but was read", file=sys.stderr)
    n = min(n, limit)
    print(f"check: {n} rows read back: {patients} patients, {errors} row errors "
          f"({expected_errors} expected from --bad-rows, {same_column} of them on the corrupted "
          f"column); vocabulary: {'ok' if not problems else f'{len(problems)} unresolved'}"
          f" -> {'OK' if ok else 'FAILED'}")
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--rows", type=int, required=True, help="number of patient rows")
    p.add_argument("--out", type=Path, required=True, help="CSV file to write")
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--missing", type=float, default=0.05,
                   help="fraction of optional cells left empty (default 0.05)")
    p.add_argument("--bad-rows", type=float, default=0.0,
                   help="fraction of rows given one bad cell (default 0)")
    p.add_argument("--check", action="store_true",
                   help=f"read the first {CHECK_ROWS} rows back through csvrow.row_to_patient")
    a = p.parse_args(argv)
    if a.rows < 0 or not 0.0 <= a.missing < 1.0 or not 0.0 <= a.bad_rows <= 1.0:
        p.error("--rows must be >= 0, --missing in [0, 1), --bad-rows in [0, 1]")
    t0 = time.perf_counter()
    log = generate(a.out, a.rows, a.seed, a.missing, a.bad_rows,
                   keep=CHECK_ROWS if a.check else 0)
    secs = time.perf_counter() - t0
    size = a.out.stat().st_size
    print(f"wrote {a.rows} rows to {a.out} ({size / 1e6:.1f} MB) in {secs:.1f} s "
          f"({a.rows / secs if secs else 0:,.0f} rows/s)")
    if a.check:
        return 0 if check(a.out, log) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
