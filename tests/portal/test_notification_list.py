"""The notifications a person was sent, in the portal: a count of unread ones in
the header of every page (no query of its own), the list newest first, opening
one marks it read and goes where it points, and nobody opens another's."""

import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy

from portal.models import Notification
from portal.notifications import mark_read, notify, unread_recount
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def tell(user, text: str, url: str = "/en/pledges/") -> Notification:
    return notify([user], verb="test", message=text, url=url, email=False)[0]


def header_count(html: str) -> str | None:
    nav = html.split('<nav class="main-nav"')[1].split("</nav>")[0]
    if '<span class="badge"' not in nav:
        return None
    return nav.split('<span class="badge" aria-hidden="true">')[1].split("<")[0]


def test_notify_counts_one_unread_notification_per_person(user):
    other = UserFactory()
    notify([user, other, user], verb="test", message="Paid", email=False)
    notify([user], verb="test", message="Paid again", email=False)
    user.refresh_from_db()
    other.refresh_from_db()
    assert (user.unread_notifications, other.unread_notifications) == (2, 1)


def test_the_header_shows_the_unread_count_on_every_page(client, user):
    client.force_login(user)
    assert header_count(client.get("/en/dashboard/investor/").content.decode()) is None
    tell(user, "Your pledge was paid.")
    tell(user, "Your statement is ready.")
    html = client.get("/en/dashboard/investor/").content.decode()
    assert header_count(html) == "2"
    assert '<span class="visually-hidden">(2 unread)</span>' in html
    with translation.override("es"):
        html = client.get("/es/projects/").content.decode()
    assert header_count(html) == "2" and "(2 sin leer)" in html


def test_the_list_shows_one_s_own_notifications_newest_first(client, user):
    tell(user, "First")
    tell(user, "Second")
    tell(UserFactory(), "Someone else's")
    client.force_login(user)
    html = client.get("/en/notifications/").content.decode()
    assert html.index(">Second<") < html.index(">First<")
    assert "Someone else" not in html
    assert html.count('<li class="notification unread">') == 2
    assert "You have 2 unread notifications." in html


def test_opening_a_notification_marks_it_read_and_goes_where_it_points(client, user):
    first, second = tell(user, "Paid", "/en/pledges/"), tell(user, "Due", "/en/wallet/")
    client.force_login(user)
    response = client.get(f"/en/notifications/{first.pk}/")
    assert response.status_code == 302 and response["Location"] == "/en/pledges/"
    first.refresh_from_db()
    second.refresh_from_db()
    user.refresh_from_db()
    assert first.read_at is not None and second.read_at is None
    assert user.unread_notifications == 1
    # Opening it again changes nothing.
    client.get(f"/en/notifications/{first.pk}/")
    user.refresh_from_db()
    assert user.unread_notifications == 1


def test_nobody_opens_or_reads_another_s_notification(client, user):
    theirs = tell(UserFactory(), "Private")
    client.force_login(user)
    assert client.get(f"/en/notifications/{theirs.pk}/").status_code == 404
    client.post("/en/notifications/read/")
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_notification_never_sends_anyone_off_site(client, user):
    client.force_login(user)
    for url in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)", ""):
        notification = tell(user, "Look", url)
        response = client.get(f"/en/notifications/{notification.pk}/")
        assert response["Location"] == "/en/notifications/", url


def test_mark_all_as_read(client, user):
    for number in range(3):
        tell(user, f"Message {number}")
    client.force_login(user)
    assert client.get("/en/notifications/read/").status_code == 405
    response = client.post("/en/notifications/read/")
    assert response["Location"] == "/en/notifications/"
    assert not Notification.objects.filter(recipient=user, read_at__isnull=True).exists()
    user.refresh_from_db()
    assert user.unread_notifications == 0
    html = client.get(response["Location"]).content.decode()
    assert "unread notification" not in html and header_count(html) is None


def test_the_list_sets_a_drifted_count_right(client, user):
    tell(user, "One")
    type(user).objects.filter(pk=user.pk).update(unread_notifications=40)
    client.force_login(user)
    html = client.get("/en/notifications/").content.decode()
    assert header_count(html) == "1"
    assert unread_recount(user) == 1


def test_the_list_is_paged_with_a_fixed_number_of_queries(
    client, user, django_assert_max_num_queries
):
    Notification.objects.bulk_create(
        Notification(recipient=user, verb="test", message=f"Message {n}") for n in range(60)
    )
    unread_recount(user)
    client.force_login(user)
    client.get("/en/notifications/")
    with django_assert_max_num_queries(8) as captured:
        first = client.get("/en/notifications/").content.decode()
    with django_assert_max_num_queries(len(captured)):
        third = client.get("/en/notifications/?page=3").content.decode()
    assert first.count('<li class="notification') == 25 and "Page 1 of 3" in first
    assert third.count('<li class="notification') == 10 and "Message 0<" in third


def test_an_empty_list_says_what_will_appear(client, user):
    client.force_login(user)
    html = client.get("/en/notifications/").content.decode()
    assert "Nothing yet" in html and 'class="notification-list"' not in html


def test_the_list_needs_a_signed_in_person(client):
    response = client.get("/en/notifications/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("language", ["es", "fr", "pt", "ar"])
def test_the_list_speaks_the_page_s_language_and_each_message_its_own(client, language):
    person = UserFactory(preferred_language="en")
    notify(
        [person],
        verb="test",
        message=gettext_lazy("Your pledge of %(amount)s was paid."),
        params={"amount": "10 USD"},
        email=False,
    )
    client.force_login(person)
    html = client.get(f"/{language}/notifications/").content.decode()
    assert f'<html lang="{language}"' in html
    # What the page says is translated; the message is in its reader's language.
    assert "You have 1 unread notification." not in html and "Mark all as read" not in html
    assert "Your pledge of 10 USD was paid." in html
    assert '<a href="/' in html and 'dir="auto"' in html


def test_mark_read_without_a_notification_reads_them_all(user):
    tell(user, "A")
    tell(user, "B")
    mark_read(user)
    assert user.unread_notifications == 0
