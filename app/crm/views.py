"""Agency screens of the CRM: territories, companies, contacts, locations, notes, tasks."""

from __future__ import annotations

from flask import g
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from wtforms.validators import Email, Optional, ValidationError

from app.common.choices import (
    CHANGE_MAIL_MODES,
    COMPANY_KINDS,
    FEDERAL_STATES,
    LANGUAGES,
    SALUTATIONS,
    TASK_KINDS,
)
from app.common.quick_filters import QuickFilteredList
from app.common.validators import GERMAN_POSTCODE, NormaliseEmail, NoTerritoryCycle, UniqueTogether
from app.common.views import AgencyModelView, boolean_field, choice_field, code_formatter
from app.lookups.relation_filters import RelationFilter
from app.lookups.remote_select import remote_select
from app.models.crm import Company, Contact, Location, Note, Task, Territory
from app.privacy.views import PersonalDataActions
from app.security.login_actions import LoginActions, linkable_logins
from app.security.roles import CUSTOMER, AgencyUsersFilter


class OneOwner:
    """Notes and tasks belong to a contact or to a company: exactly one of them.

    On a related tab FAB leaves the owner out of the form (it fills it in
    itself); then the other owner field must stay empty.
    """

    field_flags = {}

    def __init__(self, other: str, report_missing: bool):
        self.other = other
        self.report_missing = report_missing

    def __call__(self, form, field) -> None:
        mine = field.data not in (None, "")
        other = form._fields.get(self.other)
        theirs = other is None or other.data not in (None, "")
        if mine and theirs:
            raise ValidationError(str(_l("Choose either a contact or a company, not both.")))
        if not mine and not theirs and self.report_missing:
            raise ValidationError(str(_l("Choose a contact or a company.")))


OWNER_VALIDATORS = {
    "company": [OneOwner("contact", report_missing=False)],
}


def owner_contact_field():
    """The contact as a remote select (no dropdown of every contact)."""
    return remote_select(
        _l("Contact"), "contact", required=False, validators=[OneOwner("company", report_missing=True)]
    )


class TerritoryView(AgencyModelView):
    datamodel = SQLAInterface(Territory)
    list_title = _l("Territories")
    show_title = _l("Territory")
    add_title = _l("Add territory")
    edit_title = _l("Edit territory")
    list_columns = ["name", "parent", "description"]
    search_columns = ["name", "parent", "description"]
    show_columns = ["name", "path", "parent", "description"]
    add_columns = edit_columns = ["name", "parent", "description"]
    order_columns = ["name"]
    base_order = ("name", "asc")
    validators_columns = {"parent": [NoTerritoryCycle()]}


class NoteView(QuickFilteredList, AgencyModelView):
    datamodel = SQLAInterface(Note)
    list_title = _l("Notes")
    show_title = _l("Note")
    add_title = _l("Add note")
    edit_title = _l("Edit note")
    list_columns = ["contact", "company", "text", "created_at", "author"]
    # The contact is chosen by searching above the list (not a dropdown of every contact);
    # authors are agency users.
    search_columns = ["company", "text", "created_at", "author"]
    search_form_query_rel_fields = {"author": [["id", AgencyUsersFilter, None]]}
    quick_filter = RelationFilter(("contact", _l("Contact"), "contact", lambda pk: Note.contact_id == pk))
    show_columns = ["contact", "company", "text", "created_at", "author"]
    add_columns = edit_columns = ["contact", "company", "text"]
    order_columns = ["created_at"]
    base_order = ("created_at", "desc")
    validators_columns = OWNER_VALIDATORS
    add_form_extra_fields = edit_form_extra_fields = {"contact": owner_contact_field()}

    def pre_add(self, item: Note) -> None:
        item.author = g.user


class TaskView(QuickFilteredList, AgencyModelView):
    datamodel = SQLAInterface(Task)
    list_title = _l("Tasks")
    show_title = _l("Task")
    add_title = _l("Add task")
    edit_title = _l("Edit task")
    list_columns = ["due_date", "title", "kind", "contact", "company", "assignee", "done"]
    # The contact is chosen by searching above the list (not a dropdown of every contact).
    search_columns = ["title", "kind", "company", "due_date", "assignee", "done"]
    quick_filter = RelationFilter(("contact", _l("Contact"), "contact", lambda pk: Task.contact_id == pk))
    show_columns = ["title", "kind", "contact", "company", "due_date", "assignee", "done"]
    add_columns = edit_columns = ["contact", "company", "title", "kind", "due_date", "assignee", "done"]
    validators_columns = OWNER_VALIDATORS
    order_columns = ["due_date", "title", "kind", "done"]
    base_order = ("due_date", "asc")
    formatters_columns = {"kind": code_formatter(TASK_KINDS)}
    add_form_extra_fields = edit_form_extra_fields = {
        "kind": choice_field(_l("Kind"), TASK_KINDS, default="call"),
        "done": boolean_field(_l("Done")),
        "contact": owner_contact_field(),
    }
    # Only agency users can be assignees (not customers or promoters).
    add_form_query_rel_fields = edit_form_query_rel_fields = search_form_query_rel_fields = {
        "assignee": [["id", AgencyUsersFilter, None]]
    }

    def _init_forms(self) -> None:
        """A new task is the current user's unless another assignee is chosen."""
        super()._init_forms()
        self.add_form.assignee.kwargs["default"] = lambda: g.user


