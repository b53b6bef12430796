"""SNOMED CT and RxNorm codes in the vocabulary (read from FHIR): every condition, drug and
procedure the catalogue names has its code, except the ones no source could confirm (listed
here, so adding a code means removing it from the list); codes are unique and well formed."""

from __future__ import annotations

from pathlib import Path

import pytest

from trialmatch.engine.criteria import AllNode, AnyNode, AtLeastNode, NotNode, load_trial
from trialmatch.errors import InputError
from trialmatch.model.vocab import Vocabulary
from trialmatch.predicates.procedure import ProcedureArgs, procedure_type

CRITERIA = Path(__file__).resolve().parents[1] / "criteria"

# Catalogue terms whose codes could not be verified against a published source: left without
# a code (a FHIR resource coded for them is warned about, never guessed). See README, From FHIR.
UNVERIFIED_CONDITIONS = frozenset(
    {
        "cin",
        "congenital_coagulopathy",
        "galactose_intolerance",
        "gilbert_syndrome",
        "glucose_galactose_malabsorption",
        "lapp_lactase_deficiency",
        "mds_del5q",
        "non_melanoma_skin_cancer",
        "plasma_cell_leukemia",
        "t_cell_lymphoma",
    }
)
UNVERIFIED_DRUGS = frozenset(
    {
        "epoetin_alfa",
        "epoetin_beta",
        "methoxy_peg_epoetin_beta",
        "darbepoetin_alfa",
    }
)


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return Vocabulary.default()


def _catalogue_terms(vocab: Vocabulary) -> tuple[set[str], set[str]]:
    """(condition ids, drug ids) the catalogue names, drugs of named classes included."""
    conditions: set[str] = set()
    drugs: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, AllNode):
            for child in node.all:
                walk(child)
        elif isinstance(node, AnyNode):
            for child in node.any:
                walk(child)
        elif isinstance(node, NotNode):
            walk(node.not_)
        elif isinstance(node, AtLeastNode):
            for child in node.at_least.of:
                walk(child)
        else:
            name = next(iter(type(node).model_fields))  # type: ignore[arg-type]
            for _, kind, term in getattr(node, name).vocabulary_refs():
                if kind == "condition":
                    conditions.add(vocab.condition_id(term) or term)
                elif kind == "drug":
                    drugs.update(vocab.drug_ids(term) or {term})
                elif kind == "class":
                    klass = vocab.class_id(term)
                    drugs.update(d for d in vocab.drugs if klass in vocab.drug_classes(d))

    for path in sorted(CRITERIA.glob("*.yaml")):
        trial = load_trial(path, vocab).trial
        conditions.update(vocab.condition_id(c) or c for c in trial.conditions)
        for crit in (*trial.inclusion, *trial.exclusion):
            if crit.rule is not None:
                walk(crit.rule)
    return conditions, drugs


def test_the_catalogue_names_conditions_and_drugs(vocab: Vocabulary) -> None:
    conditions, drugs = _catalogue_terms(vocab)
    assert {"myelodysplastic_syndrome", "multiple_myeloma", "hiv"} <= conditions
    assert {"lenalidomide", "azacitidine", "filgrastim"} <= drugs


def test_every_catalogue_condition_has_a_snomed_code(vocab: Vocabulary) -> None:
    conditions, _ = _catalogue_terms(vocab)
    missing = sorted(c for c in conditions if not vocab.conditions[c].snomed)
    assert missing == sorted(UNVERIFIED_CONDITIONS & conditions)
    coded_anyway = sorted(c for c in UNVERIFIED_CONDITIONS if vocab.conditions[c].snomed)
    assert coded_anyway == []  # a verified code was added: take it off the list


def test_every_catalogue_drug_has_an_rxnorm_code(vocab: Vocabulary) -> None:
    _, drugs = _catalogue_terms(vocab)
    missing = sorted(d for d in drugs if not vocab.drugs[d].rxnorm)
    assert missing == sorted(UNVERIFIED_DRUGS & drugs)
    assert sorted(d for d in UNVERIFIED_DRUGS if vocab.drugs[d].rxnorm) == []


def test_every_procedure_type_has_a_snomed_code(vocab: Vocabulary) -> None:
    types = set(ProcedureArgs.model_fields["type"].annotation.__args__)  # type: ignore[union-attr]
    assert set(vocab.procedures) == types
    for pid, entry in vocab.procedures.items():
        assert entry.snomed, pid
        assert procedure_type(pid) == pid  # the id is a term the predicate knows


