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

Agency users (roles Admin and Agency) see everything; anybody else nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Select, exists, false, select, true
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from app.crm.models import Contact, Location, Territory, contact_territory
from app.planning.models import Appointment, Booking, Job, Project, project_contact
from app.security.roles import ADMIN, AGENCY, CUSTOMER

#: Booking states a customer may see (data minimisation: no requests, no refusals).
CUSTOMER_BOOKING_STATES = ("confirmed",)


def _role_names(user) -> set[str]:
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    if not getattr(user, "active", False):
        return set()
    return {role.name for role in user.roles}


@dataclass(frozen=True)
class Scope:
    """The rows one user may see, as SQL.

    ``kind`` is "agency" (everything), "customer" (the territory rule) or
    "none" (nothing at all).
    """

    kind: str
    user_id: int | None = None

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

    # -- id subqueries ---------------------------------------------------

    def project_ids(self) -> Select:
        if self.kind == "agency":
            return select(Project.id)
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
        if self.kind != "customer":
            return select(Job.id).where(false())
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
        return select(Appointment.id).where(Appointment.job_id.in_(self.job_ids()))

    def booking_ids(self) -> Select:
        if self.kind == "agency":
            return select(Booking.id)
        return select(Booking.id).where(
            Booking.appointment_id.in_(self.appointment_ids()),
            Booking.status.in_(CUSTOMER_BOOKING_STATES),
        )

    # -- conditions and row queries --------------------------------------

    def condition(self, model) -> ColumnElement[bool]:
        """A WHERE condition restricting ``model`` to the visible rows."""
        if self.kind == "agency":
            return true()
        if model is Appointment:
            return Appointment.job_id.in_(self.job_ids())
        subqueries = {
            Project: self.project_ids,
            Job: self.job_ids,
            Location: self.location_ids,
            Booking: self.booking_ids,
        }
        if model not in subqueries:
            return false()
        return model.id.in_(subqueries[model]())

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

    def contact(self) -> Select:
        return select(Contact).where(Contact.id.in_(self.contact_ids()))


def scope_for(user) -> Scope:
    """The visibility scope of ``user`` (a FAB user, anonymous or None)."""
    roles = _role_names(user)
    if roles & {ADMIN, AGENCY}:
        return Scope("agency", user.id)
    if CUSTOMER in roles:
        return Scope("customer", user.id)
    return Scope("none", getattr(user, "id", None))


def visible_condition(user, model) -> ColumnElement[bool]:
    return scope_for(user).condition(model)


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
