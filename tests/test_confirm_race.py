"""Two overlapping requests of one promoter confirmed at the same moment: exactly one wins.

Each round makes a promoter two requests at two stores whose times overlap, then
two threads — each with its own app context and so its own database session and
connection — wait at a barrier and call ``staffing.confirm`` together. Exactly one
confirmation succeeds; the other is refused with a StaffingError, and the database
holds one confirmed and one still requested booking. Runs on SQLite and PostgreSQL
(TEST_DATABASE_URL).
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from tests.visibility_helpers import PROJECT_NAME, Rows, db_session, local_today, new_tag

ROUNDS = 6
#: Every other round holds each thread a moment inside the check (between reading the
#: promoter's bookings and writing the confirmation), so that without the serialisation
#: both would pass the check for certain instead of only now and then.
WIDENED = 0.05


@pytest.fixture()
def rows(app):
    tracker = Rows(app)
    yield tracker
    tracker.cleanup()


def _setup_round(app, rows: Rows, promoter: int, project: int, day: dt.date, n: int) -> list[int]:
    from app.models.crm import Location
    from app.models.planning import Appointment, Booking, Job

    bookings = []
    for store, (start, end) in enumerate(((dt.time(10), dt.time(16)), (dt.time(12), dt.time(18)))):
        tag = new_tag(f"race{n}{store}")
        location = rows.add(
            Location,
            name=f"Racemarkt {tag}",
            street="Teststraße 1",
            postcode="20095",
            city="Hamburg",
            federal_state="HH",
        )
        job = rows.add(Job, project_id=project, location_id=location, title=f"Race {tag}", status="staffed")
        appointment = rows.add(
            Appointment,
            job_id=job,
            date=day,
            start_time=start,
            end_time=end,
            status="planned",
            origin="agency",
            version=1,
        )
        bookings.append(
            rows.add(Booking, appointment_id=appointment, promoter_id=promoter, status="requested")
        )
    return bookings


def _confirm_together(app, booking_ids: list[int], promoter: int) -> list[object]:
    from app.extensions import db
    from app.staffing import operations as staffing

    barrier = threading.Barrier(len(booking_ids))
    outcomes: list[object] = [None] * len(booking_ids)

    def run(index: int, booking_id: int) -> None:
        with app.app_context():
            try:
                session = db.session
                session.execute(select(1))  # connect before the start, not after it
                session.rollback()
                barrier.wait(timeout=10)
                booking = staffing.confirm(session, booking_id, promoter)
                outcomes[index] = ("confirmed", booking.id)
            except staffing.StaffingError as error:
                outcomes[index] = ("refused", str(error))
            except Exception as error:  # noqa: BLE001 - reported by the test
                outcomes[index] = ("error", repr(error))
            finally:
                db.session.rollback()
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, pk)) for i, pk in enumerate(booking_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a confirmation hangs"
    return outcomes


def test_concurrent_confirmations_of_overlapping_requests(app, rows, monkeypatch):
    import time

    from app.models.planning import Booking, Project
    from app.models.promoter import Promoter
    from app.staffing import operations as staffing

    original = staffing.overlapping_bookings
    widened = threading.Event()

    def slow_overlapping_bookings(*args, **kwargs):
        found = original(*args, **kwargs)
        if widened.is_set():
            time.sleep(WIDENED)  # after reading: the other thread reads the same state meanwhile
        return found

    monkeypatch.setattr(staffing, "overlapping_bookings", slow_overlapping_bookings)

    tag = new_tag("racer")
    promoter = rows.add(Promoter, first_name="Race", last_name=tag, active=True)
    with db_session(app) as session:
        project = session.scalar(select(Project.id).where(Project.name == PROJECT_NAME))
    base = local_today(app) + dt.timedelta(days=600)
    for n in range(ROUNDS):
        bookings = _setup_round(app, rows, promoter, project, base + dt.timedelta(days=n), n)
        (widened.set if n % 2 else widened.clear)()
        outcomes = _confirm_together(app, bookings, promoter)
        kinds = sorted(kind for kind, _ in outcomes)
        assert kinds == ["confirmed", "refused"], f"round {n}: {outcomes}"
        refusal = next(detail for kind, detail in outcomes if kind == "refused")
        assert "Überschneidet sich mit einer bestätigten Buchung" in refusal or "Overlaps with" in refusal, (
            refusal
        )
        with db_session(app) as session:
            states = sorted(session.scalars(select(Booking.status).where(Booking.id.in_(bookings))))
        assert states == ["confirmed", "requested"], f"round {n}: {states}"
        winner = next(detail for kind, detail in outcomes if kind == "confirmed")
        with db_session(app) as session:
            assert session.get(Booking, winner).status == "confirmed"


def _confirm_each(app, pairs: list[tuple[int, int]]) -> list[object]:
    """Like :func:`_confirm_together`, but each thread confirms as its own promoter."""
    from app.extensions import db
    from app.staffing import operations as staffing

    barrier = threading.Barrier(len(pairs))
    outcomes: list[object] = [None] * len(pairs)

    def run(index: int, booking_id: int, promoter: int) -> None:
        with app.app_context():
            try:
                session = db.session
                session.execute(select(1))
                session.rollback()
                barrier.wait(timeout=10)
                booking = staffing.confirm(session, booking_id, promoter)
                outcomes[index] = ("confirmed", booking.id)
            except staffing.StaffingError as error:
                outcomes[index] = ("refused", str(error))
            except Exception as error:  # noqa: BLE001 - reported by the test
                outcomes[index] = ("error", repr(error))
            finally:
                db.session.rollback()
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, *pair)) for i, pair in enumerate(pairs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a confirmation hangs"
    return outcomes


def test_two_promoters_confirming_one_appointment_at_once(app, rows, monkeypatch):
    """Both were requested for the same appointment: one confirms, the other's request is
    withdrawn and their confirmation refused — never two confirmed promoters."""
    import time

    from app.models.planning import Booking, Project
    from app.models.promoter import Promoter
    from app.staffing import operations as staffing

    original = staffing.booking_conflicts

    def slow_booking_conflicts(*args, **kwargs):
        found = original(*args, **kwargs)
        time.sleep(WIDENED)  # after the checks: the other thread reads the same state meanwhile
        return found

    monkeypatch.setattr(staffing, "booking_conflicts", slow_booking_conflicts)
    tag = new_tag("pair")
    first = rows.add(Promoter, first_name="Erste", last_name=tag, active=True)
    second = rows.add(Promoter, first_name="Zweite", last_name=tag, active=True)
    with db_session(app) as session:
        project = session.scalar(select(Project.id).where(Project.name == PROJECT_NAME))
    base = local_today(app) + dt.timedelta(days=650)
    for n in range(ROUNDS // 2):
        mine, _other = _setup_round(app, rows, first, project, base + dt.timedelta(days=n), n)
        with db_session(app) as session:
            appointment = session.get(Booking, mine).appointment_id
        theirs = rows.add(Booking, appointment_id=appointment, promoter_id=second, status="requested")
        outcomes = _confirm_each(app, [(mine, first), (theirs, second)])
        assert sorted(kind for kind, _ in outcomes) == ["confirmed", "refused"], f"round {n}: {outcomes}"
        refusal = next(detail for kind, detail in outcomes if kind == "refused")
        assert "Ein anderer Promoter hat diesen Termin bestätigt" in refusal, refusal
        with db_session(app) as session:
            states = sorted(session.scalars(select(Booking.status).where(Booking.id.in_([mine, theirs]))))
        assert states == ["confirmed", "withdrawn"], f"round {n}: {states}"