@pytest.mark.parametrize(
    ("code", "cid"),
    [
        ("109995007", "myelodysplastic_syndrome"),
        ("109989006", "multiple_myeloma"),
        ("38341003", "hypertension"),
        ("86406008", "hiv"),
        ("66071002", "hepatitis_b"),
        ("50711007", "hepatitis_c"),
        ("46177005", "end_stage_renal_disease"),
        ("109977009", "ptcl_nos"),
        ("413537009", "aitl"),
    ],
)
def test_snomed_condition_codes(vocab: Vocabulary, code: str, cid: str) -> None:
    assert vocab.condition_by_snomed(code) == cid


@pytest.mark.parametrize(
    ("code", "drug"),
    [
        ("342369", "lenalidomide"),
        ("1251", "azacitidine"),
        ("15657", "decitabine"),
        ("10432", "thalidomide"),
        ("1369713", "pomalidomide"),
        ("358258", "bortezomib"),
        ("68442", "filgrastim"),
        ("338036", "pegfilgrastim"),
    ],
)
def test_rxnorm_drug_codes(vocab: Vocabulary, code: str, drug: str) -> None:
    assert vocab.drug_by_rxnorm(code) == drug


def test_transplant_codes(vocab: Vocabulary) -> None:
    assert vocab.procedure_by_snomed("709115004") == "autologous_sct"
    assert vocab.procedure_by_snomed("174241000112100") == "allogeneic_sct"
    assert vocab.procedure_by_snomed("234336002") is None  # HSCT of unknown kind: never guessed


def test_codes_are_not_terms(vocab: Vocabulary) -> None:
    """A SNOMED CT or RxNorm code is looked up only as a code: written as a condition or drug
    term in a patient file it is not understood (it could be any code system's)."""
    assert vocab.condition_id("109995007") is None
    assert vocab.drug_ids("342369") is None
    assert vocab.condition_by_snomed("D46.9") is None


def test_icd10cm_lookup_takes_codes_only(vocab: Vocabulary) -> None:
    assert vocab.condition_by_icd10cm("C90.00") == "multiple_myeloma"
    assert vocab.condition_by_icd10cm("c90.00") == "multiple_myeloma"
    assert vocab.condition_by_icd10cm("multiple myeloma") is None
    assert vocab.condition_by_icd10cm("C90.0") is None  # a category header, not listed


def test_codes_are_unique_and_well_formed(vocab: Vocabulary) -> None:
    snomed = [c for e in vocab.conditions.values() for c in e.snomed]
    snomed += [c for e in vocab.procedures.values() for c in e.snomed]
    rxnorm = [c for e in vocab.drugs.values() for c in e.rxnorm]
    assert len(snomed) == len(set(snomed))
    assert len(rxnorm) == len(set(rxnorm))
    assert all(c.isdigit() and 6 <= len(c) <= 18 and c[0] != "0" for c in snomed)
    assert all(c.isdigit() and c[0] != "0" for c in rxnorm)


_DRUGS = """\
drugs:
  - id: d
    name: D
    rxnorm: ["1"]
  - id: e
    name: E
    rxnorm: ["1"]
"""
_LABS = """\
labs:
  - id: l
    name: L
    unit: mg/dL
    units: {mg/dL: 1}
"""


def _write(tmp_path: Path, conditions: str, drugs: str = "drugs: []\n") -> Path:
    (tmp_path / "conditions.yaml").write_text(conditions, encoding="utf-8")
    (tmp_path / "drugs.yaml").write_text(drugs, encoding="utf-8")
    (tmp_path / "labs.yaml").write_text(_LABS, encoding="utf-8")
    return tmp_path


def test_a_code_listed_twice_is_rejected(tmp_path: Path) -> None:
    conditions = (
        "conditions:\n  - {id: a, name: A, snomed: ['109995007']}\n"
        "  - {id: b, name: B, snomed: ['109995007']}\n"
    )
    with pytest.raises(InputError, match="SNOMED CT code '109995007' is listed for both 'a' and"):
        Vocabulary.load(_write(tmp_path, conditions))


def test_a_drug_code_listed_twice_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="RxNorm code '1' is listed for both 'd' and 'e'"):
        Vocabulary.load(_write(tmp_path, "conditions: []\n", _DRUGS))


def test_a_malformed_code_is_rejected(tmp_path: Path) -> None:
    conditions = "conditions:\n  - {id: a, name: A, snomed: ['D46.9']}\n"
    with pytest.raises(InputError, match=r"'D46\.9' is not a SNOMED CT code"):
        Vocabulary.load(_write(tmp_path, conditions))


def test_procedures_file_is_optional_for_other_vocabularies(tmp_path: Path) -> None:
    v = Vocabulary.load(_write(tmp_path, "conditions:\n  - {id: a, name: A}\n"))
    assert v.procedures == {}
    assert v.procedure_by_snomed("709115004") is None
