from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.forms import inlineformset_factory
from django.utils.formats import number_format
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from portal.models import Territory

from .models import BudgetLine, Document, Instrument, Project, TeamMember
from .uploads import DOCUMENT_TYPES, validate_upload
from .vetting import SDGS, STANDARD_IMPACT_INDICATORS


class StoryForm(forms.ModelForm):
    sdgs = forms.TypedMultipleChoiceField(
        label=_("Sustainable Development Goals it serves"),
        choices=[(number, format_lazy("{}. {}", number, label)) for number, label in SDGS],
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    territory = forms.ModelChoiceField(
        label=_("Municipality"),
        queryset=Territory.objects.filter(level=Territory.Level.MUNICIPALITY).select_related(
            "parent", "parent__parent"
        ),
        required=False,
    )

    class Meta:
        model = Project
        fields = ["title", "summary", "story", "sector", "sdgs", "territory"]
        widgets = {
            "story": forms.Textarea(attrs={"rows": 8}),
            "summary": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["territory"].label_from_instance = lambda t: " › ".join(
            a.name for a in t.ancestors_and_self()
        )


class TeamForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["led_by_returnee", "led_by_woman"]


TeamMemberFormSet = inlineformset_factory(
    Project,
    TeamMember,
    fields=["name", "role", "is_returnee", "is_woman", "experience"],
    extra=2,
    max_num=20,
    can_delete=True,
    widgets={"experience": forms.Textarea(attrs={"rows": 2})},
)


class MoneyForm(forms.ModelForm):
    instrument = forms.ChoiceField(
        label=_("Instrument proposed"),
        choices=[("", "—")] + list(Instrument.choices),
        required=False,
    )

    class Meta:
        model = Project
        fields = ["currency", "funding_sought", "instrument"]

    def clean_funding_sought(self):
        value = self.cleaned_data.get("funding_sought")
        if value is not None and value > Decimal("100000000"):
            raise ValidationError(_("That is more than Puente can raise for one project."))
        return value


BudgetLineFormSet = inlineformset_factory(
    Project,
    BudgetLine,
    fields=["label", "amount"],
    extra=3,
    max_num=50,
    can_delete=True,
)


class ImpactForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = [
            "jobs_planned",
            "beneficiaries_planned",
            "community_benefit",
            "do_no_harm",
            "risks",
        ]
        widgets = {
            name: forms.Textarea(attrs={"rows": 4})
            for name in ["community_benefit", "do_no_harm", "risks"]
        }


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What is it?"),
        choices=[
            (k, v) for k, v in Document.Kind.choices if k not in (Document.Kind.IMPACT_EVIDENCE,)
        ],
    )
    file = forms.FileField(
        label=_("File"), help_text=_("PDF, JPEG, PNG or WebP up to 10 MB; MP4 videos up to 50 MB.")
    )
    is_public = forms.BooleanField(label=_("Show it on the project page"), required=False)
    caption = forms.CharField(label=_("Caption (photos)"), max_length=200, required=False)

    def clean(self):
        data = super().clean()
        upload, kind = data.get("file"), data.get("kind")
        if not upload or not kind:
            return data
        if kind == Document.Kind.VIDEO:
            allowed = {"video/mp4"}
        elif kind == Document.Kind.PHOTO:
            allowed = {"image/jpeg", "image/png", "image/webp"}
        else:
            allowed = DOCUMENT_TYPES
        try:
            data["content_type"] = validate_upload(upload, allowed=allowed)
        except ValidationError as error:
            self.add_error("file", error)
        if kind == Document.Kind.IDENTITY and data.get("is_public"):
            self.add_error("is_public", _("Identity documents are never shown publicly."))
        return data


class ReviewDecisionForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=5000,
    )


class EndorsementForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("endorse", _("Endorse this project")), ("decline", _("Decline to endorse"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note to the owner"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )


class UpdateForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=140)
    body = forms.CharField(
        label=_("What happened"), widget=forms.Textarea(attrs={"rows": 5}), max_length=10000
    )


class MilestoneForm(forms.Form):
    title = forms.CharField(label=_("Milestone"), max_length=140)
    due_on = forms.DateField(label=_("Due"), widget=forms.DateInput(attrs={"type": "date"}))


class ImpactReportForm(forms.Form):
    period_start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    custom_label = forms.CharField(
        label=_("Other indicator (optional)"), max_length=100, required=False
    )
    custom_value = forms.DecimalField(
        label=_("Its value"), min_value=0, required=False, max_digits=14, decimal_places=2
    )
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label, unit in STANDARD_IMPACT_INDICATORS:
            self.fields[f"indicator_{key}"] = forms.DecimalField(
                label=f"{label} ({unit})" if unit else label,
                min_value=0,
                max_digits=14,
                decimal_places=2,
                required=True,
            )

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("The period ends before it starts."))
        if bool(data.get("custom_label")) != (data.get("custom_value") is not None):
            self.add_error("custom_value", _("Give both a name and a value, or neither."))
        self._check_jobs_add_up(data)
        return data

    #: The "of which" figures: each counts some of the jobs created.
    JOB_SUBSETS = ("jobs_returnees", "jobs_women", "jobs_non_migrants")
    #: Those that count different people: whoever came back once migrated.
    DISJOINT_JOB_SUBSETS = ("jobs_returnees", "jobs_non_migrants")

    def _check_jobs_add_up(self, data: dict) -> None:
        jobs = data.get("indicator_jobs_created")
        if jobs is None:
            return
        params = {"jobs": number_format(jobs.normalize())}
        for key in self.JOB_SUBSETS:
            part = data.get(f"indicator_{key}")
            if part is not None and part > jobs:
                self.add_error(
                    f"indicator_{key}",
                    _("This cannot be more than the jobs created (%(jobs)s).") % params,
                )
        # add_error took any figure already refused out of the cleaned data.
        parts = [data.get(f"indicator_{key}") for key in self.DISJOINT_JOB_SUBSETS]
        if None not in parts and sum(parts) > jobs:
            self.add_error(
                f"indicator_{self.DISJOINT_JOB_SUBSETS[-1]}",
                _(
                    "Returnees and non-migrant residents together cannot hold more "
                    "than the jobs created (%(jobs)s)."
                )
                % params,
            )

    def indicator_values(self) -> dict:
        return {
            key: self.cleaned_data[f"indicator_{key}"]
            for key, _label, _unit in STANDARD_IMPACT_INDICATORS
        }
