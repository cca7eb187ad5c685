import pytest
from django.core.management import call_command
from django.db import transaction


@pytest.fixture(scope="module")
def _cms_module_content(django_db_setup, django_db_blocker):
    """Seed people, places, the home pages and the CMS content once per test
    module, inside a transaction rolled back when the module is done; each test
    runs in its own savepoint within it (seeding takes several seconds)."""
    from cms.demo import seed_cms

    with django_db_blocker.unblock():
        with transaction.atomic():
            call_command("seed_demo", "--without-projects", verbosity=0)
            seed_cms()
            yield
            transaction.set_rollback(True)


@pytest.fixture
def cms_seeded(_cms_module_content, db):
    """The seeded CMS content, for one test."""


@pytest.fixture
def lesson(cms_seeded):
    from cms.models import LessonPage

    return LessonPage.objects.get(slug="what-a-remittance-really-costs", locale__language_code="en")
