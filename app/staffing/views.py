"""Agency screens of staffing: applications and bookings."""

from __future__ import annotations

from flask import g
from flask_appbuilder.actions import action
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from app.common.choices import APPLICATION_STATUSES, BOOKING_STATUSES, CANCEL_STATES
from app.common.eager_interface import capped_list
from app.common.quick_filters import QuickFilteredList
from app.common.timezone import local_today
from app.common.views import AgencyModelView, code_formatter, run_action
from app.lookups.remote_select import remote_select
from app.models.planning import Application, Appointment, Booking
from app.staffing import operations, write_paths
from app.staffing.list_filters import application_conditions, booking_conditions


class BookingView(QuickFilteredList, AgencyModelView):
    # Appointment, its job and the promoter of the whole page in three statements, not per row;
    # the pager counts at most 1,000 rows past the page shown (900,000 bookings at agency scale).
    datamodel = capped_list(
        Booking,
        selectinload(Booking.appointment).selectinload(Appointment.job),
        selectinload(Booking.promoter),
    )
    list_title = _l("Bookings")
    show_title = _l("Booking")
    add_title = _l("Add booking")
    edit_title = _l("Edit booking")
    list_columns = ["appointment", "appointment.job", "promoter", "status", "cancel_state"]
    # No appointment or promoter filter: FAB would render a dropdown of every row.
    search_columns = ["status"]
    show_columns = [
        "appointment",
        "promoter",
        "status",
        "cancel_state",
        "cancel_requested_at",
        "cancel_reason",
        "cancel_answered_at",
        "created_at",
        "updated_at",
    ]
    # A new booking is a request (staffing.request_promoters); its state changes through
    # the actions and the promoter system, never in a form.
    add_columns = ["appointment", "promoter"]
    editable = False
    order_columns = ["status"]
    formatters_columns = {
        "status": code_formatter(BOOKING_STATUSES),
        "cancel_state": code_formatter(CANCEL_STATES),
    }
    # The shared labels as well: without them FAB names the columns in English ("Appointment").
    label_columns = {
        **AgencyModelView.label_columns,
        "cancel_state": _l("Cancellation request"),
        "cancel_requested_at": _l("Cancellation requested at"),
        "cancel_reason": _l("Reason for cancelling"),
        "cancel_answered_at": _l("Cancellation answered at"),
    }
    add_form_extra_fields = {
        "appointment": remote_select(_l("Appointment"), "appointment"),
        "promoter": remote_select(_l("Promoter"), "promoter"),
    }

    def quick_filter(self, args) -> tuple:
        return booking_conditions(args, local_today())

    def add_through_operation(self, item: Booking) -> str:
        booking = write_paths.request_from(self.datamodel.session, item, g.user)
        return _("%(promoter)s is requested; the promoter is notified.", promoter=booking.promoter)

    def pre_delete(self, item: Booking) -> None:
        write_paths.check_booking_delete(item)
        super().pre_delete(item)

    @action(
        "cancel_booking",
        _l("Cancel booking"),
        _l("Cancel the selected bookings? The promoters are told."),
        "fa-ban",
    )
    def cancel_booking(self, items):
        return run_action(
            self,
            items,
            lambda item: operations.cancel_booking(self.datamodel.session, item, g.user),
            lambda n: _("%(count)d bookings cancelled.", count=n),
        )

    @action(
        "grant_cancellation",
        _l("Grant cancellation"),
        _l("Cancel the selected bookings as their promoters asked? The promoters are told."),
        "fa-check",
    )
    def grant_cancellation(self, items):
        return run_action(
            self,
            items,
            lambda item: operations.grant_cancellation(self.datamodel.session, item),
            lambda n: _("%(count)d bookings cancelled as requested.", count=n),
        )

    @action(
        "refuse_cancellation",
        _l("Refuse cancellation"),
        _l("Refuse these cancellation requests? The bookings stay confirmed; the promoters are told."),
        "fa-times",
    )
    def refuse_cancellation(self, items):
        return run_action(
            self,
            items,
            lambda item: operations.refuse_cancellation(self.datamodel.session, item),
            lambda n: _("%(count)d cancellation requests refused.", count=n),
        )


class ApplicationView(QuickFilteredList, AgencyModelView):
    # Promoter and job of the whole page joined to its rows (AgencyModelView's list loads).
    datamodel = SQLAInterface(Application)
    list_title = _l("Applications")
    show_title = _l("Application")
    add_title = _l("Add application")
    edit_title = _l("Edit application")
    list_columns = ["promoter", "job", "status", "created_at"]
    # No promoter or job filter: FAB would render a dropdown of every row.
    search_columns = ["status", "created_at"]
    show_columns = ["promoter", "job", "status", "created_at"]
    # A new application is the promoter's own (staffing.apply); accept and reject are actions.
    add_columns = ["promoter", "job"]
    editable = False
    order_columns = ["status", "created_at"]
    base_order = ("created_at", "desc")
    formatters_columns = {"status": code_formatter(APPLICATION_STATUSES)}
    add_form_extra_fields = {
        "promoter": remote_select(_l("Promoter"), "promoter"),
        "job": remote_select(_l("Job"), "job"),
    }

    def quick_filter(self, args) -> tuple:
        return application_conditions(args)

    def add_through_operation(self, item: Application) -> str:
        application = write_paths.apply_from(self.datamodel.session, item)
        return _("The application of %(promoter)s is entered.", promoter=application.promoter)

    def pre_delete(self, item: Application) -> None:
        write_paths.check_application_delete(item)
        super().pre_delete(item)

    @action("accept", _l("Accept"), icon="fa-check")
    def accept(self, items):
        return run_action(
            self,
            items,
            lambda item: operations.decide_application(self.datamodel.session, item, accept=True),
            lambda n: _("%(count)d applications accepted.", count=n),
        )

    @action("reject", _l("Reject"), _l("Reject the selected applications?"), "fa-times")
    def reject(self, items):
        return run_action(
            self,
            items,
            lambda item: operations.decide_application(self.datamodel.session, item, accept=False),
            lambda n: _("%(count)d applications rejected.", count=n),
        )
