import copy

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from .models import ConsentRecord, User


class FieldsCopiedPerForm(dict):
    """A form class's `base_fields`, which Django's BaseForm.__init__
    deep-copies into every form's own `fields`: this copy shares every field
    but `per_form` between forms. For forms whose fields nothing changes
    once they are defined (validating and rendering only read them) but
    those named in `per_form` (the catalogue's place lists, whose choices
    each request sets); deep copies of the others, with their lists of
    choices, were most of the cost of building such a form."""

    def __init__(self, fields, per_form):
        super().__init__(fields)
        self.per_form = frozenset(per_form)

    def __deepcopy__(self, memo):
        return {
            name: copy.deepcopy(field, memo) if name in self.per_form else field
            for name, field in self.items()
        }


def country_choices() -> list[tuple[str, str]]:
    """Countries named and sorted in the language of the request (a callable:
    Django asks for the choices when the form is shown, not at import)."""
    return [("", "—"), *countries]


class SignupProfileForm(forms.Form):
    """Fields allauth's sign-up form gains: who the person is and what they
    agree to. Terms and privacy are required; marketing is a free choice."""

    full_name = forms.CharField(label=_("Full name"), max_length=200)
    country_of_residence = forms.ChoiceField(
        label=_("Country where you live"), choices=country_choices
    )
    country_of_origin = forms.ChoiceField(label=_("Country of origin"), choices=country_choices)
    is_returnee = forms.BooleanField(
        label=_("I have returned to my country of origin"), required=False
    )
    accept_terms = forms.BooleanField(label=_("I accept the terms of use"))
    accept_privacy = forms.BooleanField(label=_("I have read the privacy notice"))
    accept_marketing = forms.BooleanField(
        label=_("Send me news about projects in my hometown (optional)"), required=False
    )

    field_order = [
        "full_name",
        "email",
        "password1",
        "password2",
        "country_of_residence",
        "country_of_origin",
        "is_returnee",
        "accept_terms",
        "accept_privacy",
        "accept_marketing",
    ]

    def signup(self, request, user: User) -> None:
        data = self.cleaned_data
        user.full_name = data["full_name"]
        user.country_of_residence = data["country_of_residence"]
        user.country_of_origin = data["country_of_origin"]
        user.is_returnee = data["is_returnee"]
        user.save()
        user.record_consent(
            ConsentRecord.Kind.TERMS, granted=True, version=settings.PUENTE_TERMS_VERSION
        )
        user.record_consent(
            ConsentRecord.Kind.PRIVACY, granted=True, version=settings.PUENTE_PRIVACY_VERSION
        )
        user.record_consent(ConsentRecord.Kind.MARKETING, granted=data["accept_marketing"])


class ProfileForm(forms.ModelForm):
    marketing = forms.BooleanField(
        label=_("Send me news about projects in my hometown"), required=False
    )

    class Meta:
        model = User
        fields = [
            "full_name",
            "country_of_residence",
            "country_of_origin",
            "preferred_language",
            "preferred_currency",
            "is_returnee",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        consents = self.instance.current_consents()
        marketing = consents.get(ConsentRecord.Kind.MARKETING)
        self.fields["marketing"].initial = bool(marketing and marketing.granted)
        self._marketing_before = self.fields["marketing"].initial
        self.fields["full_name"].required = True

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=commit)
        if commit and self.cleaned_data["marketing"] != self._marketing_before:
            user.record_consent(
                ConsentRecord.Kind.MARKETING, granted=self.cleaned_data["marketing"]
            )
        return user
