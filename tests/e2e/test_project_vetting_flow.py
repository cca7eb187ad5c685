"""A project's way from an entrepreneur's draft to the public catalogue, in a
real browser: the entrepreneur fills in the six submission steps (uploading a
business plan) and submits; a reviewer, logged in with a password and a TOTP
code, sends it back with a comment; the entrepreneur reads the comment, fixes
the project and submits it again; two reviewers each complete the checklist,
the do-no-harm assessment and the risk rating and approve; the project is
published, and an anonymous visitor finds it in the Spanish catalogue by a
filter and a word of its title."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.conftest import assert_accessible, submit, wait_for_fresh_totp_window
from tests.e2e.test_accounts_flow import PASSWORD, log_in, path_of, totp, verified_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TITLE = "Moringa leaf drying cooperative in Vélingara"
SEARCH_WORD = "moringa"
FIRST_SUMMARY = "Women farmers dry and grind moringa leaves for local markets."
FIXED_SUMMARY = (
    "Women farmers dry and grind moringa leaves and sell the powder to the "
    "health posts and markets of Kolda."
)
CHANGES_COMMENT = "The summary does not say who buys the powder. Name the buyers."


def minimal_pdf() -> bytes:
    """A small, valid one-page PDF (the upload check reads the first bytes)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        None,  # the content stream, below
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    text = b"BT /F1 18 Tf 72 770 Td (Business plan: moringa cooperative) Tj ET"
    objects[3] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


# --- People, made with the ORM ---------------------------------------------------------


def make_entrepreneur():
    from portal.models import Membership, Organization, Territory

    user = verified_user("awa.e2e@example.org", "Awa Baldé")
    organization = Organization.objects.create(
        kind=Organization.Kind.ENTERPRISE,
        name="GIE Moringa de Vélingara",
        slug="gie-moringa-velingara-e2e",
        country="SN",
        territory=Territory.objects.get(slug="sn-kolda-velingara"),
        verified=True,
    )
    Membership.objects.create(user=user, organization=organization, role=Membership.Role.ADMIN)
    return user, organization


def make_reviewer(email: str, full_name: str) -> tuple[object, str]:
    """An operator's reviewer with TOTP turned on; returns (user, TOTP secret)."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib.auth.models import Group

    from portal.models import Membership, Organization

    user = verified_user(email, full_name)
    Membership.objects.create(
        user=user,
        organization=Organization.objects.get(slug="puente-operations"),
        role=Membership.Role.REVIEWER,
    )
    user.groups.add(Group.objects.get(name="Reviewers"))
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return user, secret


# --- Browser helpers ---------------------------------------------------------------------


def click_and_wait(page, selector: str) -> None:
    with page.expect_navigation(wait_until="load"):
        page.locator(selector).first.click()


def messages_text(page) -> str:
    return " ".join(page.locator("main").inner_text().split())


def assert_no_form_errors(page, where: str) -> None:
    errors = page.locator("main .errorlist:not(:empty)")
    assert errors.count() == 0, f"{where}: {errors.all_inner_texts()} at {page.url}"


def log_in_with_totp(page, email: str, secret: str) -> None:
    log_in(page, email, PASSWORD)
    assert path_of(page) == "/en/accounts/2fa/authenticate/", page.url
    wait_for_fresh_totp_window()
    page.fill("#id_code", totp(secret))
    submit(page)
    assert path_of(page) != "/en/accounts/2fa/authenticate/", "TOTP code refused"
    assert page.locator("header form[action*='/accounts/logout/']").count() == 1


def fill_step_and_continue(page, slug: str, step: str, fields: dict, checks=()) -> None:
    page.goto(f"/en/projects/{slug}/edit/{step}/")
    assert page.locator("nav.steps [aria-current=step]").count() == 1
    for selector, value in fields.items():
        if page.locator(selector).evaluate("e => e.tagName") == "SELECT":
            page.select_option(selector, value)
        else:
            page.fill(selector, value)
    for selector in checks:
        page.check(selector)
    click_and_wait(page, "main form button[name=save_next]")
    assert_no_form_errors(page, f"step {step}")


def submit_for_review(page, slug: str) -> None:
    page.goto(f"/en/projects/{slug}/edit/submit/")
    assert "Complete every step first." not in messages_text(page), messages_text(page)
    click_and_wait(page, "main form button:has-text('Submit for review')")
    assert path_of(page) == "/en/my-projects/", page.url
    assert "Your project was submitted" in messages_text(page)


def fill_review(page, *, rating: str, reason: str, note: str) -> None:
    """Tick every checklist item, answer every do-no-harm question and rate the risk."""
    form = page.locator("#review-form")
    passed = form.locator("input[type=checkbox][name$='__passed']")
    assert passed.count() >= 10, passed.count()
    for index in range(passed.count()):
        passed.nth(index).check()
    answers = form.locator("input[type=radio][name$='__answer'][value=yes]")
    assert answers.count() >= 5, answers.count()
    for index in range(answers.count()):
        answers.nth(index).check()
    form.locator("textarea[name='checklist__business_plan__note']").fill(note)
    form.locator("select[name=risk_rating]").select_option(rating)
    form.locator("textarea[name=risk_reason]").fill(reason)


def review_action(page, action: str) -> str:
    """Press a decision button of the review page; returns Wagtail's message."""
    click_and_wait(page, f"#review-form button[name=action][value={action}]")
    return " ".join(page.locator(".messages").inner_text().split())


