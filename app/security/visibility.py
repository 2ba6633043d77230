"""Who sees what — decided here and nowhere else.

Every customer- or promoter-facing view, API, export, feed, digest and report
asks this module for the rows a user may see. The answer is always SQL (a
subquery, with a recursive CTE over the territory tree), never Python
filtering after a query.

The customer rule:
- a customer contact sees a project only if linked to it (``project_contact``);
- within it, a job, its location, its appointments and its confirmed bookings
  only if the location's territory is one of the contact's territories or lies
  below one of them in the territory tree;
- a contact without territory, a location without territory, an inactive user
  or a user without contact sees nothing.

Reports (campaign reporting): a customer sees only *approved* reports, of the
jobs they see (``report.job_id``, set for day and weekly reports alike), and the
files of those reports; a promoter sees the reports they wrote and their files;
the agency everything.

The promoter rule: a promoter (an active user linked to an active promoter)
sees the jobs open for applications and the jobs they applied to, those jobs'
locations and projects, their own applications, their own bookings and the
appointments of those bookings — never another promoter's.

Agency users (roles Admin and Agency) see everything; anybody else nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask_appbuilder.security.sqla.models import Role, User, assoc_user_role
from sqlalchemy import Select, exists, false, select, true
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from app.models.crm import Contact, Location, Territory, contact_territory
from app.models.planning import Application, Appointment, Booking, Job, Project, project_contact
from app.models.promoter import Promoter, Unavailability
from app.models.reporting import Report, ReportFile
from app.security.roles import ADMIN, AGENCY, CUSTOMER
from app.security.systems import system_of

#: Booking states a customer may see (data minimisation: no requests, no refusals).
CUSTOMER_BOOKING_STATES = ("confirmed",)


@dataclass(frozen=True)
class Scope:
    """The rows one user may see, as SQL.

    ``kind`` is "agency" (everything), "customer" (the territory rule) or
    "none" (nothing at all).
    """

    kind: str
    user_id: int | None = None
    #: The visible job ids, fetched once (:meth:`resolved`); None = computed in SQL each time.
    visible_jobs: tuple[int, ...] | None = None
    #: A promoter login's own promoter id(s), fetched once (:meth:`resolved`).
    own_promoters: tuple[int, ...] | None = None

    def resolved(self, session) -> Scope:
        """The same scope with the customer's visible job ids (or the promoter login's own
        promoter id) fetched once (one query).

        Every later query filters ``job_id IN (ids)`` instead of repeating the
        territory tree and the project links — the planner then drives the query
        from the visible jobs through ``appointment (job_id, date)`` instead of
        walking a date index and discarding millions of foreign rows. Only for one
        request: the ids are a snapshot.
        """
        if self.kind == "promoter" and self.own_promoters is None:
            # PostgreSQL plans "promoter_id = 5" from its statistics (a promoter's few
            # hundred bookings); "IN (subquery)" it misjudged and read every appointment
            return Scope(self.kind, self.user_id, own_promoters=tuple(session.scalars(self.promoter_ids())))
        if self.kind != "customer" or self.visible_jobs is not None:
            return self
        return Scope(self.kind, self.user_id, tuple(session.scalars(self.job_ids())))

    def with_own_promoter(self, session) -> tuple[Scope, Promoter | None]:
        """A promoter login's promoter row, and the scope resolved to it (one query)."""
        promoter = session.scalar(self.promoter())
        return replace(self, own_promoters=(promoter.id,) if promoter is not None else ()), promoter

    # -- building blocks -------------------------------------------------

    def contact_ids(self) -> Select:
        """The contact linked to this (active) user."""
        return (
            select(Contact.id)
            .join(User, User.id == Contact.user_id)
            .where(User.id == self.user_id, User.active.is_(True))
        )

    def territory_ids(self) -> Select:
        """The contact's territories and every territory below them."""
        tree = (
            select(contact_territory.c.territory_id.label("id"))
            .where(contact_territory.c.contact_id.in_(self.contact_ids()))
            .cte("visible_territory", recursive=True)
        )
        child = aliased(Territory)
        tree = tree.union(select(child.id).where(child.parent_id == tree.c.id))
        return select(tree.c.id)

    def _has_territory(self) -> ColumnElement[bool]:
        return exists(
            select(contact_territory.c.territory_id).where(
                contact_territory.c.contact_id.in_(self.contact_ids())
            )
        )

    def promoter_ids(self) -> Select:
        """The promoter linked to this (active) user, if the promoter is active."""
        if self.own_promoters is not None:
            return select(Promoter.id).where(Promoter.id.in_(self.own_promoters))
        return (
            select(Promoter.id)
            .join(User, User.id == Promoter.user_id)
            .where(User.id == self.user_id, User.active.is_(True), Promoter.active.is_(True))
        )

    def _promoter_job_ids(self) -> Select:
        applied = select(Application.job_id).where(Application.promoter_id.in_(self.promoter_ids()))
        return select(Job.id).where((Job.status == "open") | Job.id.in_(applied))

    # -- id subqueries ---------------------------------------------------

    def project_ids(self) -> Select:
        if self.kind == "agency":
            return select(Project.id)
        if self.kind == "promoter":
            return select(Job.project_id).where(Job.id.in_(self._promoter_job_ids()))
        if self.kind != "customer":
            return select(Project.id).where(false())
        return (
            select(project_contact.c.project_id)
            .where(project_contact.c.contact_id.in_(self.contact_ids()))
            .where(self._has_territory())
        )

    def job_ids(self) -> Select:
        if self.kind == "agency":
            return select(Job.id)
        if self.kind == "promoter":
            return self._promoter_job_ids()
        if self.kind != "customer":
            return select(Job.id).where(false())
        if self.visible_jobs is not None:
            return select(Job.id).where(Job.id.in_(self.visible_jobs))
        return (
            select(Job.id)
            .join(Location, Location.id == Job.location_id)
            .join(project_contact, project_contact.c.project_id == Job.project_id)
            .where(project_contact.c.contact_id.in_(self.contact_ids()))
            .where(Location.territory_id.in_(self.territory_ids()))
        )

    def location_ids(self) -> Select:
        if self.kind == "agency":
            return select(Location.id)
        return select(Job.location_id).where(Job.id.in_(self.job_ids()))

    def appointment_ids(self) -> Select:
        if self.kind == "agency":
            return select(Appointment.id)
        if self.kind == "promoter":
            return select(Booking.appointment_id).where(Booking.promoter_id.in_(self.promoter_ids()))
        return select(Appointment.id).where(self._customer_job(Appointment.job_id))

    def booking_ids(self) -> Select:
        if self.kind == "agency":
            return select(Booking.id)
        if self.kind == "promoter":
            return select(Booking.id).where(Booking.promoter_id.in_(self.promoter_ids()))
        return select(Booking.id).where(self._customer_booking())

    def _customer_booking(self) -> ColumnElement[bool]:
        state = Booking.status.in_(CUSTOMER_BOOKING_STATES)
        if self.visible_jobs is not None:
            # per booking (a page's few hundred), not the list of every visible appointment
            return state & exists(
                select(Appointment.id).where(
                    Appointment.id == Booking.appointment_id, Appointment.job_id.in_(self.visible_jobs)
                )
            )
        return Booking.appointment_id.in_(self.appointment_ids()) & state

    def _customer_job(self, column) -> ColumnElement[bool]:
        if self.visible_jobs is not None:
            return column.in_(self.visible_jobs)
        return column.in_(self.job_ids())

    def application_ids(self) -> Select:
        if self.kind == "agency":
            return select(Application.id)
        if self.kind == "promoter":
            return select(Application.id).where(Application.promoter_id.in_(self.promoter_ids()))
        return select(Application.id).where(false())

    def unavailability_ids(self) -> Select:
        if self.kind == "agency":
            return select(Unavailability.id)
        if self.kind == "promoter":
            return select(Unavailability.id).where(Unavailability.promoter_id.in_(self.promoter_ids()))
        return select(Unavailability.id).where(false())

    def report_ids(self) -> Select:
        if self.kind == "agency":
            return select(Report.id)
        if self.kind == "promoter":
            return select(Report.id).where(Report.promoter_id.in_(self.promoter_ids()))
        return select(Report.id).where(self._customer_report())

    def _customer_report(self) -> ColumnElement[bool]:
        if self.kind != "customer":
            return false()
        return (Report.status == "approved") & self._customer_job(Report.job_id)

    def report_file_ids(self) -> Select:
        if self.kind == "agency":
            return select(ReportFile.id)
        return select(ReportFile.id).where(ReportFile.report_id.in_(self.report_ids()))

    # -- conditions and row queries --------------------------------------

    def condition(self, model) -> ColumnElement[bool]:
        """A WHERE condition restricting ``model`` to the visible rows."""
        if self.kind == "agency":
            return true()
        if self.kind == "customer":
            # direct conditions on the row (no "id IN (ids of the same table)" detour)
            if model is Appointment:
                return self._customer_job(Appointment.job_id)
            if model is Job:
                return self._customer_job(Job.id)
            if model is Booking:
                return self._customer_booking()
            if model is Report:
                return self._customer_report()
        if self.kind == "promoter":
            # on the row's own promoter column, not "id IN (ids of the same table)": the
            # planner then starts from the promoter's rows (ix_booking_promoter_status …)
            # instead of walking a date index over every promoter's appointments
            own = {Booking: Booking.promoter_id, Application: Application.promoter_id}
            own |= {Unavailability: Unavailability.promoter_id, Report: Report.promoter_id}
            if model in own:
                if self.own_promoters is not None:
                    return own[model].in_(self.own_promoters)
                return own[model].in_(self.promoter_ids())
        subqueries = {
            Project: self.project_ids,
            Job: self.job_ids,
            Location: self.location_ids,
            Appointment: self.appointment_ids,
            Booking: self.booking_ids,
            Application: self.application_ids,
            Promoter: self.promoter_ids,
            Unavailability: self.unavailability_ids,
            Report: self.report_ids,
            ReportFile: self.report_file_ids,
        }
        if model not in subqueries:
            return false()
        return model.id.in_(subqueries[model]())

    def booking_of_visible_appointment(self) -> ColumnElement[bool]:
        """A condition on Booking for a query whose appointments are already restricted to
        the visible ones: the bookings of them this scope may see, without a second
        subquery (the customer's export joins them to its list)."""
        if self.kind == "agency":
            return true()
        if self.kind == "customer":
            return Booking.status.in_(CUSTOMER_BOOKING_STATES)
        return self.condition(Booking)

    def rows(self, model) -> Select:
        return select(model).where(self.condition(model))

    def appointments(self) -> Select:
        return self.rows(Appointment)

    def projects(self) -> Select:
        return self.rows(Project)

    def jobs(self) -> Select:
        return self.rows(Job)

    def locations(self) -> Select:
        return self.rows(Location)

    def bookings(self) -> Select:
        return self.rows(Booking)

    def reports(self) -> Select:
        return self.rows(Report)

    def report_files(self) -> Select:
        return self.rows(ReportFile)

    def contact(self) -> Select:
        return select(Contact).where(Contact.id.in_(self.contact_ids()))

    def promoter(self) -> Select:
        return select(Promoter).where(Promoter.id.in_(self.promoter_ids()))


