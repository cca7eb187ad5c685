import factory
from allauth.account.models import EmailAddress

from portal.models import Membership, Organization, Territory, User

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name")
    country_of_residence = "US"
    country_of_origin = "MX"
    preferred_language = "en"

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class TerritoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Territory

    name = factory.Sequence(lambda n: f"Country {n}")
    slug = factory.Sequence(lambda n: f"territory-{n}")
    level = Territory.Level.COUNTRY
    country = "MX"
    parent = None


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"organization-{n}")
    kind = Organization.Kind.ENTERPRISE
    country = "MX"
    verified = True


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Membership.Role.MEMBER


class StaffFactory(UserFactory):
    """Someone of the platform operator's staff: the reviewer role, which every
    back-office decision asks for (portal/permissions.py). Django's is_staff
    flag alone grants nothing there."""

    @factory.post_generation
    def staff_role(self, create, extracted, **kwargs):
        if not create:
            return
        operator = Organization.objects.filter(kind=Organization.Kind.OPERATOR).first()
        if operator is None:
            operator = OrganizationFactory(kind=Organization.Kind.OPERATOR, name="Operator")
        Membership.objects.create(
            user=self, organization=operator, role=extracted or Membership.Role.REVIEWER
        )
