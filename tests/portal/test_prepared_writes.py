"""Insert and Update write what save() writes, send what save() sends, and
write their SQL once."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.db.models.signals import post_save, pre_save
from django.db.models.sql.compiler import SQLInsertCompiler
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from finance.offerings import Offering, Payment, Pledge
from portal.models import AuditEntry
from portal.prepared import Insert, Update
from tests.factories import UserFactory
from tests.finance.builders import make_offering

pytestmark = pytest.mark.django_db

WHEN = datetime.datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=datetime.UTC)


def row(model, pk) -> dict:
    """Every column of one row, as the database has it, but the key."""
    values = model.objects.filter(pk=pk).values().get()
    del values["id"]
    return values


@pytest.fixture
def signals_seen():
    """The keyword arguments of every pre_save and post_save, in order."""
    seen = []

    def receiver(signal, sender, **kwargs):
        kwargs = {
            name: value for name, value in kwargs.items() if name not in ("signal", "instance")
        }
        seen.append((signal_names[signal], sender, kwargs))

    signal_names = {pre_save: "pre_save", post_save: "post_save"}
    pre_save.connect(receiver, weak=False)
    post_save.connect(receiver, weak=False)
    yield seen
    pre_save.disconnect(receiver)
    post_save.disconnect(receiver)


def pledge_fields(offering, investor, key: str) -> dict:
    return {
        "offering_id": offering.pk,
        "investor": investor,
        "amount": Decimal("12.50"),
        "fee": Decimal("0.19"),
        "currency": "USD",
        "method": Pledge.Method.CARD,
        "idempotency_key": key,
        "created_at": WHEN,
        "expires_at": WHEN + datetime.timedelta(minutes=30),
    }


def test_insert_writes_the_row_save_writes_and_sends_the_same_signals(signals_seen):
    offering, investor = make_offering(), UserFactory()
    signals_seen.clear()
    saved = Pledge(**pledge_fields(offering, investor, "by-save"))
    saved.save(force_insert=True)
    from_save = list(signals_seen)
    signals_seen.clear()

    inserted = Insert(Pledge)(Pledge(**pledge_fields(offering, investor, "by-insert")))

    assert inserted.pk is not None and inserted.pk != saved.pk
    assert not inserted._state.adding and inserted._state.db == "default"
    assert row(Pledge, inserted.pk) == {**row(Pledge, saved.pk), "idempotency_key": "by-insert"}
    assert signals_seen == from_save
    assert [name for name, *_ in signals_seen] == ["pre_save", "post_save"]
    assert signals_seen[1][2]["created"] is True


def test_insert_runs_each_field_s_own_preparation():
    """JSON, a null foreign key, a default, auto_now: as save() has them."""
    entry = Insert(AuditEntry)(
        AuditEntry(action="a", object_type="t", object_id="1", data={"amount": "1.50", "n": [1]})
    )
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.data == {"amount": "1.50", "n": [1]} and stored.actor_id is None
    assert abs(stored.at - timezone.now()) < datetime.timedelta(minutes=1)

    pledge = Pledge.objects.create(**pledge_fields(make_offering(), UserFactory(), "k"))
    before = timezone.now()
    payment = Insert(Payment)(
        Payment(pledge=pledge, provider="card", amount_minor=1269, currency="USD")
    )
    stored = Payment.objects.get(pk=payment.pk)
    assert stored.updated_at == payment.updated_at and stored.updated_at >= before  # auto_now


def test_insert_writes_its_sql_once_and_runs_one_statement(monkeypatch):
    insert = Insert(AuditEntry)
    insert(AuditEntry(action="first", object_type="t", object_id="1"))
    written = []
    original = SQLInsertCompiler.as_sql
    monkeypatch.setattr(
        SQLInsertCompiler, "as_sql", lambda self: written.append(1) or original(self)
    )
    with CaptureQueriesContext(connection) as queries:
        entry = insert(AuditEntry(action="second", object_type="t", object_id="2"))
    assert written == [] and len(queries) == 1
    assert AuditEntry.objects.get(pk=entry.pk).action == "second"


def test_an_expression_among_the_values_goes_through_the_orm():
    insert = Insert(AuditEntry)
    insert(AuditEntry(action="plain", object_type="t", object_id="1"))  # the SQL is written
    entry = insert(
        AuditEntry(action="joined", object_type="t", object_id=Concat(Value("4"), Value("2")))
    )
    assert AuditEntry.objects.get(pk=entry.pk).object_id == "42"
    plain = insert(AuditEntry(action="plain again", object_type="t", object_id="3"))
    assert AuditEntry.objects.get(pk=plain.pk).object_id == "3"


def test_insert_refuses_another_model_and_saves_an_object_with_its_own_key():
    with pytest.raises(TypeError):
        Insert(AuditEntry)(Pledge())
    entry = Insert(AuditEntry)(
        AuditEntry(pk=987_654, action="keyed", object_type="t", object_id="1")
    )
    assert AuditEntry.objects.get(pk=987_654).action == "keyed" and entry.pk == 987_654


def test_a_failed_insert_marks_the_transaction_for_rollback_as_save_does():
    offering, investor = make_offering(), UserFactory()
    Insert(Pledge)(Pledge(**pledge_fields(offering, investor, "twice")))
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            Insert(Pledge)(Pledge(**pledge_fields(offering, investor, "twice")))
        assert connection.needs_rollback  # the block ends rolled back to its savepoint
    assert Pledge.objects.filter(idempotency_key="twice").count() == 1


def test_update_writes_what_save_writes_and_sends_the_same_signals(signals_seen):
    offering, investor = make_offering(), UserFactory()
    by_save = Pledge.objects.create(**pledge_fields(offering, investor, "by-save"))
    by_update = Pledge.objects.create(**pledge_fields(offering, investor, "by-update"))
    signals_seen.clear()
    for pledge in (by_save, by_update):
        pledge.status, pledge.paid_at = Pledge.Status.PAID, WHEN
        pledge.amount = Decimal("99")  # not among the fields: not written
    by_save.save(update_fields=["status", "paid_at"])
    from_save = list(signals_seen)
    signals_seen.clear()

    with CaptureQueriesContext(connection) as queries:
        Update(Pledge, "status", "paid_at")(by_update)

    assert len(queries) == 1
    assert row(Pledge, by_update.pk) == {**row(Pledge, by_save.pk), "idempotency_key": "by-update"}
    assert row(Pledge, by_update.pk)["amount"] == Decimal("12.50")
    assert signals_seen == from_save
    assert signals_seen[0][2]["update_fields"] == frozenset({"status", "paid_at"})


def test_update_runs_auto_now_and_refuses_a_row_that_is_gone():
    pledge = Pledge.objects.create(**pledge_fields(make_offering(), UserFactory(), "k"))
    payment = Payment.objects.create(pledge=pledge, provider="card", amount_minor=1, currency="USD")
    payment.updated_at = WHEN
    payment.status = Payment.Status.SUCCEEDED
    Update(Payment, "status", "updated_at")(payment)
    assert Payment.objects.get(pk=payment.pk).updated_at > WHEN  # auto_now, as save() does

    Payment.objects.filter(pk=payment.pk).delete()
    with pytest.raises(DatabaseError, match="did not affect any rows"):
        Update(Payment, "status", "updated_at")(payment)
    with pytest.raises(ValueError):
        Update(Payment, "status")(Payment())


def test_update_takes_an_expression_through_the_orm():
    offering = make_offering()
    update = Update(Offering, "reserved")
    offering.reserved = Decimal("5")
    update(offering)
    offering.reserved = F("reserved") + 2
    update(offering)
    offering.refresh_from_db()
    assert offering.reserved == Decimal("7")


def test_update_needs_concrete_fields_other_than_the_key():
    for names in ((), ("id",), ("no_such_field",)):
        with pytest.raises(ImproperlyConfigured):
            Update(Pledge, *names)
