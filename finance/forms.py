from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from .offerings import Pledge


class PledgeForm(forms.Form):
    amount = forms.CharField(
        label=_("Amount"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    method = forms.ChoiceField(
        label=_("How you will pay"),
        choices=Pledge.Method.choices,
        widget=forms.RadioSelect,
        initial=Pledge.Method.CARD,
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, offering, **kwargs):
        super().__init__(*args, **kwargs)
        self.offering = offering

    def clean_amount(self) -> Decimal:
        raw = self.cleaned_data["amount"].strip().replace(" ", "").replace("\u00a0", "")
        # Accept a decimal comma, as many of our investors write it.
        if raw.count(",") == 1 and "." not in raw:
            raw = raw.replace(",", ".")
        try:
            amount = Decimal(raw.replace(",", ""))
        except InvalidOperation:
            raise forms.ValidationError(_("Enter an amount such as 250 or 250.50.")) from None
        if not amount.is_finite() or amount <= 0:
            raise forms.ValidationError(_("Enter an amount greater than zero."))
        if amount > Decimal("1000000000"):
            raise forms.ValidationError(_("That amount is too large."))
        return amount


class KnowledgeTestForm(forms.Form):
    acknowledge_risk = forms.BooleanField(
        label=_(
            "I understand that I may lose part or all of the money I invest, that returns are "
            "not guaranteed and that I may not get my money back before the end of the term."
        )
    )

    def __init__(self, *args, questions, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            self.fields[question.key] = forms.TypedChoiceField(
                label=question.text,
                coerce=int,
                widget=forms.RadioSelect,
                choices=list(enumerate(question.choices)),
            )

    def answers(self) -> dict[str, int]:
        return {q.key: self.cleaned_data[q.key] for q in self.questions}
