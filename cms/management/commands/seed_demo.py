"""Demo data for the embedded setup: one user per role, local governments in
four countries with their territories, organizations, the home page in the
five languages, demo projects (projects.demo) and their offerings with paid
pledges (finance.demo). Running it again changes nothing already there."""

from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction

from portal.models import Membership, Organization, Territory, User

DEMO_PASSWORD = "puente-demo-2026"

# (country, region, municipality) chains, with stable slugs.
TERRITORIES = [
    ("MX", "México", "Zacatecas", "Jerez de García Salinas"),
    ("MX", "México", "Michoacán", "Cherán"),
    ("SN", "Sénégal", "Louga", "Louga"),
    ("SN", "Sénégal", "Kolda", "Vélingara"),
    ("NG", "Nigeria", "Enugu", "Nsukka"),
    ("PH", "Philippines", "Ilocos Norte", "Laoag City"),
]

LOCAL_GOVERNMENTS = [
    ("municipio-de-jerez", "Municipio de Jerez", "MX", "mx-zacatecas-jerez-de-garcia-salinas"),
    ("commune-de-louga", "Commune de Louga", "SN", "sn-louga-louga"),
    ("nsukka-local-government", "Nsukka Local Government", "NG", "ng-enugu-nsukka"),
    ("city-government-of-laoag", "City Government of Laoag", "PH", "ph-ilocos-norte-laoag-city"),
]

ENTERPRISES = [
    (
        "cooperativa-mezcalera-de-jerez",
        "Cooperativa Mezcalera de Jerez",
        "MX",
        "mx-zacatecas-jerez-de-garcia-salinas",
        "Returnees and local producers distilling and selling agave spirits together.",
    ),
    (
        "gie-teranga-agro",
        "GIE Teranga Agro",
        "SN",
        "sn-louga-louga",
        "An economic interest group processing millet and cowpea for local markets.",
    ),
]

# email, full name, residence, origin, language, returnee, organization slug, role
USERS = [
    ("investor@puente.example", "Amara Diallo", "FR", "SN", "fr", False, None, None),
    (
        "entrepreneur@puente.example",
        "Lucía Hernández",
        "MX",
        "MX",
        "es",
        True,
        "cooperativa-mezcalera-de-jerez",
        Membership.Role.ADMIN,
    ),
    (
        "government@puente.example",
        "José Ramírez",
        "MX",
        "MX",
        "es",
        False,
        "municipio-de-jerez",
        Membership.Role.ADMIN,
    ),
    (
        "reviewer@puente.example",
        "Grace Okafor",
        "NG",
        "NG",
        "en",
        False,
        "puente-operations",
        Membership.Role.REVIEWER,
    ),
]

HOME = {
    "en": (
        "Puente",
        "Your savings can build home, not only support it.",
        "Invest part of what you send home in vetted local projects and diaspora bonds, "
        "learn how to do it well, and see what your money earned and built.",
    ),
    "es": (
        "Puente",
        "Sus ahorros pueden construir su tierra, no solo sostenerla.",
        "Invierta parte de lo que envía a casa en proyectos locales verificados y bonos de la "
        "diáspora, aprenda a hacerlo bien y vea lo que su dinero ganó y construyó.",
    ),
    "fr": (
        "Puente",
        "Votre épargne peut bâtir le pays, pas seulement le soutenir.",
        "Investissez une partie de ce que vous envoyez au pays dans des projets locaux "
        "vérifiés et des obligations de la diaspora, apprenez à bien le faire et voyez ce "
        "que votre argent a rapporté et construit.",
    ),
    "pt": (
        "Puente",
        "As suas poupanças podem construir a sua terra, não só sustentá-la.",
        "Invista parte do que envia para casa em projetos locais verificados e obrigações "
        "da diáspora, aprenda a fazê-lo bem e veja o que o seu dinheiro rendeu e construiu.",
    ),
    "ar": (
        "Puente",
        "مدخراتك يمكن أن تبني وطنك، لا أن تعيله فقط.",
        "استثمر جزءًا مما ترسله إلى بلدك في مشاريع محلية موثّقة وسندات المغتربين، وتعلّم "
        "كيف تفعل ذلك جيدًا، وشاهد ما حققته أموالك وما بنته.",
    ),
}


def slug_for(*names: str) -> str:
    """Territory slugs spell the path from the country down: mx-zacatecas-jerez."""
    from django.utils.text import slugify

    return "-".join(slugify(name) for name in names)


