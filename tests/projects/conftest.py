import pytest
from django.contrib.auth.models import Group

from tests.factories import MembershipFactory


@pytest.fixture
def second_reviewer(reviewer):
    membership = reviewer.memberships.get()
    other = MembershipFactory(organization=membership.organization, role="reviewer").user
    other.groups.add(Group.objects.get(name="Reviewers"))
    return other
