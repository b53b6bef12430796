"""FHIR patients: each resource type and date form, unit variants, what is not imported
(warned with its JSON path), bad bundles (exit 2 with paths, never a traceback), and the
equivalence of a bundle with the patient file `import fhir` writes for it (check and screen)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from trialmatch.errors import InputError
from trialmatch.model.fhir import Imported, load_any_patient, map_bundle, patient_of, read_bundle
from trialmatch.model.patient import load_patient

from .conftest import AS_OF, ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "fhir"
EVERY = FIXTURES / "every-resource.json"
EXAMPLE = ROOT / "examples" / "fhir" / "myeloma-maintenance.json"
DAY = dt.date.fromisoformat(AS_OF)
SCT = "http://snomed.info/sct"
LN = "http://loinc.org"
RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"


def bundle(*resources: dict[str, Any], patient: dict[str, Any] | None = None) -> dict[str, Any]:
    """A bundle of a Patient P1 and ``resources``, entry 0 being the Patient."""
    first = patient or {"resourceType": "Patient", "id": "P1"}
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": r} for r in (first, *resources)]}


def cc(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def obs(loinc: str, **kw: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "status": "final", "code": cc(LN, loinc), **kw}


def qty(value: Any, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}


def mapped(*resources: dict[str, Any], as_of: dt.date | None = DAY, **kw: Any) -> Imported:
    return map_bundle(bundle(*resources, **kw), "b.json", None, as_of)


def warnings(imported: Imported) -> list[str]:
    return [str(n) for n in imported.warnings]


def errors(imported: Imported) -> list[str]:
    return [str(n) for n in imported.errors]


@pytest.fixture(scope="module")
def every() -> Imported:
    return read_bundle(EVERY, DAY)


# --- Patient ------------------------------------------------------------------------------


@pytest.mark.parametrize(("gender", "sex"), [("male", "male"), ("female", "female"),
                                             ("other", "other")])
def test_gender(gender: str, sex: str) -> None:
    p = mapped(patient={"resourceType": "Patient", "id": "P1", "gender": gender}).patient
    assert p["sex"] == sex


def test_unknown_gender_is_not_recorded() -> None:
    got = mapped(patient={"resourceType": "Patient", "id": "P1", "gender": "unknown"})
    assert "sex" not in got.patient
    assert warnings(got) == ["entry[0].resource.gender: gender 'unknown': sex not recorded"]


def test_birth_date_and_a_partial_one() -> None:
    p = mapped(patient={"resourceType": "Patient", "id": "P1", "birthDate": "1951-02-28"})
    assert p.patient["birth_date"] == dt.date(1951, 2, 28)
    partial = mapped(patient={"resourceType": "Patient", "id": "P1", "birthDate": "1951"})
    assert "birth_date" not in partial.patient
    assert warnings(partial) == [
        "entry[0].resource.birthDate: partial date '1951' names no day; age not recorded"]


def test_no_patient_is_an_error() -> None:
    data = {"resourceType": "Bundle", "entry": [{"resource": obs("718-7")}]}
    with pytest.raises(InputError, match=r"b\.json: \(top level\): no Patient resource"):
        map_bundle(data, "b.json")


def test_two_patients_are_an_error() -> None:
    two = bundle({"resourceType": "Patient", "id": "P2"})
    with pytest.raises(InputError, match=r"entry\[1\]\.resource: 2 Patient resources"):
        map_bundle(two, "b.json")


# --- what the full fixture gives -----------------------------------------------------------


def test_every_resource_type_maps(every: Imported) -> None:
    p = every.patient
    assert list(p) == ["id", "birth_date", "sex", "pregnant", "diagnoses", "ecog", "labs",
                       "therapies", "procedures", "disease_status", "conditions",
                       "hypersensitivities"]
    assert p["diagnoses"] == [{"condition": "Myelodysplastic syndrome", "code": "D46.9",
                               "date": dt.date(2023, 3, 2)}]  # onsetPeriod: its start
    assert p["ecog"] == {"value": 1, "date": dt.date(2026, 11, 10)}  # LA9623-5
    assert p["pregnant"] is False
    assert p["disease_status"] == {"response": "SD", "date": dt.date(2026, 10, 1)}
    assert p["procedures"] == {"complete": False, "items": [
        {"type": "allogeneic_sct", "date": dt.date(2025, 5, 2)}]}
    assert p["hypersensitivities"]["items"] == [
        {"agent": "bortezomib", "reaction": "rash", "severity": "moderate",
         "date": dt.date(2024, 4, 1)}]
    assert every.errors == []
    assert patient_of(every, DAY).id == "mds-7"


def test_labs_dates_and_units(every: Imported) -> None:
    labs = {lab["name"]: lab for lab in every.patient["labs"]}
    creat = labs["Serum creatinine"]
    assert (creat["value"], creat["unit"], creat["uln"]) == (97, "umol/L", 90)
    assert creat["date"] == dt.date(2026, 11, 10)  # dateTime +01:00: the day as written
    assert labs["Haemoglobin"]["date"] == dt.date(2026, 11, 9)  # instant
    assert labs["Platelet count"]["date"] == dt.date(2026, 11, 8)  # Period: its end
    assert labs["Platelet count"]["unit"] == "10*9/L"
    assert labs["Aspartate aminotransferase (AST)"]["uln"] == 36.0  # 0.6 ukat/L in U/L
    assert "Absolute neutrophil count" not in labs  # partial date: not imported


def test_therapies(every: Imported) -> None:
    items = every.patient["therapies"]["items"]
    assert every.patient["therapies"]["complete"] is False
    assert items == [
        {"drugs": ["Azacitidine"], "start": dt.date(2024, 1, 8), "end": dt.date(2025, 2, 20)},
        {"drugs": ["Lenalidomide"], "start": dt.date(2025, 3, 1), "ongoing": True},  # a Medication
        {"drugs": ["Filgrastim"], "start": dt.date(2025, 4, 2), "end": dt.date(2025, 4, 2)},
    ]


def test_conditions(every: Imported) -> None:
    assert every.patient["conditions"] == {"complete": False, "items": [
        {"condition": "Hypertension", "status": "resolved", "since": dt.date(2015, 1, 1),
         "until": dt.date(2020, 6, 30)},
        {"condition": "HIV infection", "status": "absent"},  # refuted: ruled out
    ]}


def test_everything_not_imported_is_warned_with_its_path(every: Imported) -> None:
    got = warnings(every)
    expected = [
        "entry[4].resource.verificationStatus: entered in error; condition not imported",
        "entry[5].resource.code.coding[0]: SNOMED CT 1234 is not in the vocabulary; "
        "condition not imported",
        "entry[9].resource.effectiveDateTime: partial date '2026-11' names no day; observation "
        "not imported (it could be after any screening date)",
        "entry[14].resource.code.coding[0]: LOINC 8867-4 is not an observation trialmatch reads",
        "entry[19].resource.status: status 'not-taken': not a therapy given; not imported",
        "entry[21].resource.code: SNOMED CT 234336002 is not a procedure trialmatch reads",
        "entry[24].resource: 1 Encounter resource(s) (entry[24].resource): trialmatch does not "
        "read Encounter; not imported",
        "entry[12].resource: ECOG dated 2026-06-01 is older than the one of 2026-11-10",
    ]
    assert len(got) == len(expected)
    for line, start in zip(got, expected, strict=True):
        assert line.startswith(start), line


def test_a_list_the_bundle_says_nothing_about_stays_not_recorded() -> None:
    p = mapped().patient
    assert p == {"id": "P1"}
    patient = patient_of(mapped())
    for key in ("diagnoses", "labs", "therapies", "procedures", "conditions",
                "hypersensitivities", "prior_malignancies", "ecog", "disease_status"):
        assert getattr(patient, key) is None, key


def test_skipped_resources_leave_the_list_not_recorded() -> None:
    """Only entered-in-error conditions: the problem list is still not recorded."""
    wrong = {"resourceType": "Condition", "code": cc(SCT, "38341003"),
             "verificationStatus": cc("x", "entered-in-error")}
    assert "conditions" not in mapped(wrong).patient


# --- Conditions ----------------------------------------------------------------------------


def test_refuted_cancer_is_not_a_diagnosis() -> None:
    got = mapped({"resourceType": "Condition", "code": cc(ICD, "C90.00"),
                  "verificationStatus": cc("x", "refuted")})
    assert "diagnoses" not in got.patient
    assert warnings(got) == ["entry[1].resource.verificationStatus: Multiple myeloma refuted: "
                             "not a diagnosis; condition not imported"]


@pytest.mark.parametrize("status", ["unconfirmed", "provisional", "differential"])
def test_unconfirmed_is_neither_present_nor_absent(status: str) -> None:
    got = mapped({"resourceType": "Condition", "code": cc(SCT, "86406008"),
                  "verificationStatus": cc("x", status)})
    assert "conditions" not in got.patient
    assert "neither present nor ruled out" in warnings(got)[0]


def test_condition_by_text_only_when_exact() -> None:
    got = mapped({"resourceType": "Condition", "code": {"text": "multiple myeloma"}},
                 {"resourceType": "Condition", "code": {"text": "myelomaa"}})
    assert got.patient["diagnoses"] == [{"condition": "Multiple myeloma"}]
    assert warnings(got) == ["entry[2].resource.code: text 'myelomaa' is not in the vocabulary; "
                             "condition not imported"]


def test_codings_naming_unrelated_conditions_are_not_guessed() -> None:
    code = {"coding": [{"system": ICD, "code": "C90.00"}, {"system": SCT, "code": "109995007"}]}
    got = mapped({"resourceType": "Condition", "code": code})
    assert "diagnoses" not in got.patient
    assert "the codings name different conditions" in warnings(got)[0]


def test_the_more_specific_of_two_codings_wins() -> None:
    code = {"coding": [{"system": SCT, "code": "118600007"}, {"system": SCT, "code": "109977009"}]}
    got = mapped({"resourceType": "Condition", "code": code})
    assert got.patient["diagnoses"][0]["condition"].startswith("Peripheral T-cell lymphoma")


@pytest.mark.parametrize(
    ("onset", "date", "warned"),
    [({"onsetDateTime": "2023-03-02"}, dt.date(2023, 3, 2), None),
     ({"onsetDateTime": "2023-03-02T22:00:00-08:00"}, dt.date(2023, 3, 2), None),
     ({"onsetPeriod": {"end": "2023-04-01"}}, dt.date(2023, 4, 1), None),
     ({"onsetAge": {"value": 67, "unit": "a"}}, None, "onsetAge names no calendar day"),
     ({"onsetString": "spring 2023"}, None, "onsetString names no calendar day"),
     ({"onsetDateTime": "2023-03"}, None, "partial date '2023-03' names no day")],
)
def test_onset_forms(onset: dict[str, Any], date: dt.date | None, warned: str | None) -> None:
    got = mapped({"resourceType": "Condition", "code": cc(ICD, "D46.9"), **onset})
    assert got.patient["diagnoses"][0].get("date") == date
    assert (warned is None) == (not got.warnings)
    if warned:
        assert warned in warnings(got)[0]


def test_inactive_cancer_is_a_diagnosis_with_a_warning() -> None:
    got = mapped({"resourceType": "Condition", "code": cc(ICD, "C90.00"),
                  "clinicalStatus": cc("x", "remission")})
    assert got.patient["diagnoses"] == [{"condition": "Multiple myeloma", "code": "C90.00"}]
    assert "move it to prior_malignancies" in warnings(got)[0]


def test_stage_as_a_risk_score_and_histology_as_a_subtype() -> None:
    histology = {"url": "http://hl7.org/fhir/us/mcode/StructureDefinition/"
                        "mcode-histology-morphology-behavior",
                 "valueCodeableConcept": {"text": "MDS with excess blasts-1"}}
    got = mapped({"resourceType": "Condition", "code": cc(ICD, "D46.9"), "extension": [histology],
                  "stage": [{"summary": {"text": "low"}, "type": {"text": "IPSS-R"}},
                            {"summary": cc(SCT, "1234")}]})
    diag = got.patient["diagnoses"][0]
    assert diag["subtype"] == "MDS with excess blasts-1"
    assert diag["risk_scores"] == [{"system": "IPSS-R", "category": "low"}]
    assert warnings(got) == ["entry[1].resource.stage[1]: a stage without the staging system and "
                             "stage as text; not imported"]


# --- Observations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("effective", "day"),
    [({"effectiveDateTime": "2026-11-10"}, dt.date(2026, 11, 10)),
     ({"effectiveDateTime": "2026-11-10T23:59:00-11:00"}, dt.date(2026, 11, 10)),
     ({"effectiveDateTime": "2026-11-10T00:00:00Z"}, dt.date(2026, 11, 10)),
     ({"effectiveInstant": "2026-11-10T10:11:12.123+05:30"}, dt.date(2026, 11, 10)),
     ({"effectivePeriod": {"start": "2026-11-01", "end": "2026-11-10T12:00:00Z"}},
      dt.date(2026, 11, 10)),
     ({"effectivePeriod": {"start": "2026-11-10"}}, dt.date(2026, 11, 10))],
)
def test_effective_date_forms(effective: dict[str, Any], day: dt.date) -> None:
    got = mapped(obs("718-7", valueQuantity=qty(10.2, "g/dL"), **effective))
    assert got.patient["labs"][0]["date"] == day
    assert got.warnings == []


@pytest.mark.parametrize(
    ("effective", "warned"),
    [({}, "no effective date"),
     ({"effectiveDateTime": "2026"}, "partial date '2026'"),
     ({"effectiveTiming": {"repeat": {}}}, "effectiveTiming names no calendar day"),
     ({"effectivePeriod": {}}, "neither start nor end")],
)
def test_a_result_without_a_day_is_not_imported(effective: dict[str, Any], warned: str) -> None:
    got = mapped(obs("718-7", valueQuantity=qty(10.2, "g/dL"), **effective))
    assert "labs" not in got.patient
    assert warned in warnings(got)[0]


@pytest.mark.parametrize("bad", ["2026-13-01", "10/11/2026", "2026-02-30", "2026-11-10T25:00:00Z"])
def test_an_impossible_date_is_a_resource_error(bad: str) -> None:
    got = mapped(obs("718-7", valueQuantity=qty(10.2, "g/dL"), effectiveDateTime=bad))
    assert "labs" not in got.patient
    assert errors(got)[0].startswith("entry[1].resource.effectiveDateTime: ")
    assert errors(got)[0].endswith("; Observation not imported")


@pytest.mark.parametrize(
    ("loinc", "value", "unit", "canonical"),
    [("2160-0", 221, "umol/L", 2.5), ("2160-0", 2.5, "mg/dL", 2.5),
     ("777-3", 45, "10*9/L", 45), ("777-3", 45000, "/uL", 45), ("751-8", 1.2, "10*3/uL", 1.2),
     ("718-7", 91, "g/L", 9.1), ("1975-2", 34.2, "umol/L", 2.0)],
)
def test_unit_variants_convert(loinc: str, value: float, unit: str, canonical: float) -> None:
    from trialmatch.model.vocab import Vocabulary

    got = mapped(obs(loinc, effectiveDateTime="2026-11-10", valueQuantity=qty(value, unit)))
    lab = got.patient["labs"][0]
    assert (lab["value"], lab["unit"]) == (value, unit)
    v = Vocabulary.default()
    lab_id = v.lab_id(loinc) or ""
    assert v.convert(lab_id, lab["value"], lab["unit"], v.labs[lab_id].unit) == pytest.approx(
        canonical, rel=1e-3)
    assert got.warnings == []


def test_an_unconvertible_unit_is_imported_and_warned() -> None:
    got = mapped(obs("2160-0", effectiveDateTime="2026-11-10", valueQuantity=qty(1, "mg/kg")))
    assert got.patient["labs"][0]["unit"] == "mg/kg"
    assert warnings(got) == ["entry[1].resource.valueQuantity.unit: unit 'mg/kg' is not a unit "
                             "trialmatch converts for creatinine; imported as written (criteria on "
                             "it stay unknown)"]


def test_the_ucum_code_is_preferred_to_the_unit_text() -> None:
    quantity = {"value": 45, "unit": "x10^9 per litre", "system": "http://unitsofmeasure.org",
                "code": "10*9/L"}
    got = mapped(obs("777-3", effectiveDateTime="2026-11-10", valueQuantity=quantity))
    assert got.patient["labs"][0]["unit"] == "10*9/L"


def test_lab_two_values_is_a_resource_error() -> None:
    got = read_bundle(FIXTURES / "lab-two-values.json", DAY)
    assert "labs" not in got.patient
    assert errors(got) == ["entry[1].resource.valueQuantity: value[x] holds one value; found "
                           "valueInteger, valueQuantity; Observation not imported"]


@pytest.mark.parametrize(
    ("value", "message"),
    [({"valueQuantity": qty(-1, "mg/dL")}, "valueQuantity.value: Input should be greater than"),
     ({"valueQuantity": {"value": "1.2", "unit": "mg/dL"}},
      "valueQuantity.value: expected a number, found a string"),
     ({"valueQuantity": {"value": 1.2}}, "valueQuantity: the quantity has no unit")],
)
def test_impossible_lab_values_are_resource_errors(value: dict[str, Any], message: str) -> None:
    got = mapped(obs("2160-0", effectiveDateTime="2026-11-10", **value))
    assert "labs" not in got.patient
    assert errors(got)[0].startswith("entry[1].resource." + message), errors(got)


def test_a_comparator_result_is_not_a_value() -> None:
    quantity = {**qty(0.5, "mg/dL"), "comparator": "<"}
    got = mapped(obs("1975-2", effectiveDateTime="2026-11-10", valueQuantity=quantity))
    assert "labs" not in got.patient
    assert "given as '<' a value is not a value" in warnings(got)[0]


@pytest.mark.parametrize("status", ["preliminary", "registered", "cancelled", "entered-in-error"])
def test_results_that_are_not_final_are_not_imported(status: str) -> None:
    got = mapped({**obs("718-7", effectiveDateTime="2026-11-10", valueQuantity=qty(9, "g/dL")),
                  "status": status})
    assert "labs" not in got.patient
    assert f"status {status!r}: not a final result" in warnings(got)[0]


@pytest.mark.parametrize(
    "value",
    [{"valueInteger": 2}, {"valueCodeableConcept": cc(LN, "LA9624-3")},
     {"valueCodeableConcept": cc(SCT, "422894000")}],
)
def test_ecog_forms(value: dict[str, Any]) -> None:
    got = mapped(obs("89247-1", effectiveDateTime="2026-11-10", **value))
    assert got.patient["ecog"] == {"value": 2, "date": dt.date(2026, 11, 10)}


@pytest.mark.parametrize(
    ("value", "message"),
    [({"valueInteger": -1}, "valueInteger: ECOG must be 0 to 5, got -1"),
     ({"valueInteger": 7}, "valueInteger: ECOG must be 0 to 5, got 7"),
     ({"valueInteger": 1.5}, "valueInteger: ECOG is a whole number 0 to 5"),
     ({"valueInteger": "1"}, "valueInteger: ECOG is a whole number 0 to 5"),
     ({"valueCodeableConcept": cc(LN, "LA0000-0")},
      "valueCodeableConcept: LOINC LA0000-0 is not a ECOG answer trialmatch knows")],
)
def test_impossible_ecog_is_a_resource_error(value: dict[str, Any], message: str) -> None:
    got = mapped(obs("89247-1", effectiveDateTime="2026-11-10", **value))
    assert "ecog" not in got.patient
    assert errors(got) == [f"entry[1].resource.{message}; Observation not imported"]


def test_ecog_after_the_screening_date_is_not_used() -> None:
    later = obs("89247-1", effectiveDateTime="2026-12-01", valueInteger=3)
    earlier = obs("89247-1", effectiveDateTime="2026-11-01", valueInteger=1)
    got = mapped(later, earlier)
    assert got.patient["ecog"] == {"value": 1, "date": dt.date(2026, 11, 1)}
    assert warnings(got) == ["entry[1].resource: ECOG dated 2026-12-01, after the screening date "
                             "2026-11-21; not used"]
    assert mapped(later, earlier, as_of=None).patient["ecog"]["value"] == 3  # import: the latest


def test_two_ecog_values_on_one_day_are_not_guessed() -> None:
    got = mapped(obs("89247-1", effectiveDateTime="2026-11-01", valueInteger=1),
                 obs("89247-1", effectiveDateTime="2026-11-01", valueInteger=2))
    assert "ecog" not in got.patient
    assert len(got.warnings) == 2 and "recorded with different values" in warnings(got)[0]


@pytest.mark.parametrize(
    ("code", "pregnant"),
    [((SCT, "77386006"), True), ((SCT, "60001007"), False), ((LN, "LA15173-0"), True),
     ((LN, "LA26683-5"), False)],
)
def test_pregnancy_status(code: tuple[str, str], pregnant: bool) -> None:
    got = mapped(obs("82810-3", effectiveDateTime="2026-11-10", valueCodeableConcept=cc(*code)))
    assert got.patient["pregnant"] is pregnant


def test_pregnancy_unknown_is_not_recorded() -> None:
    got = mapped(obs("82810-3", effectiveDateTime="2026-11-10",
                     valueCodeableConcept=cc(SCT, "261665006")))
    assert "pregnant" not in got.patient
    assert "pregnancy status unknown" in warnings(got)[0]


@pytest.mark.parametrize(("code", "response"),
                         [("260415000", "CR"), ("359746009", "SD"), ("271299001", "PD")])
def test_disease_status(code: str, response: str) -> None:
    got = mapped(obs("97509-4", effectiveDateTime="2026-10-01", valueCodeableConcept=cc(SCT, code)))
    assert got.patient["disease_status"] == {"response": response, "date": dt.date(2026, 10, 1)}


@pytest.mark.parametrize("code", ["268910001", "709137006", "1234"])
def test_disease_status_without_a_response_category_stays_unknown(code: str) -> None:
    got = mapped(obs("97509-4", effectiveDateTime="2026-10-01", valueCodeableConcept=cc(SCT, code)))
    assert "disease_status" not in got.patient
    assert "the current response stays unknown" in warnings(got)[0]


# --- Medications, procedures, allergies ------------------------------------------------------


def statement(**kw: Any) -> dict[str, Any]:
    return {"resourceType": "MedicationStatement", "status": "completed", **kw}


def test_medication_by_text_regimen_and_unknown_drug() -> None:
    got = mapped(statement(medicationCodeableConcept={"text": "R-CHOP"},
                           effectiveDateTime="2024-01-01"),
                 statement(medicationCodeableConcept={"text": "wonderdrug"}),
                 statement(medicationCodeableConcept=cc(RX, "999999")))
    items = got.patient["therapies"]["items"]
    assert items == [{"regimen": "R-CHOP", "start": dt.date(2024, 1, 1)},
                     {"drugs": ["wonderdrug"]}]
    assert warnings(got) == [
        "entry[2].resource.medicationCodeableConcept: drug 'wonderdrug' is not in the "
        "vocabulary; imported as written (criteria on it stay unknown)",
        "entry[3].resource.medicationCodeableConcept.coding[0]: RxNorm 999999 is not a drug in "
        "the vocabulary; therapy not imported"]


def test_r5_medication_statement() -> None:
    got = mapped({"resourceType": "MedicationStatement", "status": "recorded",
                  "medication": {"concept": cc(RX, "1251")},
                  "effectivePeriod": {"start": "2024-01-08"}})
    assert got.patient["therapies"]["items"] == [{"drugs": ["Azacitidine"],
                                                 "start": dt.date(2024, 1, 8)}]


@pytest.mark.parametrize(
    ("kind", "status", "extra"),
    [("MedicationStatement", "entered-in-error", {}), ("MedicationStatement", "intended", {}),
     ("MedicationRequest", "cancelled", {"intent": "order"}),
     ("MedicationRequest", "active", {"intent": "plan"}),
     ("MedicationAdministration", "not-done", {})],
)
def test_medications_not_given_are_not_imported(kind: str, status: str,
                                                extra: dict[str, Any]) -> None:
    got = mapped({"resourceType": kind, "status": status, **extra,
                  "medicationCodeableConcept": cc(RX, "1251")})
    assert "therapies" not in got.patient
    assert "not a therapy given; not imported" in warnings(got)[0]


def test_a_missing_medication_reference_is_warned() -> None:
    got = mapped(statement(medicationReference={"reference": "Medication/nope"}))
    assert "therapies" not in got.patient
    assert warnings(got) == ["entry[1].resource.medicationReference: the referenced Medication is "
                             "not in the bundle; not imported"]


def test_a_course_ending_before_it_starts_is_a_resource_error() -> None:
    got = mapped(statement(medicationCodeableConcept=cc(RX, "1251"),
                           effectivePeriod={"start": "2025-01-01", "end": "2024-01-01"}))
    assert "therapies" not in got.patient
    assert "ends (2024-01-01) before it starts (2025-01-01)" in errors(got)[0]


def test_indication_from_a_reason_reference() -> None:
    got = mapped({"resourceType": "Condition", "id": "c1", "code": cc(ICD, "C90.00")},
                 statement(medicationCodeableConcept=cc(RX, "342369"),
                           reasonReference=[{"reference": "Condition/c1"}]))
    assert got.patient["therapies"]["items"][0]["indication"] == "Multiple myeloma"


@pytest.mark.parametrize(("code", "kind"), [("709115004", "autologous_sct"),
                                            ("174241000112100", "allogeneic_sct")])
def test_transplants(code: str, kind: str) -> None:
    got = mapped({"resourceType": "Procedure", "status": "completed", "code": cc(SCT, code),
                  "performedDateTime": "2025-07-24"})
    assert got.patient["procedures"]["items"] == [{"type": kind, "date": dt.date(2025, 7, 24)}]


def test_a_procedure_not_done_is_not_imported() -> None:
    got = mapped({"resourceType": "Procedure", "status": "not-done",
                  "code": cc(SCT, "709115004")})
    assert "procedures" not in got.patient
    assert "not a procedure performed" in warnings(got)[0]


def test_allergy_to_a_coded_drug_and_a_refuted_one() -> None:
    got = mapped({"resourceType": "AllergyIntolerance", "code": cc(RX, "358258"),
                  "recordedDate": "2024-04-01"},
                 {"resourceType": "AllergyIntolerance", "code": {"text": "penicillin"},
                  "verificationStatus": cc("x", "refuted")})
    assert got.patient["hypersensitivities"]["items"] == [
        {"agent": "Bortezomib", "date": dt.date(2024, 4, 1)}]
    assert "refuted; hypersensitivity not imported" in warnings(got)[0]


def test_a_resource_about_another_patient_is_an_error() -> None:
    got = mapped(obs("718-7", subject={"reference": "Patient/someone-else"},
                     effectiveDateTime="2026-11-10", valueQuantity=qty(9, "g/dL")))
    assert "labs" not in got.patient
    assert errors(got) == ["entry[1].resource.subject.reference: refers to another patient than "
                           "the bundle's; Observation not imported"]


def test_errors_name_the_field_never_the_record() -> None:
    got = mapped(obs("2160-0", effectiveDateTime="2026-11-10",
                     valueQuantity={"value": "SECRET-VALUE", "unit": "mg/dL"},
                     note=[{"text": "patient name Jane Roe"}]))
    assert "Jane Roe" not in " ".join(errors(got))
    assert "SECRET-VALUE" not in " ".join(errors(got))


def test_a_wrong_json_type_is_a_resource_error_not_a_crash() -> None:
    got = mapped({"resourceType": "Condition", "code": "C90.00"},
                 {"resourceType": "Procedure", "status": "completed", "code": {"coding": "x"}},
                 obs("718-7", effectiveDateTime=20261110, valueQuantity=qty(9, "g/dL")))
    assert [e.split(":")[0] for e in errors(got)] == [
        "entry[1].resource.code", "entry[2].resource.code.coding",
        "entry[3].resource.effectiveDateTime"]


# --- bad bundles through the commands -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [("not-json.json", "not-json.json:2:1: not valid JSON: Expecting value"),
     ("not-a-bundle.json", "expected a FHIR Bundle (resourceType 'Bundle'), found resourceType "
                           "'Patient'"),
     ("not-utf8.json", "not-utf8.json:1: not UTF-8 text (byte 34)"),
     ("bad-entries.json", "bad-entries.json: entry[1]: expected an object (an entry)")],
)
def test_bad_bundles_exit_2_with_paths(cli, tmp_path: Path, name: str, message: str) -> None:
    for args in (["import", "fhir", str(FIXTURES / name), "-o", str(tmp_path / "p.yaml")],):
        run = cli(args)
        assert run.code == 2, run.stdout
        assert message in run.stderr
        assert "Traceback" not in run.stderr
        assert not (tmp_path / "p.yaml").exists()


def test_bad_entries_lists_every_problem(cli) -> None:
    run = cli(["import", "fhir", str(FIXTURES / "bad-entries.json")])
    assert run.code == 2
    assert run.stderr.splitlines() == [
        f"error: {FIXTURES / 'bad-entries.json'}: entry[1]: expected an object (an entry)",
        f"error: {FIXTURES / 'bad-entries.json'}: entry[2].resource.resourceType: missing or not "
        "a string",
    ]


def test_check_a_broken_bundle_gets_the_json_message(cli) -> None:
    """A .json file naming a resourceType that is not JSON: the JSON reader reports it."""
    run = cli(["check", str(FIXTURES / "not-json.json"), "--as-of", AS_OF])
    assert run.code == 2
    where = FIXTURES / "not-json.json"
    assert run.stderr == f"error: {where}:2:1: not valid JSON: Expecting value\n"


def test_check_a_broken_json_patient_file_gets_the_patient_file_message(cli,
                                                                         tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('{"id": "J1", "sex": ')
    run = cli(["check", str(path), "--as-of", AS_OF])
    assert run.code == 2
    assert "not valid JSON" not in run.stderr and run.stderr.startswith(f"error: {path}")


@pytest.mark.parametrize(("name", "unknown"), [("ecog-minus-one.json", "inc-ecog"),
                                               ("lab-two-values.json", "inc-organ-creatinine")])
def test_check_skips_resources_in_error_and_exits_2(cli, name: str, unknown: str) -> None:
    """The resource in error is reported with its path and skipped: the patient is checked
    without it (what it would have said is unknown), and the exit code is 2."""
    run = cli(["check", str(FIXTURES / name), "--as-of", AS_OF, "-f", "json"])
    assert run.code == 2
    assert "entry[1].resource.value" in run.stderr
    assert "Observation not imported" in run.stderr
    report = json.loads(run.stdout)
    assert report["patient_id"] == "bad-1"
    verdicts = {(t["trial_id"], c["criterion_id"]): c["verdict"]
                for t in report["trials"] for c in t["criteria"]}
    assert verdicts[("NCT01673308", unknown)] == "unknown"


def test_deep_nesting_and_huge_values_are_refused(cli, tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('{"resourceType": "Bundle", "entry": ' + "[" * 5000 + "]" * 5000 + "}")
    run = cli(["import", "fhir", str(deep)])
    assert run.code == 2
    assert "nests deeper than 64 levels" in run.stderr


def test_import_refuses_to_overwrite_its_input(cli, tmp_path: Path) -> None:
    src = tmp_path / "b.json"
    src.write_text(EXAMPLE.read_text())
    run = cli(["import", "fhir", str(src), "-o", str(src)])
    assert run.code == 2
    assert "would overwrite the input" in run.stderr
    assert src.read_text() == EXAMPLE.read_text()


def test_import_with_errors_writes_nothing_unless_skip_errors(cli, tmp_path: Path) -> None:
    out = tmp_path / "p.yaml"
    run = cli(["import", "fhir", str(FIXTURES / "ecog-minus-one.json"), "-o", str(out)])
    assert run.code == 2 and not out.exists()
    assert "1 resource(s) in error; nothing written" in run.stderr
    run = cli(["import", "fhir", str(FIXTURES / "ecog-minus-one.json"), "-o", str(out),
               "--skip-errors"])
    assert run.code == 0, run.stderr
    assert "ECOG must be 0 to 5, got -1" in run.stderr
    assert load_patient(out).ecog is None


# --- equivalence: bundle, imported patient file, NDJSON --------------------------------------


def _verdicts(report: dict[str, Any]) -> list[Any]:
    return [(t["trial_id"], t["verdict"], t["failed"], t["unknown"], t["needs_review"],
             [(c["id"] if "id" in c else c.get("criterion_id"), c["verdict"])
              for c in t["criteria"]]) for t in report["trials"]]


@pytest.mark.parametrize("source", [EXAMPLE, EVERY])
def test_imported_patient_file_gives_the_same_verdicts(cli, tmp_path: Path, source: Path) -> None:
    out = tmp_path / "patient.yaml"
    run = cli(["import", "fhir", str(source), "-o", str(out), "--as-of", AS_OF])
    assert run.code == 0, run.stderr
    text = out.read_text()
    assert text.startswith("# Imported from ")
    assert "&id" not in text and "*id" not in text  # no YAML anchors
    patient = load_patient(out, DAY)
    assert patient.id == patient_of(read_bundle(source, DAY), DAY).id
    assert patient == patient_of(read_bundle(source, DAY), DAY)
    from_bundle = cli(["check", str(source), "--as-of", AS_OF, "-f", "json"])
    from_yaml = cli(["check", str(out), "--as-of", AS_OF, "-f", "json"])
    assert from_bundle.code == from_yaml.code == 0
    assert _verdicts(json.loads(from_bundle.stdout)) == _verdicts(json.loads(from_yaml.stdout))


def test_check_prints_warnings_with_paths_and_counts_them_for_strict(cli) -> None:
    run = cli(["check", str(EVERY), "--as-of", AS_OF, "-f", "json"])
    assert run.code == 0
    assert (f"{EVERY}: entry[5].resource.code.coding[0]: warning: SNOMED CT 1234 is not in the "
            "vocabulary; condition not imported") in run.stderr.splitlines()
    strict = cli(["check", str(EVERY), "--as-of", AS_OF, "-f", "json", "--strict"])
    assert strict.code == 2
    quiet = cli(["check", str(EVERY), "--as-of", AS_OF, "-f", "json", "-q"])
    assert quiet.code == 0 and quiet.stderr == ""


def test_check_a_directory_of_bundles_and_patient_files(cli, tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(EXAMPLE.read_text())
    (tmp_path / "b.yaml").write_text((ROOT / "examples/patients/tcl-missing-response.yaml")
                                     .read_text())
    run = cli(["check", str(tmp_path), "--as-of", AS_OF, "-f", "json", "-q"])
    assert run.code == 0, run.stderr
    reports = json.loads(run.stdout)["reports"]
    assert [r["patient_id"] for r in reports] == ["MM-001", "TCL-003"]


def test_a_json_patient_file_is_still_a_patient_file(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"id": "J1", "sex": "male", "ecog": 1}))
    loaded = load_any_patient(path, DAY)
    assert loaded.fhir is None and loaded.patient.id == "J1"


def _ndjson_lines() -> list[str]:
    example = json.loads(EXAMPLE.read_text())
    every = json.loads(EVERY.read_text())
    # one patient's resources as an array, another patient
    text = json.dumps([e["resource"] for e in every["entry"]]).replace("mds-7", "mds-8")
    return [json.dumps(example), json.dumps(every), text]


def test_ndjson_screen_equals_the_imported_patient_files(cli, tmp_path: Path) -> None:
    lines = _ndjson_lines()
    src = tmp_path / "patients.ndjson"
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.jsonl"
    run = cli(["screen", str(src), "--as-of", AS_OF, "--out", str(out), "-q"])
    assert run.code == 0, run.stderr
    records = [json.loads(x) for x in out.read_text().splitlines()]
    by_patient: dict[str, list[Any]] = {}
    for r in records:
        by_patient.setdefault(r["patient_id"], []).append(
            (r["trial_id"], r["verdict"], r["failed"], r["unknown"], r["needs_review"]))
    assert sorted(by_patient) == ["MM-001", "mds-7", "mds-8"]
    for n, line in enumerate(lines):
        bundle_file = tmp_path / f"{n}.json"
        bundle_file.write_text(line if line.startswith("{") else json.dumps(
            {"resourceType": "Bundle", "entry": [{"resource": r} for r in json.loads(line)]}))
        yaml_file = tmp_path / f"{n}.yaml"
        assert cli(["import", "fhir", str(bundle_file), "-o", str(yaml_file), "--as-of", AS_OF,
                    "-q"]).code == 0
        report = json.loads(cli(["check", str(yaml_file), "--as-of", AS_OF, "-f", "json"]).stdout)
        expected = [(t["trial_id"], t["verdict"], t["failed"], t["unknown"], t["needs_review"])
                    for t in report["trials"]]
        got = by_patient[report["patient_id"]]
        assert sorted(got) == sorted(expected)


def test_ndjson_bad_lines_are_error_records(cli, tmp_path: Path) -> None:
    good = _ndjson_lines()[0]
    src = tmp_path / "patients.ndjson"
    ecog = (FIXTURES / "ecog-minus-one.json").read_text().replace("\n", "")
    src.write_bytes(b"\n".join([good.encode(), b"{not json", b"", b'{"resourceType": "Patient"}',
                                ecog.encode(), b"\xff\xfe", b"[1, 2]"]) + b"\n")
    out = tmp_path / "out.jsonl"
    run = cli(["screen", str(src), "--as-of", AS_OF, "--out", str(out), "-q"])
    assert run.code == 0, run.stderr
    records = [json.loads(x) for x in out.read_text().splitlines()]
    trials = len({r["trial_id"] for r in records})
    assert len(records) == 6 * trials  # the blank line 3 is no patient; nothing else dropped
    errors_by_row = {int(r["row"]): r["error"] for r in records if r["verdict"] == "error"}
    assert sorted(errors_by_row) == [2, 4, 5, 6, 7]
    assert "not valid JSON" in errors_by_row[2]
    assert "expected a FHIR Bundle" in errors_by_row[4]
    assert "entry[1].resource.valueInteger: ECOG must be 0 to 5, got -1" in errors_by_row[5]
    assert "not UTF-8" in errors_by_row[6]
    assert "[0]: expected a resource" in errors_by_row[7]
    failing = cli(["screen", str(src), "--as-of", AS_OF, "--out", str(out), "-q",
                   "--fail-on-error"])
    assert failing.code == 1


def test_fhir_mapping_imports_no_heavy_library() -> None:
    import subprocess

    code = ("import sys\nfrom trialmatch.model.fhir import read_bundle\n"
            f"read_bundle({str(EXAMPLE)!r})\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('polars', 'fhir', "
            "'fhir_core', 'rich', 'typer')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_r5_forms_of_procedure_administration_and_reaction() -> None:
    got = mapped({"resourceType": "Procedure", "status": "completed", "code": cc(SCT, "709115004"),
                  "occurrenceDateTime": "2025-07-24"},
                 {"resourceType": "MedicationAdministration", "status": "completed",
                  "medication": {"concept": cc(RX, "68442")},
                  "occurenceDateTime": "2025-04-02"},
                 {"resourceType": "AllergyIntolerance", "code": {"text": "bortezomib"},
                  "reaction": [{"manifestation": [{"concept": {"text": "rash"}}]}]})
    assert got.patient["procedures"]["items"] == [{"type": "autologous_sct",
                                                  "date": dt.date(2025, 7, 24)}]
    assert got.patient["therapies"]["items"] == [{"drugs": ["Filgrastim"],
                                                 "start": dt.date(2025, 4, 2),
                                                 "end": dt.date(2025, 4, 2)}]
    assert got.patient["hypersensitivities"]["items"] == [{"agent": "bortezomib",
                                                          "reaction": "rash"}]
    assert got.warnings == []


def test_a_missing_status_is_said_so() -> None:
    got = mapped({"resourceType": "Procedure", "code": cc(SCT, "709115004")},
                 {"resourceType": "Observation", "code": cc(LN, "718-7")})
    assert warnings(got) == [
        "entry[1].resource.status: no status: not a procedure performed; not imported",
        "entry[2].resource.status: no status: not a final result; not imported"]


HOSTILE = [None, True, -1, 10**400, 1e308, "", "x\x1b[31m", [], {}, [None], {"a": [1]}]


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path] if path else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*path, i))
    return out


def _replaced(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    copy = json.loads(json.dumps(data))
    node = copy
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return copy


def test_any_element_of_any_type_is_a_message_never_a_crash() -> None:
    """Every element of the full fixture replaced by values of every JSON type (and huge,
    negative, empty, escape-laden ones): the mapper warns, errs or refuses the bundle, and
    never raises anything but InputError."""
    data = json.loads(EVERY.read_text())
    tried = 0
    for path in _paths(data):
        for value in HOSTILE:
            tried += 1
            try:
                got = map_bundle(_replaced(data, path, value), "b.json", None, DAY)
                if not got.errors:
                    patient_of(got, DAY)
            except InputError:
                pass
    assert tried > 2000


def test_ndjson_screen_records_equal_the_csv_of_the_imported_patient_files(
    cli, tmp_path: Path
) -> None:
    """The same patients as NDJSON bundles and as a CSV of their imported patient files
    (columnar engine) give the same screen records, row for row."""
    import csv

    from trialmatch.model.csvrow import patient_to_row

    lines = _ndjson_lines()
    src = tmp_path / "patients.ndjson"
    src.write_text("\n".join(lines) + "\n")
    rows = []
    for n, line in enumerate(lines):
        data = json.loads(line)
        if isinstance(data, list):
            data = {"resourceType": "Bundle", "entry": [{"resource": r} for r in data]}
        (tmp_path / f"{n}.json").write_text(json.dumps(data))
        out = tmp_path / f"{n}.yaml"
        assert cli(["import", "fhir", str(tmp_path / f"{n}.json"), "-o", str(out), "--as-of",
                    AS_OF, "-q"]).code == 0
        rows.append(patient_to_row(load_patient(out, DAY), DAY))
    columns = ["id", *sorted({c for r in rows for c in r} - {"id"})]
    table = tmp_path / "patients.csv"
    with table.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    records = {}
    for name in ("patients.ndjson", "patients.csv"):
        out = tmp_path / f"{name}.jsonl"
        run = cli(["screen", str(tmp_path / name), "--as-of", AS_OF, "--out", str(out), "-q"])
        assert run.code == 0, run.stderr
        records[name] = [json.loads(x) for x in out.read_text().splitlines()]
    trials = {r["trial_id"] for r in records["patients.csv"]}
    assert len(records["patients.ndjson"]) == 3 * len(trials) and len(trials) >= 5
    assert records["patients.ndjson"] == records["patients.csv"]


def test_validate_reads_a_bundle_with_its_errors_at_json_paths() -> None:
    from typer.testing import CliRunner

    from trialmatch.cli import app as cli_app

    example = ROOT / "examples" / "fhir" / "myeloma-maintenance.json"
    ok = CliRunner().invoke(cli_app, ["validate", str(example), "--as-of", "2026-11-21"])
    assert ok.exit_code == 0, ok.output
    assert f"{example} (FHIR bundle, patient MM-001)" in ok.stdout
    bad = ROOT / "tests" / "fixtures" / "fhir" / "ecog-minus-one.json"
    run = CliRunner().invoke(cli_app, ["validate", str(bad), "--as-of", "2026-11-21"])
    assert run.exit_code == 2
    assert "entry[1].resource.valueInteger: ECOG must be 0 to 5, got -1" in run.output
    assert "unknown field 'resourceType'" not in run.output


def test_import_never_replaces_a_patient_file_without_force(cli, tmp_path: Path) -> None:
    out = tmp_path / "p.yaml"
    out.write_text("id: completed-and-attested\n", encoding="utf-8")
    run = cli(["import", "fhir", str(EXAMPLE), "-o", str(out)])
    assert run.code == 2 and "exists; choose another file, or replace it with --force" in (
        run.stderr)
    assert out.read_text(encoding="utf-8") == "id: completed-and-attested\n"
    assert cli(["import", "fhir", str(EXAMPLE), "-o", str(out), "--force", "-q"]).code == 0
    assert load_patient(out).id == "MM-001"


def test_a_text_lab_result_is_warned_not_an_error() -> None:
    """Systems often send results as text ("65 mL/min"): warned and skipped, the rest of the
    patient still read."""
    got = mapped(obs("2160-0", effectiveDateTime="2026-11-10", valueString="1.2 mg/dL"))
    assert "labs" not in got.patient and errors(got) == []
    assert any(w.startswith("entry[1].resource.valueString: valueString is not a value "
                            "trialmatch reads") for w in warnings(got))


def test_a_pregnancy_observation_is_not_cleared_by_a_male_gender() -> None:
    pregnant = {"resourceType": "Observation", "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "82810-3"}]},
                "effectiveDateTime": "2026-11-10",
                "valueCodeableConcept": {"coding": [{"system": "http://loinc.org",
                                                     "code": "LA15173-0"}]}}
    got = mapped(pregnant, patient={"resourceType": "Patient", "id": "P1", "gender": "male"})
    assert got.patient["pregnant"] is True and "sex" not in got.patient
    assert any("while Patient.gender is male" in w for w in warnings(got))


def test_a_lab_dated_after_the_screening_date_is_kept_and_said() -> None:
    got = mapped(obs("718-7", effectiveDateTime="2026-12-05", valueQuantity=qty(9, "g/dL")))
    assert got.patient["labs"][0]["date"] == dt.date(2026, 12, 5)
    assert any("after the screening date 2026-11-21: kept in the file" in w
               for w in warnings(got))


def test_commands_that_do_not_read_a_format_say_which_does(cli, tmp_path: Path) -> None:
    run = cli(["screen", str(EXAMPLE)])
    assert run.code == 2 and "screen reads a patients CSV, or FHIR NDJSON" in run.stderr
    lines = tmp_path / "b.ndjson"
    lines.write_text(EXAMPLE.read_text(encoding="utf-8").replace("\n", "") + "\n",
                     encoding="utf-8")
    run = cli(["validate", str(lines)])
    assert run.code == 2 and "screen reads NDJSON" in run.stderr
    run = cli(["import", "fhir", str(EXAMPLE), "-o", "-", "-q"])
    assert run.code == 0 and run.stdout.startswith("# Imported from myeloma-maintenance.json")
