"""promoplan's security manager: FAB's, with sessions and API tokens that can be
ended (:mod:`app.security.sessions`), an agency login that refuses customer and
promoter logins with a pointer to their system, and a POST-only logout.
"""

from __future__ import annotations

from flask import flash, g, redirect, request
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import no_cache
from flask_appbuilder.security.forms import LoginForm_db
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import AuthDBView
from flask_appbuilder.utils.base import get_safe_redirect
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from app.security import sessions


class PromoplanAuthDBView(AuthDBView):
    login_template = "security/login_agency.html"

    @expose("/login/", methods=["GET", "POST"])
    @no_cache
    def login(self):
        from app.security.accounts import log_in, login_url, system_name

        if g.user is not None and g.user.is_authenticated:
            return redirect(self._get_safe_next_url())
        form = LoginForm_db()
        elsewhere = None
        if form.validate_on_submit():
            next_url = get_safe_redirect(request.args.get("next", ""))
            result = log_in("agency", form.username.data, form.password.data)
            if result.elsewhere:
                elsewhere = {"name": system_name(result.elsewhere), "url": login_url(result.elsewhere)}
            elif result.user is None:
                flash(_("Unknown user name or wrong password."), "warning")
                return redirect(self.appbuilder.get_url_for_login_with(next_url))
            else:
                login_user(result.user, remember=False)
                return redirect(next_url)
        return self.render_template(
            self.login_template, title=self.title, form=form, appbuilder=self.appbuilder, elsewhere=elsewhere
        )

    @expose("/logout/", methods=["POST"])
    def logout(self):
        """POST only (with the CSRF token): a link or an image cannot log anybody out."""
        from app.extensions import db

        user = self._get_authenticated_user()
        if user is not None:
            sessions.end_session(db.session, user)
        logout_user()
        if user is not None:
            self.appbuilder.sm.on_user_logout(user)
        return redirect(self.appbuilder.get_url_for_login)


class PromoplanSecurityManager(SecurityManager):
    authdbview = PromoplanAuthDBView

    def load_user(self, pk):
        """``pk`` is ``"<id>:<session token>"`` (see :mod:`app.security.sessions`)."""
        return sessions.load_session_user(self.session, pk)

    def load_user_jwt(self, _jwt_header, jwt_data):
        identity = jwt_data["sub"]
        if not sessions.token_is_current(self.session, identity, jwt_data.get(sessions.CLAIM)):
            return None
        user = self.get_user_by_id(int(identity))
        if user and user.is_active:
            g.user = user
            return user
        return None

    def create_jwt_manager(self, app):
        jwt_manager = super().create_jwt_manager(app)

        @jwt_manager.additional_claims_loader
        def _session_claim(identity):
            if not str(identity).isdigit():
                return {}
            token = sessions.session_token(self.session, int(identity))
            self.session.commit()
            return {sessions.CLAIM: sessions.fingerprint(token)}

        @jwt_manager.token_in_blocklist_loader
        def _revoked(_jwt_header, jwt_data) -> bool:
            """Access and refresh tokens die with the session token they were issued with."""
            return not sessions.token_is_current(
                self.session, jwt_data.get("sub"), jwt_data.get(sessions.CLAIM)
            )

        return jwt_manager
