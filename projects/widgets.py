"""Form inputs whose HTML is written in Python rather than by Django's
widget templates.

Django renders every widget through the form renderer's templates
(django/forms/widgets/input.html, which includes attrs.html), about 60 µs
an input. The catalogue's filter form has six inputs whose value comes
with each request (search words, funded range, checkboxes), so their HTML
cannot be rendered once and kept like its lists of choices. These widgets
write the markup those templates write, byte for byte
(tests/projects/test_catalogue_form.py holds them to it); the context (value,
attributes, `checked`) is still worked out by Django's own widget code.
"""

from __future__ import annotations

from html import escape

from django import forms
from django.utils.safestring import SafeData, SafeString, mark_safe


def _escaped(value) -> str:
    """A value as `{{ value|stringformat:'s' }}` writes it: escaped unless
    marked safe."""
    text = str(value)
    return text if isinstance(value, SafeData) else escape(text)


class PythonRenderedInput:
    """For a subclass of forms.Input whose template is input.html or one
    that only includes it (text, search, number, checkbox)."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [f'<input type="{_escaped(widget["type"])}" name="{_escaped(widget["name"])}"']
        if widget["value"] is not None:
            parts.append(f' value="{_escaped(widget["value"])}"')
        for attribute, attribute_value in widget["attrs"].items():
            if attribute_value is True:
                parts.append(f" {_escaped(attribute)}")
            elif attribute_value is not False:
                parts.append(f' {_escaped(attribute)}="{_escaped(attribute_value)}"')
        parts.append(">")
        # Every value went through _escaped(), as the template's autoescaping
        # would have done; the rest is literal markup.
        return mark_safe("".join(parts))  # noqa: S308


class SearchInput(PythonRenderedInput, forms.SearchInput):
    pass


class NumberInput(PythonRenderedInput, forms.NumberInput):
    pass


class CheckboxInput(PythonRenderedInput, forms.CheckboxInput):
    pass
