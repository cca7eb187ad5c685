"""The catalogue's filter form written in Python (projects/widgets.py,
PrerenderedField.as_field_group) says exactly what Django's templates said,
escaping included, in every language; the shortcuts the form takes per
request (filters copied shallowly, fields shared between forms) keep each
request's form its own; words are kept per language, never across them."""

import pytest
from django import forms
from django.template import engines
from django.utils import translation
from django.utils.safestring import mark_safe

from projects import widgets
from projects.caching import prerendered_fields
from projects.filters import PLACE_FIELDS, CatalogueFilter
from projects.views_public import CHOICE_FIELDS, FREE_FIELDS

MALICIOUS = '"><script>alert(1)</script>'

# projects/_field.html, which the catalogue included for each field.
FIELD_TEMPLATE = (
    '<div class="field{% if field.errors %} field-invalid{% endif %}">\n'
    "  {{ field.label_tag }}\n"
    "  {% if field.errors %}{{ field.errors }}{% endif %}\n"
    "  {{ field }}\n"
    "</div>\n"
)


@pytest.mark.parametrize(
    ("ours", "djangos"),
    [
        (widgets.SearchInput, forms.SearchInput),
        (widgets.NumberInput, forms.NumberInput),
        (widgets.CheckboxInput, forms.CheckboxInput),
    ],
)
@pytest.mark.parametrize(
    "value", [None, "", "agave", 0, 42, True, False, MALICIOUS, "a & b 'c'", "ñandú ☀ عربي"]
)
@pytest.mark.parametrize(
    "attrs",
    [
        None,
        {"id": "id_q"},
        {"id": MALICIOUS, "maxlength": 200, "required": True, "disabled": False},
        {"aria-invalid": "true", "aria-describedby": "id_q_error", "placeholder": MALICIOUS},
        {"data-x": mark_safe("<b>kept as it is</b>")},
    ],
)
def test_python_rendered_inputs_write_what_djangos_templates_write(ours, djangos, value, attrs):
    widget_attrs = {"min": 0, "max": 1000, "title": "Funded & more"}
    expected = djangos(attrs=widget_attrs).render("field", value, attrs)
    assert ours(attrs=widget_attrs).render("field", value, attrs) == expected
    assert ours().render(MALICIOUS, value, attrs) == djangos().render(MALICIOUS, value, attrs)


def _stock_widget(widget):
    stock = {
        widgets.SearchInput: forms.SearchInput,
        widgets.NumberInput: forms.NumberInput,
        widgets.CheckboxInput: forms.CheckboxInput,
    }[type(widget)]
    return stock(attrs=widget.attrs)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "es", "ar"])
@pytest.mark.parametrize(
    "data",
    [
        {},
        {"q": "agave", "min_funded": "10", "max_funded": "90", "returnee": "on", "women": "true"},
        {"q": MALICIOUS, "min_funded": MALICIOUS, "max_funded": "-5", "endorsed": MALICIOUS},
        {"q": "x" * 300, "min_funded": "80", "max_funded": "20", "women": "false"},
        {"country": MALICIOUS, "territory": "nowhere", "sdg": "99", "risk": ["A", "Z"]},
        {"sector": "agriculture", "status": "open", "instrument": "loan", "sdg": "3"},
    ],
)
def test_catalogue_fields_render_as_djangos_templates_did(territory, language, data):
    template = engines["django"].from_string(FIELD_TEMPLATE)
    with translation.override(language):
        form = CatalogueFilter(data).form
        form.is_valid()
        fields = prerendered_fields(
            form, CHOICE_FIELDS, labels_only=FREE_FIELDS, choices_from_data=PLACE_FIELDS
        )
        for name in FREE_FIELDS:
            bound = form[name]
            assert str(fields[name]) == bound.as_widget(widget=_stock_widget(bound.field.widget))
        for name, field in fields.items():
            assert field.as_field_group() == template.render({"field": field}), name
        if data.get("q") == MALICIOUS:
            assert MALICIOUS not in fields["q"].as_field_group()
            assert "&quot;&gt;&lt;script&gt;" in fields["q"].as_field_group()
            assert 'aria-invalid="true"' in str(fields["min_funded"])


@pytest.mark.django_db
def test_each_filterset_looks_its_filters_methods_up_on_itself(territory):
    first = CatalogueFilter({"country": "MX"})
    second = CatalogueFilter({"country": "SN"})
    for name in ("q", "country", "territory", "sdg", "status"):
        assert first.filters[name].filter.method.__self__ is first
        assert second.filters[name].filter.method.__self__ is second
        assert not hasattr(CatalogueFilter.base_filters[name], "parent")
    assert first.filters["sector"] is not CatalogueFilter.base_filters["sector"]


@pytest.mark.django_db
def test_forms_share_fields_but_not_the_place_lists(territory):
    first, second = CatalogueFilter({}).form, CatalogueFilter({}).form
    for name in PLACE_FIELDS:
        assert first.fields[name] is not second.fields[name]
    assert first.fields["sdg"] is second.fields["sdg"]
    first.fields["territory"].choices = [("elsewhere", "Elsewhere")]
    assert ("elsewhere", "Elsewhere") not in second.fields["territory"].choices
    assert ("elsewhere", "Elsewhere") not in CatalogueFilter({}).form.fields["territory"].choices


def test_words_are_kept_per_language_and_not_in_debug(settings):
    from projects.words import once_per_language

    built = []

    @once_per_language
    def greeting():
        built.append(translation.get_language())
        return translation.gettext("Projects")

    with translation.override("es"):
        assert greeting() == greeting() == "Proyectos"
    with translation.override("en"):
        assert greeting() == "Projects"
    assert built == ["es", "en"]
    settings.DEBUG = True
    with translation.override("es"):
        assert greeting() == "Proyectos"
    assert built == ["es", "en", "es"]
