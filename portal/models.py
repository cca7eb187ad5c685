"""The people of the portal: users and their profile, consent, territories,
organizations and memberships, the audit trail and in-portal notifications.

This layer knows nothing of projects or money.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from .prepared import Insert


def currency_choices() -> list[tuple[str, str]]:
    return [(code, code) for code in settings.PUENTE_CURRENCIES]


class VerificationTier(models.TextChoices):
    UNVERIFIED = "unverified", _("Not verified")
    IDENTITY_VERIFIED = "identity_verified", _("Identity verified")
    ENHANCED = "enhanced", _("Enhanced verification")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person with an account. Email is the login; the profile lives on the
    user row itself so every page that greets someone costs no extra query."""

    username = None
    first_name = None
    last_name = None
    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    country_of_residence = CountryField(_("country of residence"), blank=True)
    country_of_origin = CountryField(_("country of origin"), blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    preferred_currency = models.CharField(
        _("preferred currency"), max_length=3, choices=currency_choices, default="USD"
    )
    is_returnee = models.BooleanField(_("I have returned to my country of origin"), default=False)
    verification_tier = models.CharField(
        _("verification level"),
        max_length=20,
        choices=VerificationTier.choices,
        default=VerificationTier.UNVERIFIED,
        help_text=_(
            "Set by staff after checking identity documents; it decides investment limits."
        ),
    )
    # The header shows it on every page from the row the request already has;
    # notify() adds to it and opening the notifications recounts it.
    unread_notifications = models.PositiveIntegerField(default=0, editable=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    def record_consent(self, kind: str, *, granted: bool, version: str = "") -> ConsentRecord:
        return ConsentRecord.objects.create(user=self, kind=kind, granted=granted, version=version)

    def current_consents(self) -> dict[str, ConsentRecord]:
        """The latest record of each kind: consent is a history, not a flag."""
        latest: dict[str, ConsentRecord] = {}
        for record in self.consents.order_by("recorded_at", "pk"):
            latest[record.kind] = record
        return latest


class ConsentRecord(models.Model):
    """One decision of a person about one kind of consent, kept forever: a
    withdrawal is a new record, so the history can be shown to a regulator."""

    class Kind(models.TextChoices):
        TERMS = "terms", _("Terms of use")
        PRIVACY = "privacy", _("Privacy notice")
        MARKETING = "marketing", _("News and offers by email")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    granted = models.BooleanField(_("granted"))
    version = models.CharField(_("version"), max_length=20, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        indexes = [models.Index(fields=["user", "kind", "recorded_at"])]
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.granted} {self.recorded_at:%Y-%m-%d}"


class Territory(models.Model):
    """A place people come from and invest in: country, region, municipality.

    Territories live in the core layer because a local government is defined
    by the territory it governs; the project catalogue uses them too."""

    class Level(models.TextChoices):
        COUNTRY = "country", _("Country")
        REGION = "region", _("Region")
        MUNICIPALITY = "municipality", _("Municipality")

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=140, unique=True)
    level = models.CharField(_("level"), max_length=20, choices=Level.choices)
    country = CountryField(_("country"))
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("part of"),
    )

    class Meta:
        ordering = ["country", "level", "name"]
        verbose_name = _("territory")
        verbose_name_plural = _("territories")
        constraints = [
            models.CheckConstraint(
                condition=Q(level="country", parent__isnull=True)
                | (~Q(level="country") & Q(parent__isnull=False)),
                name="territory_parent_matches_level",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        expected_parent_level = {
            self.Level.REGION: self.Level.COUNTRY,
            self.Level.MUNICIPALITY: self.Level.REGION,
        }.get(self.level)
        if expected_parent_level and (
            not self.parent or self.parent.level != expected_parent_level
        ):
            raise ValidationError(
                {
                    "parent": _("A %(level)s must be part of a %(parent)s.")
                    % {
                        "level": self.get_level_display(),
                        "parent": self.Level(expected_parent_level).label,
                    }
                }
            )
        if self.parent and self.parent.country != self.country:
            raise ValidationError(
                {"country": _("A territory lies in the same country as its parent.")}
            )

    def ancestors_and_self(self) -> list[Territory]:
        chain, node = [], self
        while node is not None:
            chain.append(node)
            node = node.parent
        return list(reversed(chain))

    def descendant_ids(self) -> set[int]:
        """Ids of this territory and every territory inside it (three levels at most)."""
        ids = {self.pk}
        frontier = {self.pk}
        while frontier:
            frontier = set(
                Territory.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
            )
            ids |= frontier
        return ids


class Organization(models.Model):
    class Kind(models.TextChoices):
        LOCAL_GOVERNMENT = "local_government", _("Local government")
        ENTERPRISE = "enterprise", _("Cooperative or company")
        OPERATOR = "operator", _("Platform operator")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    country = CountryField(_("country"))
    territory = models.ForeignKey(
        Territory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organizations",
        verbose_name=_("territory governed or based in"),
    )
    description = models.TextField(_("description"), blank=True)
    website = models.URLField(_("website"), blank=True)
    verified = models.BooleanField(_("verified by staff"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(User, through="Membership", related_name="organizations")

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="local_government") | Q(territory__isnull=False),
                name="local_government_has_territory",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.kind == self.Kind.LOCAL_GOVERNMENT and not self.territory_id:
            raise ValidationError({"territory": _("A local government governs a territory.")})
        if self.territory_id and self.territory.country != self.country:
            raise ValidationError(
                {"territory": _("The territory must lie in the organization's country.")}
            )


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", _("Administrator")
        MEMBER = "member", _("Member")
        REVIEWER = "reviewer", _("Reviewer")
        FINANCE = "finance", _("Finance officer")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"

    def clean(self) -> None:
        staff_roles = {self.Role.REVIEWER, self.Role.FINANCE}
        if self.role in staff_roles and self.organization.kind != Organization.Kind.OPERATOR:
            raise ValidationError(
                {"role": _("Only the platform operator has reviewers and finance officers.")}
            )


class AuditEntry(models.Model):
    """Who did what to which object, when, from which state to which, and why.
    Append-only: nothing in the portal updates or deletes an entry."""

    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_entries"
    )
    action = models.CharField(_("action"), max_length=80)
    object_type = models.CharField(_("object type"), max_length=80)
    object_id = models.CharField(_("object id"), max_length=64)
    from_state = models.CharField(_("from"), max_length=40, blank=True)
    to_state = models.CharField(_("to"), max_length=40, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"

    @classmethod
    def record(
        cls,
        *,
        actor,
        action: str,
        obj,
        from_state: str = "",
        to_state: str = "",
        reason: str = "",
        data: dict | None = None,
    ) -> AuditEntry:
        return _INSERT_AUDIT_ENTRY(
            cls(
                actor=actor if getattr(actor, "is_authenticated", False) else None,
                action=action,
                object_type=obj._meta.label_lower,
                object_id=str(obj.pk),
                from_state=from_state,
                to_state=to_state,
                reason=reason,
                data=data or {},
            )
        )


# Every money movement records one: written with SQL built once.
_INSERT_AUDIT_ENTRY = Insert(AuditEntry)


class Notification(models.Model):
    """A message shown in the portal's notification list."""

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    verb = models.CharField(max_length=60)
    message = models.CharField(_("message"), max_length=300)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"])]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.message


from .kyc import IdentityDocument, VerificationRequest  # noqa: E402,F401
