"""The opportunity catalogue: projects, their submission and vetting, media
and documents, updates, milestones, impact, endorsements and followers."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from portal.models import Organization, Territory

#: PostgreSQL text-search configuration. Projects are written in five languages,
#: so no language's stemmer or stop words would suit all of them; 'simple' only
#: lower-cases. Naming it also makes the vector immutable, which a generated
#: column requires.
SEARCH_CONFIG = "simple"

#: On PostgreSQL, a column the database computes from title, summary and story
#: whenever a row is written (GENERATED ALWAYS ... STORED, GIN-indexed; migration
#: 0003). The model does not declare it: SQLite has no tsvector, and no code
#: ever writes it. projects.filters reads it for matching and ranking.
SEARCH_COLUMN = "search_document"


def search_vector():
    """Title weighs most, then the summary, then the story. The same document as
    the SEARCH_COLUMN, computed on the fly (migration 0002 indexed it)."""
    from django.contrib.postgres.search import SearchVector

    return (
        SearchVector("title", weight="A", config=SEARCH_CONFIG)
        + SearchVector("summary", weight="B", config=SEARCH_CONFIG)
        + SearchVector("story", weight="C", config=SEARCH_CONFIG)
    )


def sector_choices():
    from .vetting import SECTORS

    return list(SECTORS)


def risk_choices():
    from .vetting import RISK_RATINGS

    return [(letter, f"{letter} — {label}") for letter, label, _description in RISK_RATINGS]


def currency_choices():
    return [(code, code) for code in settings.PUENTE_CURRENCIES]


class Instrument(models.TextChoices):
    DONATION_MATCHING = "donation_matching", _("Donation with matching")
    LOAN = "loan", _("Loan")
    REVENUE_SHARE = "revenue_share", _("Revenue share")


class ProjectQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status__in=Project.PUBLIC_STATUSES)

    def visible_to(self, user):
        """Published projects, plus what the user owns, governs or reviews."""
        from portal.permissions import Role, governments_of, has_role

        if not getattr(user, "is_authenticated", False):
            return self.published()
        if has_role(user, Role.REVIEWER):
            return self
        territory_ids: set[int] = set()
        for government in governments_of(user):
            territory_ids |= government.territory.descendant_ids()
        return self.filter(
            Q(status__in=Project.PUBLIC_STATUSES)
            | Q(owner=user)
            | Q(territory_id__in=territory_ids)
        )


class Project(models.Model):
    """A local development project seeking diaspora money: submitted by an
    entrepreneur (often a returnee) or published by a local government."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted for review")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested")
        APPROVED = "approved", _("Approved and published")
        REJECTED = "rejected", _("Rejected")
        FUNDED = "funded", _("Funded")
        CLOSED = "closed", _("Closed")

    class Origin(models.TextChoices):
        ENTREPRENEUR = "entrepreneur", _("Entrepreneur's project")
        MUNICIPAL = "municipal", _("Local government opportunity")

    class Endorsement(models.TextChoices):
        NONE = "none", _("Not yet considered")
        ENDORSED = "endorsed", _("Endorsed by the local government")
        DECLINED = "declined", _("Endorsement declined")

    PUBLIC_STATUSES = (Status.APPROVED, Status.FUNDED, Status.CLOSED)
    EDITABLE_STATUSES = (Status.DRAFT, Status.CHANGES_REQUESTED, Status.SUBMITTED)

    origin = models.CharField(
        _("origin"), max_length=20, choices=Origin.choices, default=Origin.ENTREPRENEUR
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="projects",
        verbose_name=_("owner"),
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="projects",
        verbose_name=_("cooperative, company or local government"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    # Step 1: the story
    title = models.CharField(_("title"), max_length=140)
    slug = models.SlugField(_("slug"), max_length=160, unique=True)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    story = models.TextField(_("story"), blank=True)
    sector = models.CharField(_("sector"), max_length=40, choices=sector_choices, blank=True)
    sdgs = models.JSONField(_("Sustainable Development Goals"), default=list, blank=True)
    territory = models.ForeignKey(
        Territory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="projects",
        verbose_name=_("municipality"),
    )
    # Step 2: the team
    led_by_returnee = models.BooleanField(_("led by a returnee"), default=False)
    led_by_woman = models.BooleanField(_("led by a woman"), default=False)
    # Step 3: money
    currency = models.CharField(
        _("currency"), max_length=3, choices=currency_choices, default="USD"
    )
    funding_sought = models.DecimalField(
        _("funding sought"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("1"))],
    )
    instrument = models.CharField(
        _("instrument proposed"), max_length=20, choices=Instrument.choices, blank=True
    )
    # Step 4: impact and do-no-harm
    jobs_planned = models.PositiveIntegerField(
        _("jobs to be created"), null=True, blank=True, validators=[MaxValueValidator(100_000)]
    )
    beneficiaries_planned = models.PositiveIntegerField(
        _("people who benefit"), null=True, blank=True, validators=[MaxValueValidator(10_000_000)]
    )
    community_benefit = models.TextField(_("how people who never migrated benefit"), blank=True)
    do_no_harm = models.TextField(
        _("how the project avoids favouring returnees over people who stayed"), blank=True
    )
    risks = models.TextField(_("risks and how you will manage them"), blank=True)
    # Vetting outcome
    risk_rating = models.CharField(_("risk rating"), max_length=1, choices=risk_choices, blank=True)
    risk_reason = models.TextField(_("reason for the risk rating"), blank=True)
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    endorsement = models.CharField(
        _("local government endorsement"),
        max_length=10,
        choices=Endorsement.choices,
        default=Endorsement.NONE,
    )
    endorsement_note = models.TextField(_("endorsement note"), blank=True)
    # Denormalised for sorting and filtering the catalogue; finance keeps them
    # in step with the ledger when money moves.
    amount_raised = models.DecimalField(
        _("amount raised"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    funded_percent = models.PositiveIntegerField(_("funded %"), default=0, db_index=True)
    closes_at = models.DateTimeField(_("closes"), null=True, blank=True, db_index=True)
    cover_image = models.ForeignKey(
        "wagtailimages.Image",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cover photo"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-created_at"]
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        permissions = [("review_project", "Can review and vet projects")]
        indexes = [
            models.Index(fields=["status", "published_at"]),
            models.Index(fields=["territory", "status"]),
            # The catalogue's sector filter: with it PostgreSQL reads only that
            # sector's rows, instead of matching every row's search document
            # before it looks at the sector.
            models.Index(fields=["sector", "status"]),
            # Full-text search: on PostgreSQL a GIN index on SEARCH_COLUMN
            # (migration 0003), outside the model state like the column.
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(funding_sought__isnull=True) | Q(funding_sought__gt=0),
                name="project_funding_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        self.ensure_slug()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("projects:detail", args=[self.slug])

    def ensure_slug(self) -> None:
        # A random suffix: two projects may share a title, and a slug must not
        # reveal how many projects exist.
        if not self.slug:
            self.slug = f"{slugify(self.title)[:140] or 'project'}-{secrets.token_hex(3)}"

    @property
    def is_public(self) -> bool:
        return self.status in self.PUBLIC_STATUSES

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE_STATUSES

    def clean(self) -> None:
        errors = {}
        if self.territory_id and self.territory.level != Territory.Level.MUNICIPALITY:
            errors["territory"] = _("Choose a municipality.")
        for number in self.sdgs or []:
            if not isinstance(number, int) or not 1 <= number <= 17:
                errors["sdgs"] = _("Sustainable Development Goals are numbered 1 to 17.")
        if errors:
            raise ValidationError(errors)

    # The fields a step of the submission needs before the project can be submitted.
    REQUIRED_FOR_SUBMISSION = {
        "story": ["title", "summary", "story", "sector", "sdgs", "territory"],
        "team": ["team_members"],
        "money": ["currency", "funding_sought", "instrument", "budget_lines"],
        "impact": [
            "jobs_planned",
            "beneficiaries_planned",
            "community_benefit",
            "do_no_harm",
            "risks",
        ],
        "documents": ["business_plan"],
    }

    def missing_by_step(self) -> dict[str, list[str]]:
        missing: dict[str, list[str]] = {}
        for step, names in self.REQUIRED_FOR_SUBMISSION.items():
            absent = []
            for name in names:
                if name == "team_members":
                    present = self.team_members.exists()
                elif name == "budget_lines":
                    present = self.budget_lines.exists()
                elif name == "business_plan":
                    present = self.documents.filter(kind=Document.Kind.BUSINESS_PLAN).exists()
                else:
                    value = getattr(self, name if name != "territory" else "territory_id")
                    present = value not in (None, "", [])
                if not present:
                    absent.append(name)
            missing[step] = absent
        return missing

    def completeness(self) -> int:
        """Percentage of required items present, for the progress indicator."""
        missing = self.missing_by_step()
        total = sum(len(names) for names in self.REQUIRED_FOR_SUBMISSION.values())
        absent = sum(len(names) for names in missing.values())
        return round(100 * (total - absent) / total)

    def snapshot(self) -> dict:
        """What a reviewer sees of a submitted version, as plain data that no
        interface language changes: codes rather than their labels, amounts as
        their canonical text ("14000.00", whether the amount was just typed or
        read back). Labels and currency formatting are put on only when it is
        shown, so a version submitted in Spanish reads the same to a reviewer in
        Arabic, and comparing it with today's snapshot finds only real edits."""

        def canonical_amount(amount) -> str:
            # The two decimals the database stores, whether the amount was just
            # assigned (14000) or read back (14000.00).
            if amount is None:
                return ""
            return str(Decimal(amount).quantize(Decimal("0.01")))

        return {
            "title": self.title,
            "summary": self.summary,
            "story": self.story,
            "sector": self.sector,
            "sdgs": list(self.sdgs or []),
            "territory": self.territory.name if self.territory_id else "",
            "led_by_returnee": self.led_by_returnee,
            "led_by_woman": self.led_by_woman,
            "currency": self.currency,
            "funding_sought": canonical_amount(self.funding_sought),
            "instrument": self.instrument,
            "jobs_planned": self.jobs_planned,
            "beneficiaries_planned": self.beneficiaries_planned,
            "community_benefit": self.community_benefit,
            "do_no_harm": self.do_no_harm,
            "risks": self.risks,
            "team": [f"{m.name} — {m.role}" for m in self.team_members.all()],
            "budget": [
                {"label": b.label, "amount": canonical_amount(b.amount)}
                for b in self.budget_lines.all()
            ],
            "documents": [{"kind": d.kind, "name": d.original_name} for d in self.documents.all()],
        }


class TeamMember(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="team_members")
    name = models.CharField(_("name"), max_length=120)
    role = models.CharField(_("role in the project"), max_length=120)
    is_returnee = models.BooleanField(_("returnee"), default=False)
    is_woman = models.BooleanField(_("woman"), default=False)
    experience = models.TextField(_("skills and experience"), blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("team member")

    def __str__(self) -> str:
        return self.name


class BudgetLine(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="budget_lines")
    label = models.CharField(_("item"), max_length=160)
    amount = models.DecimalField(
        _("amount"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("budget line")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="budget_line_positive")
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.amount}"


def private_storage():
    from django.core.files.storage import storages

    return storages["private"]


def private_upload_path(instance, filename: str) -> str:
    # Random names: an uploaded file's name says nothing and cannot be guessed.
    extension = Document.EXTENSIONS.get(instance.content_type, "bin")
    return f"private/projects/{instance.project_id}/{secrets.token_urlsafe(16)}.{extension}"


class Document(models.Model):
    """A file attached to a project: stored privately, served only through a
    permission-checked download view, never from a public URL."""

    class Kind(models.TextChoices):
        BUSINESS_PLAN = "business_plan", _("Business plan")
        IDENTITY = "identity", _("Identity document")
        PERMIT = "permit", _("Permit or licence")
        QUOTE = "quote", _("Supplier quote")
        PHOTO = "photo", _("Photo")
        VIDEO = "video", _("Video")
        IMPACT_EVIDENCE = "impact_evidence", _("Impact evidence")
        OTHER = "other", _("Other")

    EXTENSIONS = {
        "application/pdf": "pdf",
        "image/jpeg": "jpg",
        "image/png": "png",
        "image/webp": "webp",
        "video/mp4": "mp4",
    }
    ALWAYS_PRIVATE = (Kind.IDENTITY,)

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    file = models.FileField(upload_to=private_upload_path, storage=private_storage, max_length=300)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    is_public = models.BooleanField(_("shown on the project page"), default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "uploaded_at"]
        verbose_name = _("document")
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="identity", is_public=True),
                name="identity_documents_never_public",
            ),
        ]

    def __str__(self) -> str:
        return self.original_name


class ProjectVersion(models.Model):
    """A frozen copy of what was submitted; reviewers compare versions."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    data = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["project", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "number"], name="one_version_number_per_project"
            )
        ]

    def __str__(self) -> str:
        return f"{self.project} v{self.number}"


class Review(models.Model):
    """The due-diligence record of one project: checklist, do-no-harm
    assessment and the reviewers' comments, kept across rounds."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="review")
    checklist = models.JSONField(default=dict, blank=True)
    do_no_harm = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Review of {self.project}"

    def checklist_complete(self) -> bool:
        from .vetting import DO_NO_HARM_QUESTIONS, DUE_DILIGENCE_CHECKLIST

        passed = all(self.checklist.get(c.key, {}).get("passed") for c in DUE_DILIGENCE_CHECKLIST)
        return passed and all(
            self.do_no_harm.get(q.key, {}).get("answer") for q in DO_NO_HARM_QUESTIONS
        )


class ReviewComment(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("comment"))
    visible_to_owner = models.BooleanField(_("visible to the owner"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]


class Approval(models.Model):
    """One reviewer's approval of one submitted version. Publishing needs two
    approvals by different reviewers of the same version (four eyes)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="approvals")
    version = models.ForeignKey(ProjectVersion, on_delete=models.CASCADE, related_name="approvals")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "reviewer"], name="one_approval_per_reviewer_and_version"
            )
        ]


class Follow(models.Model):
    """A person following a project, or a whole territory (a hometown)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows"
    )
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, null=True, blank=True, related_name="followers"
    )
    territory = models.ForeignKey(
        Territory, on_delete=models.CASCADE, null=True, blank=True, related_name="followers"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(project__isnull=False) & Q(territory__isnull=True))
                | (Q(project__isnull=True) & Q(territory__isnull=False)),
                name="follow_one_target",
            ),
            models.UniqueConstraint(
                fields=["user", "project"],
                name="follow_project_once",
                condition=Q(project__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["user", "territory"],
                name="follow_territory_once",
                condition=Q(territory__isnull=False),
            ),
        ]