class ContactView(LoginActions, PersonalDataActions, AgencyModelView):
    # Company (joined) and territories of the whole page with the page, not per row: the
    # shared list loads of AgencyModelView (list_loader_options).
    datamodel = SQLAInterface(Contact)
    list_title = _l("Contacts")
    show_title = _l("Contact")
    add_title = _l("Add contact")
    edit_title = _l("Edit contact")
    list_columns = ["last_name", "first_name", "company", "position", "email", "territories"]
    search_columns = [
        "last_name",
        "first_name",
        "company",
        "email",
        "position",
        "territories",
        "language",
    ]  # no "user" filter: FAB would list every login (all promoters' too) in a dropdown
    show_columns = [
        "salutation",
        "first_name",
        "last_name",
        "company",
        "position",
        "email",
        "phone",
        "language",
        "territories",
        "user",
        "digest_opt_out",
        "change_mail",
    ]
    add_columns = edit_columns = show_columns
    order_columns = ["last_name", "first_name", "email", "position"]
    base_order = ("last_name", "asc")
    related_views = [NoteView, TaskView]
    formatters_columns = {
        "salutation": code_formatter(SALUTATIONS),
        "language": code_formatter(LANGUAGES),
        "change_mail": code_formatter(CHANGE_MAIL_MODES),
    }
    validators_columns = {
        "email": [NormaliseEmail(), Optional(), Email()],
        "user": [UniqueTogether(Contact, ["user"], _l("This login already belongs to another contact."))],
    }
    add_form_extra_fields = edit_form_extra_fields = {
        "salutation": choice_field(_l("Salutation"), SALUTATIONS, required=False),
        "language": choice_field(_l("Preferred language"), LANGUAGES, default="de"),
        "digest_opt_out": boolean_field(_l("No weekly mail")),
        "change_mail": choice_field(_l("Change mails"), CHANGE_MAIL_MODES, default="immediate"),
    }
    # Only customer-system logins can be linked (never an agency or admin login).
    add_form_query_rel_fields = edit_form_query_rel_fields = linkable_logins(CUSTOMER)


class LocationView(AgencyModelView):
    datamodel = SQLAInterface(Location)
    list_title = _l("Locations")
    show_title = _l("Location")
    add_title = _l("Add location")
    edit_title = _l("Edit location")
    list_columns = ["name", "retail_chain", "postcode", "city", "federal_state", "territory"]
    search_columns = ["name", "retail_chain", "street", "postcode", "city", "federal_state", "territory"]
    show_columns = ["name", "retail_chain", "street", "postcode", "city", "federal_state", "territory"]
    add_columns = edit_columns = show_columns
    order_columns = ["name", "postcode", "city", "federal_state"]
    base_order = ("city", "asc")
    formatters_columns = {"federal_state": code_formatter(FEDERAL_STATES)}
    validators_columns = {"postcode": [GERMAN_POSTCODE]}
    add_form_extra_fields = edit_form_extra_fields = {
        "federal_state": choice_field(_l("Federal state"), FEDERAL_STATES),
    }


class CompanyView(AgencyModelView):
    datamodel = SQLAInterface(Company)
    list_title = _l("Companies")
    show_title = _l("Company")
    add_title = _l("Add company")
    edit_title = _l("Edit company")
    list_columns = ["name", "kind", "postcode", "city"]
    search_columns = ["name", "kind", "city", "postcode", "notes"]
    show_columns = ["name", "kind", "street", "postcode", "city", "country", "notes"]
    add_columns = edit_columns = show_columns
    order_columns = ["name", "kind", "postcode", "city"]
    base_order = ("name", "asc")
    related_views = [ContactView, LocationView, NoteView, TaskView]
    formatters_columns = {"kind": code_formatter(COMPANY_KINDS)}
    validators_columns = {"postcode": [GERMAN_POSTCODE]}
    add_form_extra_fields = edit_form_extra_fields = {
        "kind": choice_field(_l("Kind"), COMPANY_KINDS, default="customer"),
    }
