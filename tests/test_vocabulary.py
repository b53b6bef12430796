"""The shipped vocabulary: unit conversions, hierarchy facts, drug classes, regimens, LOINC codes,
suggestions, and the loader's validation of broken vocabularies.

Conversion factors are checked against values computed here from first principles (molar
masses, SI prefixes, unit definitions), never copied from the YAML.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from types import ModuleType

import pytest

from trialmatch.errors import InputError
from trialmatch.model.vocab import Vocabulary, normalise, normalise_unit


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return Vocabulary.default()


def test_default_vocabulary_loads_without_error(vocab: Vocabulary) -> None:
    # The loader validates parents, classes, regimen drugs, canonical units and duplicate terms.
    assert len(vocab.conditions) > 200
    assert len(vocab.classes) > 40
    assert len(vocab.drugs) > 90
    assert len(vocab.regimens) > 40
    assert len(vocab.labs) > 25


# -------------------------------------------------------------------------------------------------
# Conversion factors: "how many of this unit make ONE canonical unit"

# Molar masses (g/mol) and other independent constants.
_MW_CREATININE = 113.12
_MW_BILIRUBIN = 584.66
_MW_HB_MONOMER = 16_114.5  # haemoglobin per haem (the SI "mmol/L" basis)
_MW_CALCIUM = 40.078
_MW_FERRITIN = 445_000.0  # the molar mass behind the usual 2.247 pmol/L per ug/L
_LB_IN_KG = 0.45359237
_INCH_IN_CM = 2.54
_SECONDS_PER_MINUTE = 60.0


def _mass_conc_to_molar(mg_per_dl: float, molar_mass: float, prefix: float) -> float:
    """mg/dL -> mol/L scaled by ``prefix`` (1e3 for mmol/L, 1e6 for umol/L)."""
    grams_per_litre = mg_per_dl * 10 / 1000
    return grams_per_litre / molar_mass * prefix


_ENZYME = {
    "U/L": 1.0,
    "IU/L": 1.0,
    "units/L": 1.0,
    # 1 U = 1 umol/min = 1/60 umol/s = 1/60 ukat
    "ukat/L": 1 / _SECONDS_PER_MINUTE,
    "nkat/L": 1000 / _SECONDS_PER_MINUTE,
}
_COUNTS = {
    # 1e9 cells per litre; 1 L = 1e6 uL = 1e9 nL; 1 mm3 = 1 uL
    "10*9/L": 1.0,
    "10^9/L": 1.0,
    "x10*9/L": 1.0,
    "x10^9/L": 1.0,
    "G/L": 1.0,
    "10*3/uL": 1e9 / 1e6 / 1e3,
    "10^3/uL": 1e9 / 1e6 / 1e3,
    "10*3/mm3": 1e9 / 1e6 / 1e3,
    "K/uL": 1e9 / 1e6 / 1e3,
    "/nL": 1e9 / 1e9,
    "/uL": 1e9 / 1e6,
    "/mm3": 1e9 / 1e6,
    "cells/uL": 1e9 / 1e6,
}
_BILIRUBIN = {
    "mg/dL": 1.0,
    "mg/L": 10.0,
    "umol/L": _mass_conc_to_molar(1, _MW_BILIRUBIN, 1e6),
    "micromol/L": _mass_conc_to_molar(1, _MW_BILIRUBIN, 1e6),
    "mmol/L": _mass_conc_to_molar(1, _MW_BILIRUBIN, 1e3),
}
# A percentage of the predicted value: every spelling is the lab's own "%".
_PERCENT_PREDICTED = {
    "%": 1.0,
    "% predicted": 1.0,
    "% pred": 1.0,
    "% of predicted": 1.0,
    "percent predicted": 1.0,
    "percent of predicted": 1.0,
}
_FLC = {"mg/L": 1.0, "mg/dL": 0.1, "ug/mL": 1.0, "g/L": 0.001}

EXPECTED_FACTORS: dict[str, dict[str, float]] = {
    "creatinine": {
        "mg/dL": 1.0,
        "mg/L": 10.0,
        "umol/L": _mass_conc_to_molar(1, _MW_CREATININE, 1e6),
        "micromol/L": _mass_conc_to_molar(1, _MW_CREATININE, 1e6),
        "mmol/L": _mass_conc_to_molar(1, _MW_CREATININE, 1e3),
    },
    "creatinine_clearance": {
        "mL/min": 1.0,
        "mL/minute": 1.0,
        "mL/s": 1 / _SECONDS_PER_MINUTE,
        "L/h": _SECONDS_PER_MINUTE / 1000,
    },
    "egfr": {
        "mL/min/1.73m2": 1.0,
        "mL/min/{1.73_m2}": 1.0,
        "mL/min/1.73m²": 1.0,
        "mL/min per 1.73m2": 1.0,
        "mL/min per 1.73m²": 1.0,
        "mL/s/1.73m2": 1 / _SECONDS_PER_MINUTE,
    },
    "ast": _ENZYME,
    "alt": _ENZYME,
    "alp": _ENZYME,
    "ldh": _ENZYME,
    "bilirubin_total": _BILIRUBIN,
    "bilirubin_direct": _BILIRUBIN,
    "albumin": {"g/dL": 1.0, "g/L": 10.0, "mg/dL": 1000.0},
    "hemoglobin": {
        "g/dL": 1.0,
        "g/L": 10.0,
        "g/100mL": 1.0,
        "mmol/L": 10 / _MW_HB_MONOMER * 1000,
    },
    "platelets": _COUNTS,
    "anc": _COUNTS,
    "wbc": _COUNTS,
    "bone_marrow_blasts": {"%": 1.0},
    "bone_marrow_plasma_cells": {"%": 1.0},
    "ferritin": {"ng/mL": 1.0, "ug/L": 1.0, "pmol/L": 1e-6 / _MW_FERRITIN * 1e12},
    "serum_epo": {"mU/mL": 1.0, "mIU/mL": 1.0, "IU/L": 1.0, "U/L": 1.0},
    "inr": {"{INR}": 1.0, "ratio": 1.0, "1": 1.0},
    "beta2_microglobulin": {
        "mg/L": 1.0,
        "ug/mL": 1.0,
        "mg/dL": 0.1,
        "ug/L": 1000.0,
        "ng/mL": 1000.0,
    },
    "serum_m_protein": {"g/dL": 1.0, "g/L": 10.0, "mg/dL": 1000.0},
    "kappa_flc": _FLC,
    "lambda_flc": _FLC,
    "flc_ratio": {"ratio": 1.0, "{ratio}": 1.0, "1": 1.0},
    "calcium": {
        "mg/dL": 1.0,
        "mg/L": 10.0,
        "mmol/L": _mass_conc_to_molar(1, _MW_CALCIUM, 1e3),
        "mEq/L": 2 * _mass_conc_to_molar(1, _MW_CALCIUM, 1e3),
    },
    "bhcg": {"mIU/mL": 1.0, "IU/L": 1.0, "mU/mL": 1.0, "U/L": 1.0},
    "lvef": {"%": 1.0, "percent": 1.0},
    "dlco": _PERCENT_PREDICTED,
    "fev1": _PERCENT_PREDICTED,
    "fvc": _PERCENT_PREDICTED,
    "weight": {
        "kg": 1.0,
        "kgs": 1.0,
        "kilogram": 1.0,
        "kilograms": 1.0,
        "g": 1000.0,
        "lb": 1 / _LB_IN_KG,
        "lbs": 1 / _LB_IN_KG,
        "pounds": 1 / _LB_IN_KG,
    },
    "height": {
        "cm": 1.0,
        "centimetres": 1.0,
        "centimeters": 1.0,
        "m": 0.01,
        "mm": 10.0,
        "in": 1 / _INCH_IN_CM,
        "inches": 1 / _INCH_IN_CM,
    },
}


def test_every_lab_and_unit_has_an_independent_expected_factor(vocab: Vocabulary) -> None:
    shipped = {lab_id: set(lab.units) for lab_id, lab in vocab.labs.items()}
    expected = {lab_id: set(units) for lab_id, units in EXPECTED_FACTORS.items()}
    assert shipped == expected


@pytest.mark.parametrize(
    ("lab_id", "unit", "factor"),
    [(lab, unit, f) for lab, units in EXPECTED_FACTORS.items() for unit, f in units.items()],
)
def test_conversion_factor(vocab: Vocabulary, lab_id: str, unit: str, factor: float) -> None:
    got = vocab.lab_factor(lab_id, unit)
    assert got is not None
    assert got == pytest.approx(factor, rel=1e-3)


def test_every_canonical_unit_has_factor_one(vocab: Vocabulary) -> None:
    for lab_id, lab in vocab.labs.items():
        assert vocab.lab_factor(lab_id, lab.unit) == 1, lab_id


@pytest.mark.parametrize(
    ("lab_id", "value", "unit", "to_unit", "expected", "tolerance"),
    [
        ("creatinine", 221.0, "umol/L", "mg/dL", 2.5, 0.01),
        ("creatinine", 1.0, "mg/dL", "umol/L", 88.4, 0.1),
        ("creatinine", 0.0884, "mmol/L", "mg/dL", 1.0, 0.001),
        ("bilirubin_total", 34.2, "umol/L", "mg/dL", 2.0, 0.01),
        ("bilirubin_direct", 17.1, "umol/L", "mg/dL", 1.0, 0.01),
        ("hemoglobin", 100.0, "g/L", "g/dL", 10.0, 1e-9),
        ("hemoglobin", 6.206, "mmol/L", "g/dL", 10.0, 0.01),
        ("creatinine_clearance", 1.0, "mL/s", "mL/min", 60.0, 0.01),
        ("creatinine_clearance", 3.6, "L/h", "mL/min", 60.0, 0.01),
        ("ast", 1.0, "ukat/L", "U/L", 60.0, 0.01),
        ("alt", 0.5, "ukat/L", "U/L", 30.0, 0.01),
        ("platelets", 100_000.0, "/uL", "10*9/L", 100.0, 1e-9),
        ("anc", 1.5, "10^9/L", "/uL", 1500.0, 1e-9),
        ("calcium", 2.5, "mmol/L", "mg/dL", 10.02, 0.01),
        ("kappa_flc", 10.0, "mg/dL", "mg/L", 100.0, 1e-9),
        ("beta2_microglobulin", 0.55, "mg/dL", "mg/L", 5.5, 1e-9),
        ("serum_m_protein", 30.0, "g/L", "g/dL", 3.0, 1e-9),
        ("egfr", 0.5, "mL/s/1.73m2", "mL/min/1.73m2", 30.0, 0.01),
        ("weight", 154.3236, "lb", "kg", 70.0, 0.01),
        ("height", 70.0, "in", "cm", 177.8, 0.01),
    ],
)
def test_convert(
    vocab: Vocabulary,
    lab_id: str,
    value: float,
    unit: str,
    to_unit: str,
    expected: float,
    tolerance: float,
) -> None:
    got = vocab.convert(lab_id, value, unit, to_unit)
    assert got is not None
    assert math.isclose(got, expected, abs_tol=tolerance)


@pytest.mark.parametrize(
    ("lab_id", "unit"),
    [
        ("creatinine", "g/furlong"),
        ("creatinine", "mL/min"),
        ("hemoglobin", "%"),
        ("egfr", "mL/min"),  # absolute clearance is not eGFR per 1.73 m2
        ("platelets", "g/L x"),
    ],
)
def test_unknown_unit_gives_none(vocab: Vocabulary, lab_id: str, unit: str) -> None:
    assert vocab.lab_factor(lab_id, unit) is None
    assert vocab.convert(lab_id, 1.0, unit, vocab.labs[lab_id].unit) is None
    assert vocab.convert(lab_id, 1.0, vocab.labs[lab_id].unit, unit) is None


@pytest.mark.parametrize(
    "spelling",
    [
        "umol/L",
        "umol/l",
        "UMOL/L",
        "\u00b5mol/L",  # MICRO SIGN
        "\u03bcmol/L",  # GREEK SMALL LETTER MU
        "\u00b5mol / l",
        "mcmol/L",
    ],
)
def test_micromolar_spellings(vocab: Vocabulary, spelling: str) -> None:
    assert vocab.lab_factor("creatinine", spelling) == pytest.approx(88.4)
    assert vocab.convert("creatinine", 221.0, spelling, "mg/dL") == pytest.approx(2.5, abs=0.01)


@pytest.mark.parametrize("spelling", ["10*9/L", "10^9/L", "10^9/l", "x10^9/L", "10 * 9 / L"])
def test_count_spellings(vocab: Vocabulary, spelling: str) -> None:
    assert vocab.lab_factor("platelets", spelling) == 1


# Spellings people write, each naming the lab's canonical unit (factor 1). Some are listed in
# labs.yaml; the others must already fold onto a listed unit (case, spaces, micro signs).
@pytest.mark.parametrize(
    ("lab_id", "spelling"),
    [
        ("creatinine", "mg/dl"),
        ("creatinine", "MG/DL"),
        ("bilirubin_total", "mg/dl"),
        ("bilirubin_direct", "mg/dl"),
        ("ast", "U/l"),
        ("ast", "IU/l"),
        ("ast", "units/L"),
        ("ast", "Units/l"),
        ("alt", "U/l"),
        ("alt", "IU/l"),
        ("alt", "units/L"),
        ("alp", "units/L"),
        ("ldh", "units/L"),
        ("creatinine_clearance", "ml/min"),
        ("creatinine_clearance", "mL/minute"),
        ("creatinine_clearance", "ml/minute"),
        ("egfr", "mL/min/1.73 m2"),
        ("egfr", "ml/min/1.73m^2"),
        ("egfr", "mL/min per 1.73 m2"),
        ("lvef", "percent"),
        ("lvef", "Percent"),
        ("weight", "kilograms"),
        ("weight", "kilogram"),
        ("weight", "kgs"),
        ("weight", "KG"),
        ("height", "centimetres"),
        ("height", "centimeters"),
        *[
            (lab, spelling)
            for lab in ("dlco", "fev1", "fvc")
            for spelling in (
                "%",
                "% predicted",
                "%predicted",
                "% pred",
                "%pred",
                "% of predicted",
                "percent predicted",
                "Percent Predicted",
                "percent of predicted",
            )
        ],
    ],
)
def test_spellings_of_the_canonical_unit(vocab: Vocabulary, lab_id: str, spelling: str) -> None:
    assert vocab.lab_factor(lab_id, spelling) == 1
    assert vocab.convert(lab_id, 42.0, spelling, vocab.labs[lab_id].unit) == 42.0


@pytest.mark.parametrize(
    ("lab_id", "spelling", "value", "canonical_value"),
    [
        # 1 mg/dL creatinine = 10 g/L / 113.12 g/mol = 88.4 umol/L
        ("creatinine", "micromol/L", 221.0, 221.0 / _mass_conc_to_molar(1, _MW_CREATININE, 1e6)),
        ("creatinine", "µmol/l", 221.0, 221.0 / _mass_conc_to_molar(1, _MW_CREATININE, 1e6)),
        ("creatinine", "Micromol/l", 88.4, 88.4 / _mass_conc_to_molar(1, _MW_CREATININE, 1e6)),
        ("bilirubin_total", "micromol/L", 34.2, 34.2 / _mass_conc_to_molar(1, _MW_BILIRUBIN, 1e6)),
        ("bilirubin_total", "µmol/l", 34.2, 34.2 / _mass_conc_to_molar(1, _MW_BILIRUBIN, 1e6)),
        ("bilirubin_direct", "micromol/L", 17.1, 17.1 / _mass_conc_to_molar(1, _MW_BILIRUBIN, 1e6)),
        ("weight", "pounds", 154.3236, 154.3236 * _LB_IN_KG),
        ("height", "inches", 70.0, 70.0 * _INCH_IN_CM),
    ],
)
def test_other_spellings_convert(
    vocab: Vocabulary, lab_id: str, spelling: str, value: float, canonical_value: float
) -> None:
    got = vocab.convert(lab_id, value, spelling, vocab.labs[lab_id].unit)
    assert got == pytest.approx(canonical_value, rel=1e-3)


@pytest.mark.parametrize(
    ("lab_id", "unit"),
    [
        # eGFR units are per 1.73 m2 of body surface: not an absolute clearance.
        ("creatinine_clearance", "mL/min/1.73m2"),
        ("creatinine_clearance", "mL/min per 1.73m2"),
        ("fev1", "L"),  # the absolute volume is not the % predicted lab
        ("fvc", "mL"),
        ("lvef", "% predicted"),  # an ejection fraction is not a percentage of predicted
        ("weight", "stone"),
    ],
)
def test_units_that_mean_something_else_are_not_accepted(
    vocab: Vocabulary, lab_id: str, unit: str
) -> None:
    assert vocab.lab_factor(lab_id, unit) is None


def test_unit_spellings_within_a_lab_are_distinct(vocab: Vocabulary) -> None:
    for lab_id, lab in vocab.labs.items():
        folded = [normalise_unit(u) for u in lab.units]
        assert len(folded) == len(set(folded)), lab_id


# -------------------------------------------------------------------------------------------------
# LOINC codes

EXPECTED_LOINC = {
    "creatinine": "2160-0",
    "creatinine_clearance": "2164-2",
    "egfr": "98979-8",
    "ast": "1920-8",
    "alt": "1742-6",
    "alp": "6768-6",
    "ldh": "2532-0",
    "bilirubin_total": "1975-2",
    "bilirubin_direct": "1968-7",
    "albumin": "1751-7",
    "hemoglobin": "718-7",
    "platelets": "777-3",
    "anc": "751-8",
    "wbc": "6690-2",
    "beta2_microglobulin": "1952-1",
    "serum_m_protein": "33358-3",
    "kappa_flc": "36916-5",
    "lambda_flc": "33944-0",
    "flc_ratio": "48378-4",
    "bhcg": "21198-7",
    "lvef": "10230-1",
    "dlco": "98130-8",
    "fev1": "20152-5",
    "fvc": "19872-1",
    "weight": "29463-7",
    "height": "8302-2",
}


@pytest.mark.parametrize(("lab_id", "loinc"), sorted(EXPECTED_LOINC.items()))
def test_expected_loinc(vocab: Vocabulary, lab_id: str, loinc: str) -> None:
    assert vocab.labs[lab_id].loinc == loinc
    assert vocab.lab_id(loinc) == lab_id


def test_every_loinc_code_resolves_to_its_lab(vocab: Vocabulary) -> None:
    for lab_id, lab in vocab.labs.items():
        if lab.loinc is not None:
            assert vocab.lab_id(lab.loinc) == lab_id


def test_loinc_codes_are_well_formed(vocab: Vocabulary) -> None:
    for lab in vocab.labs.values():
        if lab.loinc is None:
            continue
        body, _, check = lab.loinc.partition("-")
        assert body.isdigit() and check.isdigit() and len(check) == 1, lab.loinc
        # LOINC check digit: Mod 10 (Luhn-style) over the code body.
        digits = [int(c) for c in body]
        total = 0
        for i, d in enumerate(reversed(digits)):
            if i % 2 == 0:
                d *= 2
                d = d - 9 if d > 9 else d
            total += d
        assert (10 - total % 10) % 10 == int(check), lab.loinc


def test_absolute_dlco_code_is_not_the_percent_predicted_lab(vocab: Vocabulary) -> None:
    # 19911-7 is DLCO in mL/min/mmHg, not % predicted.
    assert vocab.lab_id("19911-7") is None


@pytest.mark.parametrize(
    ("term", "lab_id"),
    [
        ("FEV1", "fev1"),
        ("FEV1 % predicted", "fev1"),
        ("forced expiratory volume in 1 second", "fev1"),
        ("FVC", "fvc"),
        ("FVC % predicted", "fvc"),
        ("forced vital capacity", "fvc"),
        ("DLCO % predicted", "dlco"),
    ],
)
def test_spirometry_labs(vocab: Vocabulary, term: str, lab_id: str) -> None:
    assert vocab.lab_id(term) == lab_id
    assert vocab.labs[lab_id].unit == "%"


def test_alternative_codes_and_names(vocab: Vocabulary) -> None:
    assert vocab.lab_id("62238-1") == "egfr"  # CKD-EPI 2009
    assert vocab.lab_id("35591-7") == "creatinine_clearance"  # Cockcroft-Gault
    assert vocab.lab_id("Hgb") == "hemoglobin"
    assert vocab.lab_id("beta-hCG") == "bhcg"
    assert vocab.lab_id("serum pregnancy test") == "bhcg"
    assert vocab.lab_id("bone marrow blasts") == "bone_marrow_blasts"
    assert vocab.lab_id("M-spike") == "serum_m_protein"


# -------------------------------------------------------------------------------------------------
# Conditions


@pytest.mark.parametrize(
    "term",
    [
        "multiple myeloma",
        "plasma cell myeloma",
        "myeloma",
        "MM",
        "C90.00",
        "c90.01",
        "Myelomatosis",
    ],
)
def test_myeloma_terms(vocab: Vocabulary, term: str) -> None:
    assert vocab.condition_id(term) == "multiple_myeloma"


def test_plasma_cell_neoplasms_are_siblings(vocab: Vocabulary) -> None:
    pcl = vocab.condition_id("plasma cell leukaemia")
    assert pcl == "plasma_cell_leukemia"
    assert vocab.condition_id("C90.10") == pcl
    assert not vocab.condition_is_a(pcl, "multiple_myeloma")
    assert vocab.condition_is_a(pcl, "plasma_cell_neoplasm")
    assert vocab.condition_is_a(pcl, "hematologic_malignancy")
    for sibling in ("smoldering_myeloma", "solitary_plasmacytoma", "extramedullary_plasmacytoma"):
        assert vocab.condition_is_a(sibling, "plasma_cell_neoplasm")
        assert not vocab.condition_is_a(sibling, "multiple_myeloma")
    assert vocab.condition_id("smouldering myeloma") == "smoldering_myeloma"
    assert vocab.condition_id("solitary plasmacytoma") == "solitary_plasmacytoma"
    # "myeloma" names multiple myeloma only, so it can never reach plasma cell leukaemia.
    myeloma = vocab.condition_id("myeloma")
    assert myeloma == "multiple_myeloma"
    assert pcl not in vocab.condition_descendants(myeloma)
    assert not vocab.condition_is_a("mgus", "neoplasm")


def test_mds_hierarchy(vocab: Vocabulary) -> None:
    del5q = vocab.condition_id("MDS with isolated del(5q)")
    assert del5q == "mds_del5q"
    assert vocab.condition_id("D46.C") == del5q
    assert vocab.condition_is_a(del5q, "myelodysplastic_syndrome")
    assert vocab.condition_is_a(del5q, "hematologic_malignancy")
    assert vocab.condition_id("preleukemia") == "myelodysplastic_syndrome"
    assert vocab.condition_id("D46.9") == "myelodysplastic_syndrome"
    for code, cid in [
        ("D46.21", "mds_eb1"),
        ("D46.22", "mds_eb2"),
        ("D46.20", "mds_excess_blasts"),
        ("D46.0", "refractory_anemia"),
        ("D46.1", "refractory_anemia_ring_sideroblasts"),
        ("D46.A", "mds_rcmd"),
        ("D46.B", "mds_rcmd_rs"),
    ]:
        assert vocab.condition_id(code) == cid
        assert vocab.condition_is_a(cid, "myelodysplastic_syndrome")
    assert vocab.condition_is_a(vocab.condition_id("RAEB-1"), "mds_excess_blasts")
    assert vocab.condition_is_a(vocab.condition_id("t-MDS"), "myelodysplastic_syndrome")
    # MDS and AML are told apart
    aml = vocab.condition_id("AML")
    assert aml == "acute_myeloid_leukemia"
    assert not vocab.condition_is_a(aml, "myelodysplastic_syndrome")
    assert not vocab.condition_is_a("myelodysplastic_syndrome", "acute_myeloid_leukemia")
    assert vocab.condition_is_a(aml, "myeloid_neoplasm")
    assert not vocab.condition_is_a("cmml", "myelodysplastic_syndrome")


@pytest.mark.parametrize(
    "term",
    [
        "PTCL",
        "PTCL-NOS",
        "C84.40",
        "C84.49",
        "AITL",
        "C86.50",
        "C86.51",
        "C84.4A",
        "C84.7B",
        "peripheral T-cell lymphoma, not otherwise specified",
        "angioimmunoblastic T-cell lymphoma",
        "nodal T follicular helper cell lymphoma, angioimmunoblastic type",
        "nTFHL-F",
        "anaplastic large cell lymphoma, ALK-negative",
        "ALCL",
        "ALK-positive ALCL",
        "C84.70",
        "ENKTL",
        "EATL",
        "HSTCL",
        "mycosis fungoides",
        "Sezary syndrome",
        "CTCL",
        "T-NHL",
        "T cell lymphoma",
    ],
)
def test_t_cell_lymphomas(vocab: Vocabulary, term: str) -> None:
    cid = vocab.condition_id(term)
    assert cid is not None, term
    assert vocab.condition_is_a(cid, "t_cell_lymphoma")
    assert vocab.condition_is_a(cid, "lymphoma")
    assert not vocab.condition_is_a(cid, "b_cell_lymphoma")


@pytest.mark.parametrize(
    "term",
    [
        "DLBCL",
        "C83.30",
        "follicular lymphoma",
        "mantle cell lymphoma",
        "MALT lymphoma",
        "Burkitt lymphoma",
        "PMBCL",
    ],
)
def test_b_cell_lymphomas_are_not_t_cell(vocab: Vocabulary, term: str) -> None:
    cid = vocab.condition_id(term)
    assert cid is not None, term
    assert vocab.condition_is_a(cid, "lymphoma")
    assert vocab.condition_is_a(cid, "b_cell_lymphoma")
    assert not vocab.condition_is_a(cid, "t_cell_lymphoma")


def test_hodgkin_lymphoma(vocab: Vocabulary) -> None:
    hl = vocab.condition_id("Hodgkin's lymphoma")
    assert hl == "hodgkin_lymphoma"
    assert vocab.condition_is_a(hl, "lymphoma")
    assert not vocab.condition_is_a(hl, "non_hodgkin_lymphoma")
    assert vocab.condition_is_a(vocab.condition_id("C81.10"), "hodgkin_lymphoma")


def test_skin_cancer(vocab: Vocabulary) -> None:
    melanoma = vocab.condition_id("melanoma")
    assert not vocab.condition_is_a(melanoma, "non_melanoma_skin_cancer")
    assert vocab.condition_is_a(melanoma, "neoplasm")
    for term in (
        "basal cell carcinoma",
        "BCC",
        "C44.91",
        "cutaneous squamous cell carcinoma",
        "C44.92",
        "Bowen's disease",
    ):
        cid = vocab.condition_id(term)
        assert vocab.condition_is_a(cid, "non_melanoma_skin_cancer"), term
        assert not vocab.condition_is_a(cid, "melanoma"), term


def test_carcinoma_in_situ_and_cin(vocab: Vocabulary) -> None:
    for term in (
        "DCIS",
        "ductal carcinoma in situ",
        "cervical carcinoma in situ",
        "D06.9",
        "bladder CIS",
    ):
        assert vocab.condition_is_a(vocab.condition_id(term), "carcinoma_in_situ"), term
    assert vocab.condition_is_a(vocab.condition_id("CIN 3"), "cin")
    assert vocab.condition_is_a(vocab.condition_id("N87.1"), "cin")
    assert not vocab.condition_is_a("cin", "neoplasm")
    assert not vocab.conditions["cin"].malignant
    assert not vocab.condition_is_a("dcis", "breast_cancer")


def test_prior_malignancy_targets_are_malignant(vocab: Vocabulary) -> None:
    for term in (
        "breast cancer",
        "prostate cancer",
        "colorectal cancer",
        "lung cancer",
        "melanoma",
        "bladder cancer",
        "thyroid cancer",
        "AML",
        "Hodgkin lymphoma",
        "DLBCL",
    ):
        cid = vocab.condition_id(term)
        assert cid is not None, term
        assert vocab.conditions[cid].malignant, term
        assert vocab.condition_is_a(cid, "neoplasm"), term


def test_malignant_flag_agrees_with_the_neoplasm_branch(vocab: Vocabulary) -> None:
    for cid, entry in vocab.conditions.items():
        assert entry.malignant == vocab.condition_is_a(cid, "neoplasm"), cid


@pytest.mark.parametrize(
    ("term", "cid", "ancestor"),
    [
        ("HIV", "hiv", "viral_infection"),
        ("B20", "hiv", "infection"),
        ("B18.1", "hepatitis_b", "viral_hepatitis"),
        ("B16.9", "acute_hepatitis_b", "hepatitis_b"),
        ("B18.2", "hepatitis_c", "liver_disease"),
        ("B17.10", "acute_hepatitis_c", "hepatitis_c"),
        ("heart attack", "myocardial_infarction", "heart_disease"),
        ("I21.9", "myocardial_infarction", "cardiovascular_disease"),
        ("cardiac insufficiency", "heart_failure", "heart_disease"),
        ("I50.9", "heart_failure", "heart_disease"),
        ("E10.9", "type_1_diabetes", "diabetes_mellitus"),
        ("E11.9", "type_2_diabetes", "diabetes_mellitus"),
        ("I10", "hypertension", "cardiovascular_disease"),
        ("D66", "haemophilia_a", "coagulopathy"),
        ("D68.00", "von_willebrand_disease", "coagulopathy"),
        ("E80.4", "gilbert_syndrome", "gilbert_syndrome"),
        ("DVT", "deep_vein_thrombosis", "thromboembolism"),
        ("pulmonary embolism", "pulmonary_embolism", "venous_thromboembolism"),
        ("CKD", "chronic_kidney_disease", "renal_insufficiency"),
        ("COPD", "copd", "pulmonary_disease"),
        ("cirrhosis", "cirrhosis", "liver_disease"),
        ("major depressive disorder", "depression", "psychiatric_disorder"),
        ("AFib", "atrial_fibrillation", "heart_disease"),
        ("hyperlipidemia", "hyperlipidemia", "hyperlipidemia"),
        ("E03.9", "hypothyroidism", "thyroid_disease"),
        ("GERD", "gerd", "gerd"),
        ("osteoarthritis", "osteoarthritis", "osteoarthritis"),
        ("Lapp lactase deficiency", "lapp_lactase_deficiency", "lactose_intolerance"),
        (
            "glucose-galactose malabsorption",
            "glucose_galactose_malabsorption",
            "glucose_galactose_malabsorption",
        ),
    ],
)
def test_comorbidities(vocab: Vocabulary, term: str, cid: str, ancestor: str) -> None:
    assert vocab.condition_id(term) == cid
    assert vocab.condition_is_a(cid, ancestor)


def test_gilbert_is_not_liver_disease(vocab: Vocabulary) -> None:
    assert not vocab.condition_is_a("gilbert_syndrome", "liver_disease")


def test_condition_hierarchy_has_no_cycles(vocab: Vocabulary) -> None:
    for cid in vocab.conditions:
        for parent in vocab.conditions[cid].parents:
            assert cid not in vocab.condition_ancestors(parent), (cid, parent)


def test_ambiguous_abbreviations_are_not_used(vocab: Vocabulary) -> None:
    # "RA" (refractory anaemia / rheumatoid arthritis), "MF" (mycosis fungoides / myelofibrosis)
    # and "MS" (multiple sclerosis / mitral stenosis) would name the wrong condition.
    for term in ("RA", "MF", "MS"):
        assert vocab.condition_id(term) is None, term


# -------------------------------------------------------------------------------------------------
# MDS, plasma cell and T-cell lymphoma subtype names (WHO 2008/2016/2022, ICC 2022)


@pytest.mark.parametrize(
    ("term", "cid", "ancestor"),
    [
        # excess / increased blasts
        ("myelodysplastic syndrome with excess blasts-1", "mds_eb1", "mds_excess_blasts"),
        ("MDS with excess blasts-1", "mds_eb1", "mds_excess_blasts"),
        ("MDS-EB-1", "mds_eb1", "mds_excess_blasts"),
        ("RAEB-1", "mds_eb1", "mds_excess_blasts"),
        ("refractory anaemia with excess blasts-1", "mds_eb1", "mds_excess_blasts"),
        ("refractory anemia with excess blasts-1", "mds_eb1", "mds_excess_blasts"),
        ("MDS with increased blasts-1", "mds_eb1", "mds_excess_blasts"),
        ("myelodysplastic neoplasm with increased blasts-1", "mds_eb1", "mds_excess_blasts"),
        ("MDS-IB1", "mds_eb1", "mds_excess_blasts"),
        ("MDS with excess blasts-2", "mds_eb2", "mds_excess_blasts"),
        ("myelodysplastic syndrome with excess blasts-2", "mds_eb2", "mds_excess_blasts"),
        ("MDS-EB-2", "mds_eb2", "mds_excess_blasts"),
        ("RAEB-2", "mds_eb2", "mds_excess_blasts"),
        ("refractory anaemia with excess blasts-2", "mds_eb2", "mds_excess_blasts"),
        ("MDS with increased blasts-2", "mds_eb2", "mds_excess_blasts"),
        ("MDS-IB2", "mds_eb2", "mds_excess_blasts"),
        ("myelodysplastic syndrome with excess blasts", "mds_excess_blasts", "mds_excess_blasts"),
        ("refractory anaemia with excess blasts", "mds_excess_blasts", "mds_excess_blasts"),
        ("RAEB", "mds_excess_blasts", "mds_excess_blasts"),
        ("MDS with increased blasts", "mds_excess_blasts", "mds_excess_blasts"),
        ("MDS/AML", "mds_aml", "mds_eb2"),
        ("myelodysplastic syndrome/acute myeloid leukaemia", "mds_aml", "mds_eb2"),
        # del(5q)
        ("MDS with isolated del(5q)", "mds_del5q", "mds_del5q"),
        ("myelodysplastic syndrome with isolated del(5q)", "mds_del5q", "mds_del5q"),
        (
            "myelodysplastic neoplasm with low blasts and isolated 5q deletion",
            "mds_del5q",
            "mds_del5q",
        ),
        ("MDS with low blasts and isolated 5q deletion", "mds_del5q", "mds_del5q"),
        ("MDS-5q", "mds_del5q", "mds_del5q"),
        ("MDS with del(5q)", "mds_del5q", "mds_del5q"),
        # dysplasia lineages and ring sideroblasts
        ("MDS with multilineage dysplasia", "mds_rcmd", "mds_rcmd"),
        ("myelodysplastic syndrome with multilineage dysplasia", "mds_rcmd", "mds_rcmd"),
        ("MDS-MLD", "mds_rcmd", "mds_rcmd"),
        ("RCMD", "mds_rcmd", "mds_rcmd"),
        ("MDS with single lineage dysplasia", "mds_sld", "mds_sld"),
        ("myelodysplastic syndrome with single lineage dysplasia", "mds_sld", "mds_sld"),
        ("MDS-SLD", "mds_sld", "mds_sld"),
        ("RCUD", "mds_sld", "mds_sld"),
        ("refractory cytopenia with unilineage dysplasia", "mds_sld", "mds_sld"),
        ("MDS with ring sideroblasts and multilineage dysplasia", "mds_rcmd_rs", "mds_rcmd"),
        ("MDS-RS-MLD", "mds_rcmd_rs", "mds_ring_sideroblasts"),
        (
            "MDS with ring sideroblasts and single lineage dysplasia",
            "refractory_anemia_ring_sideroblasts",
            "mds_ring_sideroblasts",
        ),
        ("MDS-RS-SLD", "refractory_anemia_ring_sideroblasts", "mds_ring_sideroblasts"),
        # unclassifiable
        ("MDS, unclassifiable", "mds_unclassifiable", "mds_unclassifiable"),
        ("myelodysplastic syndrome, unclassifiable", "mds_unclassifiable", "mds_unclassifiable"),
        ("MDS, unclassified", "mds_unclassifiable", "mds_unclassifiable"),
        ("MDS-U", "mds_unclassifiable", "mds_unclassifiable"),
        # WHO 2022 and ICC 2022 entities
        ("MDS with low blasts", "mds_low_blasts", "mds_low_blasts"),
        ("myelodysplastic neoplasm with low blasts", "mds_low_blasts", "mds_low_blasts"),
        ("MDS-LB", "mds_low_blasts", "mds_low_blasts"),
        ("hypoplastic MDS", "mds_hypoplastic", "mds_hypoplastic"),
        ("MDS, hypoplastic", "mds_hypoplastic", "mds_hypoplastic"),
        ("MDS-h", "mds_hypoplastic", "mds_hypoplastic"),
        ("MDS with biallelic TP53 inactivation", "mds_biallelic_tp53", "mds_biallelic_tp53"),
        ("MDS-biTP53", "mds_biallelic_tp53", "mds_biallelic_tp53"),
        ("MDS with low blasts and SF3B1 mutation", "mds_sf3b1", "mds_sf3b1"),
        ("myelodysplastic neoplasm with low blasts and SF3B1 mutation", "mds_sf3b1", "mds_sf3b1"),
        ("MDS with mutated SF3B1", "mds_sf3b1", "mds_sf3b1"),
    ],
)
def test_mds_subtype_names(vocab: Vocabulary, term: str, cid: str, ancestor: str) -> None:
    assert vocab.condition_id(term) == cid
    assert vocab.condition_is_a(cid, ancestor)
    assert vocab.condition_is_a(cid, "myelodysplastic_syndrome")
    assert not vocab.condition_is_a(cid, "acute_myeloid_leukemia")
    assert vocab.conditions[cid].malignant


def test_mds_subtypes_that_are_not_kinds_of_each_other(vocab: Vocabulary) -> None:
    # MDS-SLD is not the ring sideroblast type, and FAB "refractory anaemia" is not MDS-SLD.
    assert not vocab.condition_is_a("mds_sld", "refractory_anemia")
    assert not vocab.condition_is_a("refractory_anemia", "mds_sld")
    assert not vocab.condition_is_a("refractory_anemia_ring_sideroblasts", "mds_sld")
    # WHO 2022 MDS-LB is not assumed to contain the older dysplasia-based types.
    for cid in ("mds_sld", "mds_rcmd", "mds_del5q", "mds_sf3b1", "mds_excess_blasts"):
        assert not vocab.condition_is_a(cid, "mds_low_blasts"), cid
    assert not vocab.condition_is_a("mds_aml", "acute_myeloid_leukemia")
    assert vocab.condition_id("MDS with mutated TP53") is None  # ICC, narrower than MDS-biTP53


@pytest.mark.parametrize(
    ("term", "cid"),
    [
        ("plasma cell myeloma", "multiple_myeloma"),
        ("smouldering plasma cell myeloma", "smoldering_myeloma"),
        ("smoldering plasma cell myeloma", "smoldering_myeloma"),
        ("extraosseous plasmacytoma", "extramedullary_plasmacytoma"),
        ("solitary plasmacytoma of bone", "solitary_plasmacytoma"),
        ("plasma cell leukaemia", "plasma_cell_leukemia"),
    ],
)
def test_plasma_cell_neoplasm_names(vocab: Vocabulary, term: str, cid: str) -> None:
    assert vocab.condition_id(term) == cid
    assert vocab.condition_is_a(cid, "plasma_cell_neoplasm")


@pytest.mark.parametrize(
    ("term", "cid", "ancestor"),
    [
        ("peripheral T-cell lymphoma, not otherwise specified", "ptcl_nos", "ptcl_nos"),
        ("peripheral T-cell lymphoma not otherwise specified", "ptcl_nos", "ptcl_nos"),
        ("peripheral T-cell lymphoma NOS", "ptcl_nos", "ptcl_nos"),
        ("PTCL-NOS", "ptcl_nos", "ptcl_nos"),
        ("angioimmunoblastic T-cell lymphoma", "aitl", "nodal_tfh_lymphoma"),
        (
            "nodal T follicular helper cell lymphoma, angioimmunoblastic type",
            "aitl",
            "nodal_tfh_lymphoma",
        ),
        (
            "follicular helper T-cell lymphoma, angioimmunoblastic type",
            "aitl",
            "nodal_tfh_lymphoma",
        ),
        ("nTFHL-AI", "aitl", "nodal_tfh_lymphoma"),
        ("nodal T-follicular helper cell lymphoma", "nodal_tfh_lymphoma", "nodal_tfh_lymphoma"),
        ("nTFHL-F", "nodal_tfh_lymphoma_follicular", "nodal_tfh_lymphoma"),
        ("follicular T-cell lymphoma", "nodal_tfh_lymphoma_follicular", "nodal_tfh_lymphoma"),
        ("nTFHL-NOS", "nodal_tfh_lymphoma_nos", "nodal_tfh_lymphoma"),
        ("nodal PTCL with TFH phenotype", "nodal_tfh_lymphoma_nos", "nodal_tfh_lymphoma"),
        ("anaplastic large cell lymphoma, ALK-negative", "alcl_alk_negative", "alcl"),
        ("ALCL, ALK-negative", "alcl_alk_negative", "alcl"),
        ("ALK-negative ALCL", "alcl_alk_negative", "alcl"),
        ("anaplastic large cell lymphoma, ALK-positive", "alcl_alk_positive", "alcl"),
        ("ALCL, ALK-positive", "alcl_alk_positive", "alcl"),
    ],
)
def test_t_cell_lymphoma_subtype_names(
    vocab: Vocabulary, term: str, cid: str, ancestor: str
) -> None:
    assert vocab.condition_id(term) == cid
    assert vocab.condition_is_a(cid, ancestor)
    assert vocab.condition_is_a(cid, "t_cell_lymphoma")
    assert not vocab.condition_is_a(cid, "b_cell_lymphoma")


def test_tfh_lymphomas_are_not_ptcl_nos(vocab: Vocabulary) -> None:
    for cid in ("aitl", "nodal_tfh_lymphoma_follicular", "nodal_tfh_lymphoma_nos"):
        assert not vocab.condition_is_a(cid, "ptcl_nos"), cid


# -------------------------------------------------------------------------------------------------
# Dialysis and renal failure


@pytest.mark.parametrize(
    ("term", "cid"),
    [
        ("dialysis", "dialysis_dependence"),
        ("Dialysis dependence", "dialysis_dependence"),
        ("on dialysis", "dialysis_dependence"),
        ("dialysis-dependent", "dialysis_dependence"),
        ("renal replacement therapy", "dialysis_dependence"),
        ("dependence on renal dialysis", "dialysis_dependence"),
        ("Z99.2", "dialysis_dependence"),
        ("haemodialysis", "haemodialysis_dependence"),
        ("hemodialysis", "haemodialysis_dependence"),
        ("on haemodialysis", "haemodialysis_dependence"),
        ("peritoneal dialysis", "peritoneal_dialysis_dependence"),
    ],
)
def test_dialysis_terms(vocab: Vocabulary, term: str, cid: str) -> None:
    assert vocab.condition_id(term) == cid
    assert vocab.condition_is_a(cid, "dialysis_dependence")
    assert vocab.condition_is_a(cid, "renal_insufficiency")
    assert vocab.condition_is_a(cid, "renal_disease")
    # Dialysis may be for acute kidney injury: not necessarily end-stage or chronic disease.
    assert not vocab.condition_is_a(cid, "end_stage_renal_disease")
    assert not vocab.condition_is_a(cid, "chronic_kidney_disease")
    assert not vocab.conditions[cid].malignant


def test_end_stage_renal_disease(vocab: Vocabulary) -> None:
    assert vocab.condition_id("N18.6") == "end_stage_renal_disease"
    assert vocab.condition_id("ESRD") == "end_stage_renal_disease"
    assert vocab.condition_is_a("end_stage_renal_disease", "chronic_kidney_disease")
    assert vocab.condition_is_a("end_stage_renal_disease", "renal_insufficiency")
    assert not vocab.condition_is_a("end_stage_renal_disease", "dialysis_dependence")


# -------------------------------------------------------------------------------------------------
# ICD-10-CM: every code is a real, billable code of the official code set


@pytest.fixture(scope="module")
def icd() -> ModuleType:
    # The package reads its data with a deprecated importlib.resources call at import time.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm

    return simple_icd_10_cm


def test_icd10cm_code_set_tells_billable_codes_from_headers(icd: ModuleType) -> None:
    # The checks below rely on these answers of the package.
    assert icd.is_valid_item("D46.9") and icd.is_leaf("D46.9")
    assert icd.is_valid_item("D46") and not icd.is_leaf("D46")  # category header
    assert icd.is_valid_item("C86.5") and not icd.is_leaf("C86.5")  # split into C86.50/C86.51
    assert icd.is_valid_item("C81-C96") and not icd.is_leaf("C81-C96")  # block
    assert not icd.is_valid_item("Z22.51")
    assert not icd.is_valid_item("I51.6")  # WHO ICD-10 only
    assert icd.add_dot("D469") == "D46.9" and icd.add_dot("C61") == "C61"


def test_every_icd10cm_code_is_a_billable_code(vocab: Vocabulary, icd: ModuleType) -> None:
    problems: list[str] = []
    for cid, entry in vocab.conditions.items():
        for code in entry.icd10cm:
            if not icd.is_valid_item(code):
                problems.append(f"{cid}: {code} is not an ICD-10-CM code")
            elif not icd.is_leaf(code):
                problems.append(f"{cid}: {code} is a category header, not a billable code")
            elif icd.add_dot(code) != code:
                problems.append(f"{cid}: {code} should be written {icd.add_dot(code)}")
    assert problems == []


def test_icd10cm_codes_are_listed_once(vocab: Vocabulary) -> None:
    for cid, entry in vocab.conditions.items():
        assert len(entry.icd10cm) == len(set(entry.icd10cm)), cid


@pytest.mark.parametrize(
    "code",
    ["Z22.51", "Z22.52", "I51.6", "C86.5", "C86.0", "C88.0", "C88.4", "C83.39", "D68.0", "G35"],
)
def test_retired_and_header_codes_do_not_resolve(vocab: Vocabulary, code: str) -> None:
    assert vocab.condition_id(code) is None


@pytest.mark.parametrize(
    ("code", "cid"),
    [
        # "in remission" codes of the lymphomas (5th character A; C84.7B for ALK-negative ALCL)
        ("C81.9A", "hodgkin_lymphoma"),
        ("C81.0A", "nlphl"),
        ("C81.1A", "classical_hodgkin_lymphoma"),
        ("C82.9A", "follicular_lymphoma"),
        ("C83.1A", "mantle_cell_lymphoma"),
        ("C83.3A", "dlbcl"),
        ("C83.7A", "burkitt_lymphoma"),
        ("C84.0A", "mycosis_fungoides"),
        ("C84.1A", "sezary_syndrome"),
        ("C84.4A", "ptcl_nos"),
        ("C84.6A", "alcl_alk_positive"),
        ("C84.7A", "alcl_alk_negative"),  # ALK-negative ALCL of the breast
        ("C84.7B", "alcl_alk_negative"),
        ("C84.9A", "t_cell_lymphoma"),
        ("C84.ZA", "t_cell_lymphoma"),
        ("C84.AA", "cutaneous_t_cell_lymphoma"),
        ("C85.1A", "b_cell_lymphoma"),
        ("C85.2A", "pmbcl"),
        ("C85.9A", "non_hodgkin_lymphoma"),
        # C86.- and C88.-: 0 not in remission, 1 in remission
        ("C86.00", "enktl"),
        ("C86.01", "enktl"),
        ("C86.11", "hstcl"),
        ("C86.21", "eatl"),
        ("C86.31", "sptcl"),
        ("C86.50", "aitl"),
        ("C86.51", "aitl"),
        ("C88.00", "waldenstrom_macroglobulinemia"),
        ("C88.01", "waldenstrom_macroglobulinemia"),
        ("C88.40", "malt_lymphoma"),
        ("C88.41", "malt_lymphoma"),
        # myeloma and leukaemia remission/relapse codes
        ("C90.01", "multiple_myeloma"),
        ("C90.02", "multiple_myeloma"),
        ("C90.11", "plasma_cell_leukemia"),
        ("C92.01", "acute_myeloid_leukemia"),
        ("C93.11", "cmml"),
        # split categories
        ("C83.390", "primary_cns_lymphoma"),
        ("C83.398", "dlbcl"),
        ("D75.829", "heparin_induced_thrombocytopenia"),
        ("D68.01", "von_willebrand_disease"),
        ("D68.020", "von_willebrand_disease"),
        ("G35.D", "multiple_sclerosis"),
        ("G35.A", "multiple_sclerosis"),
        ("B18.0", "hepatitis_b"),
        ("B17.11", "acute_hepatitis_c"),
    ],
)
def test_icd10cm_codes_resolve(vocab: Vocabulary, code: str, cid: str) -> None:
    assert vocab.condition_id(code) == cid


def test_acquired_von_willebrand_is_not_congenital(vocab: Vocabulary) -> None:
    # D68.04 (acquired von Willebrand disease) must not land under congenital coagulopathy.
    cid = vocab.condition_id("D68.04")
    assert cid is None or not vocab.condition_is_a(cid, "congenital_coagulopathy")


# -------------------------------------------------------------------------------------------------
# Drugs, classes and regimens


def _only(ids: frozenset[str] | None) -> str:
    assert ids is not None and len(ids) == 1
    return next(iter(ids))


@pytest.mark.parametrize(
    ("term", "drug", "klass"),
    [
        ("azacitidine", "azacitidine", "hypomethylating_agents"),
        ("Vidaza", "azacitidine", "hypomethylating_agents"),
        ("decitabine", "decitabine", "hypomethylating_agents"),
        ("Dacogen", "decitabine", "hypomethylating_agents"),
        ("filgrastim", "filgrastim", "g_csf"),
        ("filgrastim", "filgrastim", "cytokines"),
        ("Neulasta", "pegfilgrastim", "g_csf"),
        ("lenograstim", "lenograstim", "cytokines"),
        ("epoetin alfa", "epoetin_alfa", "esa"),
        ("epoetin alfa", "epoetin_alfa", "cytokines"),
        ("epoetin beta", "epoetin_beta", "esa"),
        ("Aranesp", "darbepoetin_alfa", "esa"),
        ("lenalidomide", "lenalidomide", "immunomodulatory_drugs"),
        ("Revlimid", "lenalidomide", "immunomodulatory_drugs"),
        ("thalidomide", "thalidomide", "immunomodulatory_drugs"),
        ("pomalidomide", "pomalidomide", "immunomodulatory_drugs"),
        ("aspirin", "aspirin", "antiplatelet_agents"),
        ("clopidogrel", "clopidogrel", "antithrombotic_agents"),
        ("warfarin", "warfarin", "anticoagulants"),
        ("enoxaparin", "enoxaparin", "low_molecular_weight_heparins"),
        ("Fragmin", "dalteparin", "anticoagulants"),
        ("tinzaparin", "tinzaparin", "antithrombotic_agents"),
        ("heparin", "heparin", "heparins"),
        ("Eliquis", "apixaban", "direct_oral_anticoagulants"),
        ("rivaroxaban", "rivaroxaban", "factor_xa_inhibitors"),
        ("Velcade", "bortezomib", "proteasome_inhibitors"),
        ("carfilzomib", "carfilzomib", "proteasome_inhibitors"),
        ("ixazomib", "ixazomib", "proteasome_inhibitors"),
        ("Darzalex", "daratumumab", "anti_cd38_antibodies"),
        ("isatuximab", "isatuximab", "anti_cd38_antibodies"),
        ("elotuzumab", "elotuzumab", "monoclonal_antibodies"),
        ("melphalan", "melphalan", "alkylating_agents"),
        ("cyclophosphamide", "cyclophosphamide", "cytotoxic_chemotherapy"),
        ("dexamethasone", "dexamethasone", "corticosteroids"),
        ("prednisone", "prednisone", "corticosteroids"),
        ("Adriamycin", "doxorubicin", "anthracyclines"),
        ("vincristine", "vincristine", "vinca_alkaloids"),
        ("VP-16", "etoposide", "cytotoxic_chemotherapy"),
        ("cisplatin", "cisplatin", "platinum_agents"),
        ("carboplatin", "carboplatin", "platinum_agents"),
        ("oxaliplatin", "oxaliplatin", "platinum_agents"),
        ("gemcitabine", "gemcitabine", "antimetabolites"),
        ("ifosfamide", "ifosfamide", "alkylating_agents"),
        ("Ara-C", "cytarabine", "antimetabolites"),
        ("romidepsin", "romidepsin", "histone_deacetylase_inhibitors"),
        ("belinostat", "belinostat", "histone_deacetylase_inhibitors"),
        ("pralatrexate", "pralatrexate", "antimetabolites"),
        ("Adcetris", "brentuximab_vedotin", "antibody_drug_conjugates"),
        ("bendamustine", "bendamustine", "alkylating_agents"),
        ("fludarabine", "fludarabine", "purine_analogues"),
        ("busulfan", "busulfan", "alkylating_agents"),
        ("ATG", "antithymocyte_globulin", "immunosuppressants"),
        ("imetelstat", "imetelstat", "telomerase_inhibitors"),
        ("venetoclax", "venetoclax", "bcl2_inhibitors"),
        ("luspatercept", "luspatercept", "erythroid_maturation_agents"),
        ("L-asparaginase", "asparaginase", "antineoplastic"),
        ("Oncaspar", "pegaspargase", "antineoplastic"),
        ("pegaspargase", "pegaspargase", "cytotoxic_chemotherapy"),
    ],
)
def test_drug_classes(vocab: Vocabulary, term: str, drug: str, klass: str) -> None:
    assert _only(vocab.drug_ids(term)) == drug
    assert klass in vocab.drug_classes(drug)
    assert vocab.drug_in(drug, [], [klass])


def test_luspatercept_is_not_an_esa(vocab: Vocabulary) -> None:
    classes = vocab.drug_classes("luspatercept")
    assert "esa" not in classes
    assert "cytokines" not in classes


def test_hypomethylating_agents_are_not_cytotoxic_chemotherapy(vocab: Vocabulary) -> None:
    for drug in ("azacitidine", "decitabine"):
        assert "cytotoxic_chemotherapy" not in vocab.drug_classes(drug)
        assert "antineoplastic" in vocab.drug_classes(drug)


@pytest.mark.parametrize(
    ("term", "klass"),
    [
        ("HMA", "hypomethylating_agents"),
        ("IMiDs", "immunomodulatory_drugs"),
        ("G-CSF", "g_csf"),
        ("ESA", "esa"),
        ("erythropoietin", "esa"),
        ("LMWH", "low_molecular_weight_heparins"),
        ("anticoagulation", "anticoagulants"),
        ("antithrombotic prophylaxis", "antithrombotic_agents"),
        ("anti-CD38 antibodies", "anti_cd38_antibodies"),
        ("HDAC inhibitors", "histone_deacetylase_inhibitors"),
        ("chemotherapy", "cytotoxic_chemotherapy"),
        ("steroids", "corticosteroids"),
    ],
)
def test_class_terms(vocab: Vocabulary, term: str, klass: str) -> None:
    assert vocab.class_id(term) == klass


def test_class_hierarchy(vocab: Vocabulary) -> None:
    assert "antithrombotic_agents" in vocab.class_ancestors("low_molecular_weight_heparins")
    assert "anticoagulants" in vocab.class_ancestors("low_molecular_weight_heparins")
    assert "antithrombotic_agents" in vocab.class_ancestors("antiplatelet_agents")
    assert "cytokines" in vocab.class_ancestors("g_csf")
    assert "cytokines" in vocab.class_ancestors("esa")
    assert "cytokines" not in vocab.class_ancestors("erythroid_maturation_agents")


@pytest.mark.parametrize(
    ("term", "drugs"),
    [
        ("VRd", {"bortezomib", "lenalidomide", "dexamethasone"}),
        ("RVD", {"bortezomib", "lenalidomide", "dexamethasone"}),
        ("Rd", {"lenalidomide", "dexamethasone"}),
        ("VTd", {"bortezomib", "thalidomide", "dexamethasone"}),
        ("VCd", {"bortezomib", "cyclophosphamide", "dexamethasone"}),
        ("CyBorD", {"bortezomib", "cyclophosphamide", "dexamethasone"}),
        ("KRd", {"carfilzomib", "lenalidomide", "dexamethasone"}),
        ("DRd", {"daratumumab", "lenalidomide", "dexamethasone"}),
        ("Dara-VRd", {"daratumumab", "bortezomib", "lenalidomide", "dexamethasone"}),
        ("D-VRd", {"daratumumab", "bortezomib", "lenalidomide", "dexamethasone"}),
        ("CHOP", {"cyclophosphamide", "doxorubicin", "vincristine", "prednisone"}),
        ("CHOEP", {"cyclophosphamide", "doxorubicin", "vincristine", "etoposide", "prednisone"}),
        ("ICE", {"ifosfamide", "carboplatin", "etoposide"}),
        ("DHAP", {"dexamethasone", "cytarabine", "cisplatin"}),
        ("DHAX", {"dexamethasone", "cytarabine", "oxaliplatin"}),
        ("GDP", {"gemcitabine", "dexamethasone", "cisplatin"}),
        ("GemOx", {"gemcitabine", "oxaliplatin"}),
        ("ESHAP", {"etoposide", "methylprednisolone", "cytarabine", "cisplatin"}),
        ("BV-CHP", {"brentuximab_vedotin", "cyclophosphamide", "doxorubicin", "prednisone"}),
        ("A+CHP", {"brentuximab_vedotin", "cyclophosphamide", "doxorubicin", "prednisone"}),
        ("R-CHOP", {"rituximab", "cyclophosphamide", "doxorubicin", "vincristine", "prednisone"}),
        ("Inqovi", {"decitabine", "cedazuridine"}),
        ("oral decitabine", {"decitabine", "cedazuridine"}),
        # myeloma
        ("MP", {"melphalan", "prednisone"}),
        ("melphalan prednisone", {"melphalan", "prednisone"}),
        ("MPT", {"melphalan", "prednisone", "thalidomide"}),
        ("MPR", {"melphalan", "prednisone", "lenalidomide"}),
        ("VMP", {"bortezomib", "melphalan", "prednisone"}),
        ("VAD", {"vincristine", "doxorubicin", "dexamethasone"}),
        ("vincristine adriamycin dexamethasone", {"vincristine", "doxorubicin", "dexamethasone"}),
        ("CTD", {"cyclophosphamide", "thalidomide", "dexamethasone"}),
        ("CTDa", {"cyclophosphamide", "thalidomide", "dexamethasone"}),
        ("PAD", {"bortezomib", "doxorubicin", "dexamethasone"}),
        ("TD", {"thalidomide", "dexamethasone"}),
        ("Thal-Dex", {"thalidomide", "dexamethasone"}),
        ("thalidomide dexamethasone", {"thalidomide", "dexamethasone"}),
        ("RD", {"lenalidomide", "dexamethasone"}),
        ("Len-Dex", {"lenalidomide", "dexamethasone"}),
        ("Rev-Dex", {"lenalidomide", "dexamethasone"}),
        ("lenalidomide and dexamethasone", {"lenalidomide", "dexamethasone"}),
        ("PVd", {"pomalidomide", "bortezomib", "dexamethasone"}),
        ("Pd", {"pomalidomide", "dexamethasone"}),
        ("D-Rd", {"daratumumab", "lenalidomide", "dexamethasone"}),
        ("Dara-Rd", {"daratumumab", "lenalidomide", "dexamethasone"}),
        (
            "carfilzomib lenalidomide dexamethasone",
            {"carfilzomib", "lenalidomide", "dexamethasone"},
        ),
        ("cyborD", {"bortezomib", "cyclophosphamide", "dexamethasone"}),
        # lymphoma
        ("GDP", {"gemcitabine", "dexamethasone", "cisplatin"}),
        ("R-ICE", {"rituximab", "ifosfamide", "carboplatin", "etoposide"}),
        ("SMILE", {"dexamethasone", "methotrexate", "ifosfamide", "asparaginase", "etoposide"}),
        ("P-GemOx", {"pegaspargase", "gemcitabine", "oxaliplatin"}),
        ("DDGP", {"dexamethasone", "cisplatin", "gemcitabine", "pegaspargase"}),
        # MDS / AML
        ("Aza-Ven", {"azacitidine", "venetoclax"}),
        ("Dec-Ven", {"decitabine", "venetoclax"}),
        ("decitabine venetoclax", {"decitabine", "venetoclax"}),
        ("ATG/CsA", {"antithymocyte_globulin", "cyclosporine"}),
        ("ATG + ciclosporin", {"antithymocyte_globulin", "cyclosporine"}),
    ],
)
def test_regimens_expand_to_drugs(vocab: Vocabulary, term: str, drugs: set[str]) -> None:
    assert vocab.drug_ids(term) == frozenset(drugs)
    assert vocab.is_regimen(term)


def test_cybord_is_vcd(vocab: Vocabulary) -> None:
    assert "CyBorD" in vocab.regimens["vcd"].synonyms


def test_regimen_terms_are_not_class_terms(vocab: Vocabulary) -> None:
    regimen_terms = {
        normalise(t) for r in vocab.regimens.values() for t in (r.id, r.name, *r.synonyms)
    }
    class_terms = {
        normalise(t) for c in vocab.classes.values() for t in (c.id, c.name, *c.synonyms)
    }
    assert regimen_terms.isdisjoint(class_terms)


def test_every_regimen_has_several_distinct_drugs(vocab: Vocabulary) -> None:
    for rid, regimen in vocab.regimens.items():
        assert len(regimen.drugs) >= 2, rid
        assert len(set(regimen.drugs)) == len(regimen.drugs), rid


def test_drug_and_regimen_terms_never_collide(vocab: Vocabulary) -> None:
    drug_terms = {normalise(t) for d in vocab.drugs.values() for t in (d.id, d.name, *d.synonyms)}
    regimen_terms = {
        normalise(t) for r in vocab.regimens.values() for t in (r.id, r.name, *r.synonyms)
    }
    assert drug_terms.isdisjoint(regimen_terms)


def test_drug_terms_are_not_class_terms(vocab: Vocabulary) -> None:
    drug_terms = {normalise(t) for d in vocab.drugs.values() for t in (d.id, d.name, *d.synonyms)}
    class_terms = {
        normalise(t) for c in vocab.classes.values() for t in (c.id, c.name, *c.synonyms)
    }
    assert drug_terms.isdisjoint(class_terms)


def test_single_drug_is_not_a_regimen(vocab: Vocabulary) -> None:
    assert vocab.drug_ids("BV") == frozenset({"brentuximab_vedotin"})
    assert vocab.drug_ids("dexamethasone") == frozenset({"dexamethasone"})
    assert vocab.drug_ids("no such drug") is None


def test_class_hierarchy_has_no_cycles(vocab: Vocabulary) -> None:
    for cid, entry in vocab.classes.items():
        for parent in entry.parents:
            assert cid not in vocab.class_ancestors(parent), (cid, parent)


# -------------------------------------------------------------------------------------------------
# Suggestions


@pytest.mark.parametrize(
    ("term", "kind", "expected"),
    [
        ("myelom", "any", "myeloma"),
        ("myelom", "condition", "myeloma"),
        ("lenalidomid", "drug", "lenalidomide"),
        ("creatinin", "lab", "creatinine"),
        ("hypomethylating agnts", "class", "hypomethylating agents"),
    ],
)
def test_suggest(vocab: Vocabulary, term: str, kind: str, expected: str) -> None:
    assert expected in vocab.suggest(term, kind)


def test_suggest_nothing_for_nonsense(vocab: Vocabulary) -> None:
    assert vocab.suggest("qqqqzzzz") == []


# -------------------------------------------------------------------------------------------------
# Broken vocabularies are rejected with a message naming the problem

_DRUGS_OK = """\
classes:
  - id: k
    name: K