# --- The journey ---------------------------------------------------------------------------


def test_entrepreneur_submits_reviewers_vet_and_the_project_is_found_in_spanish(new_page):
    from portal.models import Territory
    from projects.models import Approval, Document, Project, ReviewComment

    entrepreneur, organization = make_entrepreneur()
    first, first_secret = make_reviewer("ifeoma.e2e@example.org", "Ifeoma Eze")
    second, second_secret = make_reviewer("tomas.e2e@example.org", "Tomás Ortega")
    velingara = Territory.objects.get(slug="sn-kolda-velingara")

    # 1. The entrepreneur starts a project for the organization.
    owner = new_page()
    log_in(owner, entrepreneur.email, PASSWORD)
    owner.goto("/en/my-projects/new/")
    owner.fill("#id_title", TITLE)
    owner.select_option("#id_organization", str(organization.pk))
    submit(owner)
    match = re.fullmatch(r"/en/projects/([\w-]+)/edit/story/", path_of(owner))
    assert match, owner.url
    slug = match.group(1)
    project = Project.objects.get(slug=slug)
    assert (project.owner, project.organization, project.status) == (
        entrepreneur,
        organization,
        Project.Status.DRAFT,
    )

    # 2. The steps, one page each.
    fill_step_and_continue(
        owner,
        slug,
        "story",
        {
            "#id_summary": FIRST_SUMMARY,
            "#id_story": (
                "Moringa grows around every compound in Vélingara, but the leaves rot "
                "in the rainy season. A solar dryer and a grinder let the cooperative "
                "sell powder all year."
            ),
            "#id_sector": "agriculture",
            "#id_territory": str(velingara.pk),
        },
        checks=["input[name=sdgs][value='2']", "input[name=sdgs][value='5']"],
    )
    assert path_of(owner) == f"/en/projects/{slug}/edit/team/", owner.url
    fill_step_and_continue(
        owner,
        slug,
        "team",
        {
            "#id_team-0-name": "Awa Baldé",
            "#id_team-0-role": "Coordinator",
            "#id_team-0-experience": "Ran a cereal bank for six years.",
            "#id_team-1-name": "Mamadou Diallo",
            "#id_team-1-role": "Dryer technician",
        },
        checks=["#id_led_by_woman", "#id_led_by_returnee", "#id_team-0-is_woman"],
    )
    fill_step_and_continue(
        owner,
        slug,
        "money",
        {
            "#id_currency": "XOF",
            "#id_funding_sought": "4500000",
            "#id_instrument": "donation_matching",
            "#id_money-0-label": "Solar dryer",
            "#id_money-0-amount": "3000000",
            "#id_money-1-label": "Grinder and packaging",
            "#id_money-1-amount": "1500000",
        },
    )
    fill_step_and_continue(
        owner,
        slug,
        "impact",
        {
            "#id_jobs_planned": "12",
            "#id_beneficiaries_planned": "400",
            "#id_community_benefit": "Farmers who never left sell their leaves to the cooperative.",
            "#id_do_no_harm": "Membership is open to every household of the village.",
            "#id_risks": "Dust in the grinder: masks and a closed mill room.",
        },
    )
    assert path_of(owner) == f"/en/projects/{slug}/edit/documents/", owner.url
    owner.select_option("#id_kind", Document.Kind.BUSINESS_PLAN)
    owner.set_input_files(
        "#id_file",
        files=[
            {"name": "business-plan.pdf", "mimeType": "application/pdf", "buffer": minimal_pdf()}
        ],
    )
    submit(owner)
    assert "The file was uploaded." in messages_text(owner), messages_text(owner)
    assert owner.locator("main table a:has-text('business-plan.pdf')").count() == 1
    document = Document.objects.get(project=project)
    assert (document.kind, document.content_type) == ("business_plan", "application/pdf")

    project.refresh_from_db()
    assert project.completeness() == 100, project.missing_by_step()
    submit_for_review(owner, slug)
    project.refresh_from_db()
    assert project.status == Project.Status.SUBMITTED
    assert project.versions.count() == 1

    # 3. The first reviewer logs in with a TOTP code and asks for a change.
    reviewer_one = new_page()
    log_in_with_totp(reviewer_one, first.email, first_secret)
    review_path = f"/admin/projects/review/{project.pk}/"
    reviewer_one.goto(review_path)
    assert path_of(reviewer_one) == review_path, reviewer_one.url
    submitted = reviewer_one.locator("#submitted-content").inner_text()
    assert FIRST_SUMMARY in submitted and "business-plan.pdf" in submitted, submitted
    reviewer_one.fill("#review-form textarea[name=comment]", CHANGES_COMMENT)
    message = review_action(reviewer_one, "request_changes")
    assert "Changes requested" in message, message
    project.refresh_from_db()
    assert project.status == Project.Status.CHANGES_REQUESTED
    assert ReviewComment.objects.filter(project=project, author=first).count() == 1

    # 4. The entrepreneur reads the comment, fixes the summary and submits again.
    owner.goto("/en/my-projects/")
    assert "Changes requested" in messages_text(owner)
    owner.goto(f"/en/projects/{slug}/edit/submit/")
    comments = owner.locator('main h3:has-text("Reviewers\' comments") + ul').inner_text()
    assert CHANGES_COMMENT in comments, comments
    owner.goto(f"/en/projects/{slug}/edit/story/")
    assert owner.input_value("#id_summary") == FIRST_SUMMARY
    owner.fill("#id_summary", FIXED_SUMMARY)
    click_and_wait(owner, "main form button[name=save]")
    assert_no_form_errors(owner, "story fix")
    submit_for_review(owner, slug)
    project.refresh_from_db()
    assert (project.status, project.summary) == (Project.Status.SUBMITTED, FIXED_SUMMARY)
    assert project.versions.count() == 2

    # 5. Each reviewer completes the review and approves; the second publishes.
    reviewer_one.goto(review_path)
    assert "Submitted version 2" in reviewer_one.locator("main").inner_text()
    assert FIXED_SUMMARY in reviewer_one.locator("#submitted-content").inner_text()
    fill_review(
        reviewer_one,
        rating="C",
        reason="Market demand is plausible; the dryer supplier is untested.",
        note="Prices checked against Kolda market.",
    )
    message = review_action(reviewer_one, "approve")
    assert "1 of 2 approvals" in message, message
    project.refresh_from_db()
    assert project.status == Project.Status.SUBMITTED
    assert (project.risk_rating, project.approvals.count()) == ("C", 1)

    reviewer_two = new_page()
    log_in_with_totp(reviewer_two, second.email, second_secret)
    reviewer_two.goto(review_path)
    assert reviewer_two.locator("#approvals-count").inner_text().strip() == "1 of 2"
    fill_review(
        reviewer_two,
        rating="C",
        reason="Agree with the first reviewer: supplier risk, strong local demand.",
        note="Second look: buyers named in the summary.",
    )
    message = review_action(reviewer_two, "approve")
    assert "the project is published" in message, message
    project.refresh_from_db()
    assert project.status == Project.Status.APPROVED
    assert project.published_at is not None
    assert set(Approval.objects.filter(project=project).values_list("reviewer", flat=True)) == {
        first.pk,
        second.pk,
    }

    # 6. An anonymous visitor finds it in the Spanish catalogue: by country, then a word.
    visitor = new_page(locale="es-ES")
    visitor.goto("/es/projects/")
    assert visitor.locator("html").get_attribute("lang") == "es"
    assert visitor.locator("main h1").inner_text().strip() == "Proyectos", visitor.title()
    with visitor.expect_response(lambda r: "country=SN" in r.url):
        visitor.select_option("#id_country", "SN")
    visitor.fill("#id_q", SEARCH_WORD)
    with visitor.expect_response(lambda r: "q=" + SEARCH_WORD in r.url):
        visitor.locator("#catalogue-filters button[type=submit]").click()
    visitor.wait_for_function("word => location.search.includes('q=' + word)", arg=SEARCH_WORD)
    query = parse_qs(urlsplit(visitor.url).query)
    assert (query.get("country"), query.get("q")) == (["SN"], [SEARCH_WORD]), visitor.url
    cards = visitor.locator("#catalogue-results .project-card")
    cards.first.wait_for()
    assert cards.count() == 1, cards.all_inner_texts()
    link = cards.first.locator(".project-card-title a")
    assert link.inner_text().strip() == TITLE
    assert link.get_attribute("href") == f"/es/projects/{slug}/"
    # The count heading ("1 project") has no Spanish translation yet: only its number is checked.
    heading = visitor.locator("#results-heading").inner_text().strip()
    assert heading.split()[0] == "1", heading
    assert_accessible(visitor, label="/es/projects/ (filtered)")
    # The language switcher would lead to the same filtered list.
    switcher_next = visitor.locator(".language-switcher [name=next]").input_value()
    assert parse_qs(urlsplit(switcher_next).query) == query, switcher_next

    with visitor.expect_navigation(wait_until="load"):
        link.click()
    assert path_of(visitor) == f"/es/projects/{slug}/", visitor.url
    assert visitor.locator("html").get_attribute("lang") == "es"
    assert visitor.locator("main h1").inner_text().strip() == TITLE
    assert FIXED_SUMMARY in visitor.locator("main .lede").inner_text()
    assert "Vélingara" in visitor.locator("main .project-place").first.inner_text()
    assert_accessible(visitor, label=f"/es/projects/{slug}/")
