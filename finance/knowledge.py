"""The short knowledge test an investor passes before a first loan, revenue
share or bond pledge. Questions come from the content layer (the CMS), which
registers a source in its AppConfig.ready(); finance only grades."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from .offerings import KnowledgeTestPass


@dataclass(frozen=True)
class Question:
    """A question shown to the investor, in their language."""

    key: str
    text: str
    choices: tuple[str, ...]
    correct: int
    feedback: tuple[str, ...]


PASS_MARK = 0.8
_sources: list[Callable[[str], list[Question]]] = []


def register_question_source(source: Callable[[str], list[Question]]) -> None:
    _sources.append(source)


def questions(language: str) -> list[Question]:
    found: list[Question] = []
    for source in _sources:
        found.extend(source(language))
    return found


def grade(answers: dict[str, int], language: str) -> tuple[int, int, list[Question]]:
    """Score answers against the current questions: (right, total, wrong ones)."""
    asked = questions(language)
    wrong = [q for q in asked if answers.get(q.key) != q.correct]
    return len(asked) - len(wrong), len(asked), wrong


@transaction.atomic
def record_pass(*, investor, score: int, total: int) -> KnowledgeTestPass | None:
    """Store a pass (score out of 100). Passing twice keeps the first record."""
    if total == 0 or score / total < PASS_MARK:
        return None
    row, _created = KnowledgeTestPass.objects.get_or_create(
        investor=investor,
        defaults={"score": round(100 * score / total), "risk_acknowledged_at": timezone.now()},
    )
    return row