def scope_for(user) -> Scope:
    """The visibility scope of ``user`` (a FAB user, anonymous or None)."""
    system = system_of(user)
    if system is None:
        return Scope("none", getattr(user, "id", None))
    return Scope(system, user.id)


def visible_condition(user, model) -> ColumnElement[bool]:
    return scope_for(user).condition(model)


def _has_role(names: tuple[str, ...]) -> ColumnElement[bool]:
    return exists(
        select(assoc_user_role.c.user_id)
        .join(Role, Role.id == assoc_user_role.c.role_id)
        .where(assoc_user_role.c.user_id == User.id, Role.name.in_(names))
    )


def contacts_seeing(job_id: int) -> Select:
    """The customer contacts whose scope includes job ``job_id`` — the customer rule of
    :class:`Scope` read the other way round (from the job's territory up the tree):
    an active customer-system login (see :func:`app.security.systems.system_of`),
    linked to the job's project, with a territory at or above the job's location's.
    """
    location_territory = (
        select(Location.territory_id).join(Job, Job.location_id == Location.id).where(Job.id == job_id)
    ).scalar_subquery()
    tree = select(Territory.id, Territory.parent_id).where(Territory.id == location_territory)
    tree = tree.cte("territory_above", recursive=True)
    parent = aliased(Territory)
    tree = tree.union(select(parent.id, parent.parent_id).where(parent.id == tree.c.parent_id))
    return (
        select(Contact)
        .join(User, User.id == Contact.user_id)
        .join(project_contact, project_contact.c.contact_id == Contact.id)
        .join(Job, Job.project_id == project_contact.c.project_id)
        .where(Job.id == job_id, User.active.is_(True))
        .where(_has_role((CUSTOMER,)), ~_has_role((ADMIN, AGENCY)))
        .where(
            exists(
                select(contact_territory.c.territory_id).where(
                    contact_territory.c.contact_id == Contact.id,
                    contact_territory.c.territory_id.in_(select(tree.c.id)),
                )
            )
        )
        .order_by(Contact.id)
    )