drugs:
  - id: d
    name: D
    classes: [k]
"""
_LABS_OK = """\
labs:
  - id: creatinine
    name: Creatinine
    unit: mg/dL
    units: {mg/dL: 1, umol/L: 88.4}
"""
_CONDITIONS_OK = """\
conditions:
  - id: a
    name: A
"""


def _write(
    tmp_path: Path, conditions: str = _CONDITIONS_OK, drugs: str = _DRUGS_OK, labs: str = _LABS_OK
) -> Path:
    (tmp_path / "conditions.yaml").write_text(conditions, encoding="utf-8")
    (tmp_path / "drugs.yaml").write_text(drugs, encoding="utf-8")
    (tmp_path / "labs.yaml").write_text(labs, encoding="utf-8")
    return tmp_path


def test_minimal_vocabulary_loads(tmp_path: Path) -> None:
    v = Vocabulary.load(_write(tmp_path))
    assert v.condition_id("A") == "a"
    assert v.drug_ids("D") == frozenset({"d"})


def test_unknown_parent_is_rejected(tmp_path: Path) -> None:
    conditions = """\
conditions:
  - id: child
    name: Child
    parents: [no_such_parent]
"""
    with pytest.raises(InputError) as info:
        Vocabulary.load(_write(tmp_path, conditions=conditions))
    message = str(info.value)
    assert "unknown parent" in message
    assert "no_such_parent" in message
    assert "child" in message


def test_duplicate_term_is_rejected(tmp_path: Path) -> None:
    conditions = """\
