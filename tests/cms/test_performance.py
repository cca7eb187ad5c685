"""Query counts and page weight of the home page, the hub and a lesson.

Weights count what a phone downloads on first load: the HTML, every stylesheet
and script it links, and every image it shows (renditions sized for the layout,
never the uploaded original)."""

import re
from io import BytesIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from PIL import Image as PILImage
from wagtail.images import get_image_model

from cms.models import LessonPage

MAX_QUERIES = 15
MAX_PAGE_BYTES = 300 * 1024


def _photo(name: str, size=(3000, 2000)):
    """A large, noisy photo (hard to compress), as an editor might upload."""
    import random

    from django.core.files.images import ImageFile

    random.seed(1)
    image = PILImage.new("RGB", size)
    image.putdata(
        [(random.randrange(256), random.randrange(256), 90) for _ in range(size[0] * size[1])]
    )
    buffer = BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return get_image_model().objects.create(title=name, file=ImageFile(buffer, name=f"{name}.jpg"))


@pytest.fixture
def illustrated_lesson(lesson):
    """The remittance lesson with two large photos in its body."""
    stream = lesson.body.raw_data
    for number in range(2):
        stream.insert(
            1,
            {
                "type": "image",
                "value": {
                    "image": _photo(f"market-{number}").pk,
                    "alt_text": "A market",
                    "caption": "Market day",
                },
            },
        )
    lesson.body = list(stream)
    lesson.save_revision().publish()
    return LessonPage.objects.get(pk=lesson.pk)


def _weight(client, url) -> tuple[int, list[str]]:
    html = client.get(url).content
    total = len(html)
    assets = re.findall(rb'(?:href|src)="(/(?:static|media)/[^"]+)"', html)
    seen = []
    for asset in dict.fromkeys(a.decode() for a in assets):
        if asset.startswith(settings.STATIC_URL):
            path = finders.find(asset.removeprefix(settings.STATIC_URL))
        else:
            path = Path(settings.MEDIA_ROOT) / asset.removeprefix(settings.MEDIA_URL)
        if (
            path
            and Path(path).exists()
            and not asset.endswith((".svg", ".ico"))
            or (path and asset.endswith(".svg"))
        ):
            total += Path(path).stat().st_size
            seen.append(asset)
    return total, seen


def test_home_page_query_count(cms_seeded, client, django_assert_max_num_queries):
    client.get("/en/")  # warm the site root cache, as in production
    with django_assert_max_num_queries(MAX_QUERIES):
        assert client.get("/en/").status_code == 200


def test_home_page_query_count_signed_in(cms_seeded, client, user, django_assert_max_num_queries):
    client.force_login(user)
    client.get("/en/")
    with django_assert_max_num_queries(MAX_QUERIES):
        assert client.get("/en/").status_code == 200


def test_lesson_query_count_does_not_grow_with_images(
    illustrated_lesson, client, user, django_assert_max_num_queries
):
    client.force_login(user)
    client.get(illustrated_lesson.url)  # renditions are created on the first view
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(illustrated_lesson.url)
    html = response.content.decode()
    assert html.count('loading="lazy"') >= 2 and ".webp" in html
    images = re.findall(r"<img [^>]*>", html)
    assert images and all('width="720"' in tag and 'height="480"' in tag for tag in images)


def test_lesson_query_count_after_a_quiz_post(lesson, client, user, django_assert_max_num_queries):
    client.force_login(user)
    quiz = next(child for child in lesson.body if child.block_type == "quiz")
    client.get(lesson.url)
    # Plus saving the attempt: a select, an insert and update_or_create's savepoints.
    with django_assert_max_num_queries(MAX_QUERIES + 6):
        client.post(f"{lesson.url}quiz/{quiz.id}/", {"q0": "1", "q1": "0", "q2": "0"})


@pytest.mark.parametrize("where", ["hub", "lesson"])
def test_hub_and_lesson_stay_under_300_kb(illustrated_lesson, client, where):
    url = (
        illustrated_lesson.get_parent().get_parent().url
        if where == "hub"
        else illustrated_lesson.url
    )
    client.get(url)
    total, assets = _weight(client, url)
    assert any(a.endswith("site.css") for a in assets)
    if where == "lesson":
        assert sum(a.endswith(".webp") for a in assets) == 2
    print(f"{where}: {total} bytes with {assets}")
    assert total <= MAX_PAGE_BYTES