class Command(BaseCommand):
    help = (
        "Load demo users, territories, organizations, projects, offerings and pages (idempotent)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--without-projects",
            action="store_true",
            help="Only people, places and pages (fast; used by tests).",
        )

    @transaction.atomic
    def handle(self, *args, **options):
        territories = self.seed_territories()
        organizations = self.seed_organizations(territories)
        self.seed_users(organizations)
        self.seed_pages()
        if not options["without_projects"]:
            from cms.demo import seed_cms
            from finance.demo import seed_offerings
            from projects.demo import seed_projects

            out = None if options["verbosity"] == 0 else self.stdout
            seed_projects(stdout=out)
            seed_offerings(stdout=out)
            seed_cms(stdout=out)
        if options["verbosity"] == 0:
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready. Users (password '{DEMO_PASSWORD}'): "
                + ", ".join(u[0] for u in USERS)
                + ", admin@puente.example"
            )
        )

    def seed_territories(self) -> dict[str, Territory]:
        by_slug: dict[str, Territory] = {}
        for country, country_name, region, municipality in TERRITORIES:
            nation, _ = Territory.objects.get_or_create(
                slug=slug_for(country),
                defaults={
                    "name": country_name,
                    "level": Territory.Level.COUNTRY,
                    "country": country,
                },
            )
            state, _ = Territory.objects.get_or_create(
                slug=slug_for(country, region),
                defaults={
                    "name": region,
                    "level": Territory.Level.REGION,
                    "country": country,
                    "parent": nation,
                },
            )
            town, _ = Territory.objects.get_or_create(
                slug=slug_for(country, region, municipality),
                defaults={
                    "name": municipality,
                    "level": Territory.Level.MUNICIPALITY,
                    "country": country,
                    "parent": state,
                },
            )
            by_slug.update({nation.slug: nation, state.slug: state, town.slug: town})
        return by_slug

    def seed_organizations(self, territories) -> dict[str, Organization]:
        organizations = {}
        for slug, name, country, territory_slug in LOCAL_GOVERNMENTS:
            organizations[slug], _ = Organization.objects.get_or_create(
                slug=slug,
                defaults={
                    "name": name,
                    "kind": Organization.Kind.LOCAL_GOVERNMENT,
                    "country": country,
                    "territory": territories[territory_slug],
                    "verified": True,
                },
            )
        for slug, name, country, territory_slug, description in ENTERPRISES:
            organizations[slug], _ = Organization.objects.get_or_create(
                slug=slug,
                defaults={
                    "name": name,
                    "kind": Organization.Kind.ENTERPRISE,
                    "country": country,
                    "territory": territories[territory_slug],
                    "description": description,
                    "verified": slug != "gie-teranga-agro",
                },
            )
        organizations["puente-operations"], _ = Organization.objects.get_or_create(
            slug="puente-operations",
            defaults={
                "name": "Puente operations",
                "kind": Organization.Kind.OPERATOR,
                "country": "MX",
                "verified": True,
            },
        )
        return organizations

    def seed_users(self, organizations) -> None:
        from allauth.account.models import EmailAddress

        reviewers, _ = Group.objects.get_or_create(name="Reviewers")
        reviewers.permissions.add(Permission.objects.get(codename="access_admin"))
        for email, name, residence, origin, language, returnee, org_slug, role in USERS:
            user = self._user(
                email,
                full_name=name,
                country_of_residence=residence,
                country_of_origin=origin,
                preferred_language=language,
                is_returnee=returnee,
            )
            EmailAddress.objects.get_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
            if org_slug:
                Membership.objects.get_or_create(
                    user=user, organization=organizations[org_slug], defaults={"role": role}
                )
            if role == Membership.Role.REVIEWER:
                user.groups.add(reviewers)
        admin = self._user(
            "admin@puente.example", full_name="Puente Admin", is_staff=True, is_superuser=True
        )
        EmailAddress.objects.get_or_create(
            user=admin, email=admin.email, defaults={"verified": True, "primary": True}
        )

    def _user(self, email: str, **fields) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User(email=email, **fields)
            user.set_password(DEMO_PASSWORD)
            user.save()
        return user

    def seed_pages(self) -> None:
        from wagtail.models import Locale, Page, Site

        from cms.models import HomePage

        locales = {code: Locale.objects.get_or_create(language_code=code)[0] for code in HOME}
        root = Page.get_first_root_node()
        home = HomePage.objects.filter(locale=locales["en"]).first()
        if home is None:
            title, headline, intro = HOME["en"]
            home = HomePage(
                title=title, slug="home-en", headline=headline, intro=intro, locale=locales["en"]
            )
            root.add_child(instance=home)
            home.save_revision().publish()
            site = Site.objects.filter(is_default_site=True).first()
            old_root = site.root_page if site else None
            if site is None:
                Site.objects.create(
                    hostname="localhost", root_page=home, is_default_site=True, site_name="Puente"
                )
            else:
                site.root_page = home
                site.site_name = "Puente"
                site.save()
            # Wagtail's own welcome page is replaced by the home page.
            if old_root and old_root.pk != home.pk and old_root.specific_class is Page:
                old_root.delete()
        for code, (title, headline, intro) in HOME.items():
            if code == "en" or HomePage.objects.filter(locale=locales[code]).exists():
                continue
            translated = home.copy_for_translation(locales[code])
            translated.title, translated.headline, translated.intro = title, headline, intro
            translated.slug = f"home-{code}"
            translated.save_revision().publish()