conditions:
  - id: multiple_myeloma
    name: Multiple myeloma
    synonyms: [myeloma]
  - id: plasma_cell_leukemia
    name: Plasma cell leukaemia
    synonyms: [Myeloma]
"""
    with pytest.raises(InputError) as info:
        Vocabulary.load(_write(tmp_path, conditions=conditions))
    message = str(info.value)
    assert "names both" in message
    assert "multiple_myeloma" in message and "plasma_cell_leukemia" in message


def test_duplicate_icd_code_is_rejected(tmp_path: Path) -> None:
    conditions = """\
conditions:
  - id: a
    name: A
    icd10cm: [C90.00]
  - id: b
    name: B
    icd10cm: [c90.00]
"""
    with pytest.raises(InputError, match="names both"):
        Vocabulary.load(_write(tmp_path, conditions=conditions))


def test_unknown_drug_class_and_regimen_drug_are_rejected(tmp_path: Path) -> None:
    drugs = """\
classes:
  - id: k
    name: K
    parents: [no_such_class_parent]
drugs:
  - id: d
    name: D
    classes: [no_such_class]
regimens:
  - id: r
    name: R
    drugs: [d, no_such_drug]
"""
    with pytest.raises(InputError) as info:
        Vocabulary.load(_write(tmp_path, drugs=drugs))
    message = str(info.value)
    assert "no_such_class_parent" in message
    assert "unknown class 'no_such_class'" in message
    assert "unknown drug 'no_such_drug'" in message


def test_missing_canonical_unit_and_bad_factor_are_rejected(tmp_path: Path) -> None:
    labs = """\
