"""Agency screens: who sees what, and why (the visibility check); password pages."""

from __future__ import annotations

from flask import request
from flask_appbuilder import BaseView, expose, has_access
from sqlalchemy import select

from app.extensions import db
from app.models.crm import Contact
from app.security import password_pages, visibility

AGENCY_LAYOUT = "appbuilder/base.html"


class VisibilityCheckView(BaseView):
    route_base = "/visibility"
    default_view = "check"

    @expose("/")
    @has_access
    def check(self):
        contacts = db.session.scalars(
            select(Contact).where(Contact.user_id.is_not(None)).order_by(Contact.last_name)
        ).all()
        try:
            contact_id = int(request.args.get("contact", ""))
        except ValueError:
            contact_id = None
        contact = db.session.get(Contact, contact_id) if contact_id else None
        rows = db.session.execute(visibility.visibility_explained(contact.id)).all() if contact else []
        return self.render_template(
            "security/visibility.html",
            contacts=contacts,
            contact=contact,
            rows=rows,
            store_count=len({location.id for _job, location, _territory in rows}),
            job_count=len({job.id for job, _location, _territory in rows}),
            without_territory=db.session.scalars(visibility.contacts_without_territory()).all(),
            without_project=db.session.scalars(visibility.contacts_without_project()).all(),
            locations_without_territory=db.session.scalars(
                visibility.locations_without_territory().limit(200)
            ).all(),
        )


class AccountView(BaseView):
    """The agency system's "forgot password" and set-password pages (no login needed)."""

    route_base = "/account"
    default_view = "forgot_password"

    def _login_endpoint(self) -> str:
        return f"{self.appbuilder.sm.auth_view.endpoint}.login"

    @expose("/password/forgot", methods=["GET", "POST"])
    def forgot_password(self):
        return password_pages.forgot_page(AGENCY_LAYOUT, self._login_endpoint(), render=self.render_template)

    @expose("/password/set/<token>", methods=["GET", "POST"])
    def set_password(self, token: str):
        return password_pages.set_page(
            AGENCY_LAYOUT,
            self._login_endpoint(),
            "AccountView.forgot_password",
            token,
            render=self.render_template,
        )
