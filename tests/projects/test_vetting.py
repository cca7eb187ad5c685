"""The vetting vocabulary: required keys, unique keys, lazy translations, SDGs, risk scale."""

import pytest
from django.utils.functional import Promise
from django.utils.translation import override

from projects.vetting import (
    DO_NO_HARM_QUESTIONS,
    DUE_DILIGENCE_CHECKLIST,
    RISK_RATINGS,
    SDGS,
    SECTORS,
    STANDARD_IMPACT_INDICATORS,
    Criterion,
)

REQUIRED_CHECKLIST_KEYS = {
    "identity",
    "business_plan",
    "budget",
    "permits",
    "community_benefit",
    "do_no_harm",
    "environmental_social",
}

KEYED_TUPLES = {
    "DUE_DILIGENCE_CHECKLIST": [c.key for c in DUE_DILIGENCE_CHECKLIST],
    "DO_NO_HARM_QUESTIONS": [c.key for c in DO_NO_HARM_QUESTIONS],
    "RISK_RATINGS": [letter for letter, _label, _description in RISK_RATINGS],
    "SECTORS": [key for key, _label in SECTORS],
    "SDGS": [number for number, _label in SDGS],
    "STANDARD_IMPACT_INDICATORS": [key for key, _label, _unit in STANDARD_IMPACT_INDICATORS],
}


def _lazy_strings():
    for criterion in DUE_DILIGENCE_CHECKLIST + DO_NO_HARM_QUESTIONS:
        yield f"{criterion.key}.label", criterion.label
        yield f"{criterion.key}.guidance", criterion.guidance
    for letter, label, description in RISK_RATINGS:
        yield f"risk {letter} label", label
        yield f"risk {letter} description", description
    for key, label in SECTORS:
        yield f"sector {key}", label
    for number, label in SDGS:
        yield f"SDG {number}", label
    for key, label, unit in STANDARD_IMPACT_INDICATORS:
        yield f"indicator {key} label", label
        yield f"indicator {key} unit", unit


def test_required_checklist_keys_present():
    keys = {c.key for c in DUE_DILIGENCE_CHECKLIST}
    assert REQUIRED_CHECKLIST_KEYS <= keys


def test_checklist_has_three_to_five_criteria_beyond_the_required_ones():
    extra = {c.key for c in DUE_DILIGENCE_CHECKLIST} - REQUIRED_CHECKLIST_KEYS
    assert 3 <= len(extra) <= 5


def test_do_no_harm_has_six_to_nine_questions():
    assert 6 <= len(DO_NO_HARM_QUESTIONS) <= 9


@pytest.mark.parametrize("name", sorted(KEYED_TUPLES))
def test_keys_unique(name):
    keys = KEYED_TUPLES[name]
    assert len(keys) == len(set(keys)), name


def test_checklist_and_do_no_harm_keys_are_identifiers():
    for criterion in DUE_DILIGENCE_CHECKLIST + DO_NO_HARM_QUESTIONS:
        assert isinstance(criterion, Criterion)
        assert criterion.key.isidentifier() and criterion.key == criterion.key.lower()


@pytest.mark.parametrize(("where", "text"), list(_lazy_strings()))
def test_user_visible_strings_are_lazy_translations(where, text):
    assert isinstance(text, Promise), where
    with override("en"):
        rendered = str(text)
    assert rendered.strip() == rendered and rendered, where


def test_sources_are_plain_non_empty_strings():
    for criterion in DUE_DILIGENCE_CHECKLIST + DO_NO_HARM_QUESTIONS:
        assert type(criterion.source) is str and criterion.source.strip(), criterion.key


def test_do_no_harm_labels_are_questions():
    for criterion in DO_NO_HARM_QUESTIONS:
        assert str(criterion.label).endswith("?"), criterion.key


def test_criteria_are_immutable():
    with pytest.raises(AttributeError):
        DUE_DILIGENCE_CHECKLIST[0].key = "other"


def test_seventeen_sdgs_numbered_one_to_seventeen():
    assert [number for number, _label in SDGS] == list(range(1, 18))


def test_sdg_official_short_names():
    names = {number: str(label) for number, label in SDGS}
    assert names[1] == "No poverty"
    assert names[6] == "Clean water and sanitation"
    assert names[10] == "Reduced inequalities"
    assert names[16] == "Peace, justice and strong institutions"
    assert names[17] == "Partnerships for the goals"


def test_risk_ratings_a_to_e_in_order():
    assert [letter for letter, _label, _description in RISK_RATINGS] == list("ABCDE")


def test_standard_impact_indicators_include_the_job_breakdown():
    keys = {key for key, _label, _unit in STANDARD_IMPACT_INDICATORS}
    assert {
        "jobs_created",
        "jobs_returnees",
        "jobs_women",
        "jobs_non_migrants",
        "beneficiaries",
        "revenue",
    } <= keys