labs:
  - id: creatinine
    name: Creatinine
    unit: mg/dL
    units: {umol/L: 88.4}
"""
    with pytest.raises(InputError, match="canonical unit 'mg/dL' missing"):
        Vocabulary.load(_write(tmp_path, labs=labs))
    labs = """\
labs:
  - id: creatinine
    name: Creatinine
    unit: mg/dL
    units: {mg/dL: 1, umol/L: 0}
"""
    with pytest.raises(InputError, match="must be positive"):
        Vocabulary.load(_write(tmp_path, labs=labs))


def test_unknown_field_is_rejected_with_its_location(tmp_path: Path) -> None:
    conditions = """\
conditions:
  - id: a
    name: A
    synonym: [typo]
"""
    with pytest.raises(InputError) as info:
        Vocabulary.load(_write(tmp_path, conditions=conditions))
    problem = info.value.problems[0]
    assert problem.file.endswith("conditions.yaml")
    assert problem.line == 4


def test_compiled_vocabulary_is_current_and_equal_to_the_yaml() -> None:
    """The shipped vocabulary loads from compiled.json only while it matches the YAML files;
    after editing them, run scripts/compile_vocabulary.py (this test says so)."""
    import json
    from importlib import resources

    from trialmatch.io.yamlio import parse_yaml
    from trialmatch.model.vocab import VOCABULARY_FILES, _compiled

    base = resources.files("trialmatch") / "data" / "vocabulary"
    texts = {n: (base / f"{n}.yaml").read_text("utf-8") for n in VOCABULARY_FILES}
    compiled = _compiled(base, texts)
    assert compiled is not None, "run: .venv/bin/python scripts/compile_vocabulary.py"
    for name in VOCABULARY_FILES:
        assert compiled[name] == json.loads(json.dumps(parse_yaml(texts[name], name).data))
        assert compiled[name] == parse_yaml(texts[name], name).data
        # Order matters too (lists of units and synonyms are shown in file order).
        assert json.dumps(compiled[name]) == json.dumps(parse_yaml(texts[name], name).data)
    # A changed source is noticed: the YAML is used instead.
    texts["labs"] += "\n# edited\n"
    assert _compiled(base, texts) is None
