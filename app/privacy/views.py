"""The actions "Export personal data" and "Anonymise" of the contact and promoter screens."""

from __future__ import annotations

import io

from flask import abort, flash, redirect, send_file, url_for
from flask_appbuilder.actions import action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.privacy import service


def _one(items):
    """FAB passes one row from the show page and a list from the list page."""
    if isinstance(items, list):
        if len(items) != 1:
            abort(400)
        items = items[0]
    if items is None:
        abort(404)
    return items


class PersonalDataActions:
    """Mixed into an agency ModelView of contacts or promoters."""

    @action(
        "export_personal_data",
        _l("Export personal data"),
        icon="fa-download",
        multiple=False,
    )
    def export_personal_data(self, items):
        person = _one(items)
        content, filename = service.export_zip(db.session, person)
        db.session.rollback()
        return send_file(
            io.BytesIO(content), mimetype="application/zip", as_attachment=True, download_name=filename
        )

    @action(
        "anonymise",
        _l("Anonymise"),
        _l(
            "Anonymise this person for good? Name, email, phone and login are removed; "
            "the planning history stays. This cannot be undone."
        ),
        icon="fa-user-secret",
        multiple=False,
    )
    def anonymise(self, items):
        person = _one(items)
        service.anonymise(db.session, person)
        db.session.commit()
        flash(_("The person has been anonymised."), "success")
        return redirect(url_for(f"{self.endpoint}.show", pk=person.id))
