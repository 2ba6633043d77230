"""Agency screen of promoters."""

from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from wtforms.validators import Email, Optional

from app.common.choices import LANGUAGES
from app.common.validators import NormaliseEmail, UniqueTogether
from app.common.views import AgencyModelView, boolean_field, choice_field, code_formatter
from app.models.promoter import Promoter
from app.privacy.views import PersonalDataActions
from app.security.login_actions import LoginActions, linkable_logins
from app.security.roles import PROMOTER
from app.staffing.views import ApplicationView, BookingView


class PromoterView(LoginActions, PersonalDataActions, AgencyModelView):
    datamodel = SQLAInterface(Promoter)
    list_title = _l("Promoters")
    show_title = _l("Promoter")
    add_title = _l("Add promoter")
    edit_title = _l("Edit promoter")
    list_columns = ["last_name", "first_name", "city", "email", "phone", "active"]
    search_columns = ["last_name", "first_name", "city", "email", "active"]
    show_columns = ["first_name", "last_name", "email", "phone", "city", "language", "active", "user"]
    add_columns = edit_columns = show_columns
    order_columns = ["last_name", "first_name", "city", "email", "active"]
    base_order = ("last_name", "asc")
    related_views = [ApplicationView, BookingView]
    validators_columns = {
        "email": [NormaliseEmail(), Optional(), Email()],
        "user": [UniqueTogether(Promoter, ["user"], _l("This login already belongs to another promoter."))],
    }
    formatters_columns = {"language": code_formatter(LANGUAGES)}
    add_form_extra_fields = edit_form_extra_fields = {
        "active": boolean_field(_l("Active")),
        "language": choice_field(_l("Preferred language"), LANGUAGES, default="de"),
    }
    # Only promoter-system logins can be linked (never an agency or admin login).
    add_form_query_rel_fields = edit_form_query_rel_fields = linkable_logins(PROMOTER)