def visibility_explained(contact_id: int) -> Select:
    """For one contact: each visible job with its location and the contact's
    territory that grants it (the same rule as :class:`Scope`, for the agency's check).
    """
    tree = (
        select(
            contact_territory.c.territory_id.label("root_id"),
            contact_territory.c.territory_id.label("id"),
        )
        .where(contact_territory.c.contact_id == contact_id)
        .cte("granting_territory", recursive=True)
    )
    child = aliased(Territory)
    tree = tree.union(select(tree.c.root_id, child.id).where(child.parent_id == tree.c.id))
    root = aliased(Territory)
    return (
        select(Job, Location, root)
        .join(Location, Location.id == Job.location_id)
        .join(project_contact, project_contact.c.project_id == Job.project_id)
        .join(tree, tree.c.id == Location.territory_id)
        .join(root, root.id == tree.c.root_id)
        .where(project_contact.c.contact_id == contact_id)
        .order_by(Location.city, Location.name, root.name)
    )


def contacts_without_territory() -> Select:
    """Contacts with a login who therefore see nothing."""
    return (
        select(Contact)
        .where(Contact.user_id.is_not(None))
        .where(
            ~exists(
                select(contact_territory.c.contact_id).where(contact_territory.c.contact_id == Contact.id)
            )
        )
        .order_by(Contact.last_name, Contact.first_name)
    )


def locations_without_territory() -> Select:
    """Locations no customer can see."""
    return select(Location).where(Location.territory_id.is_(None)).order_by(Location.city, Location.name)


def contacts_without_project() -> Select:
    """Contacts with a login that are linked to no project."""
    return (
        select(Contact)
        .where(Contact.user_id.is_not(None))
        .where(
            ~exists(select(project_contact.c.contact_id).where(project_contact.c.contact_id == Contact.id))
        )
        .order_by(Contact.last_name, Contact.first_name)
    )