class ProjectUpdate(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="updates")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=140)
    body = models.TextField(_("what happened"))
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-published_at", "-pk"]
        verbose_name = _("project update")

    def __str__(self) -> str:
        return self.title


class Milestone(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        DONE = "done", _("Done")
        LATE = "late", _("Late")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("milestone"), max_length=140)
    due_on = models.DateField(_("due"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    reached_on = models.DateField(_("reached"), null=True, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("milestone")

    def __str__(self) -> str:
        return self.title


class ImpactReport(models.Model):
    """The indicators an owner reports for one period, verified by a reviewer
    before they count on the project page and in territory totals."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="impact_reports")
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["-period_end", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="impact_period_ordered"
            ),
            models.UniqueConstraint(
                fields=["project", "period_start", "period_end"], name="one_report_per_period"
            ),
        ]


class ImpactValue(models.Model):
    report = models.ForeignKey(ImpactReport, on_delete=models.CASCADE, related_name="values")
    indicator = models.CharField(_("indicator"), max_length=60)
    label = models.CharField(_("label"), max_length=120, blank=True)  # custom indicators
    value = models.DecimalField(
        _("value"), max_digits=16, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "indicator"], name="one_value_per_indicator"),
            models.CheckConstraint(condition=Q(value__gte=0), name="impact_value_not_negative"),
        ]


class ProjectPhoto(models.Model):
    """A public photo, kept as a Wagtail image so pages use resized renditions."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="photos")
    image = models.ForeignKey("wagtailimages.Image", on_delete=models.CASCADE, related_name="+")
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
