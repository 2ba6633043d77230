"""Agency screen of the mail outbox (read-only; failed mails can be retried)."""

from __future__ import annotations

from flask import redirect
from flask_appbuilder.actions import action
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l

from app.common.labels import COLUMN_LABELS
from app.common.models import utcnow
from app.common.views import AgencyModelView
from app.outbox.models import OutboxMessage


class OutboxView(AgencyModelView):
    datamodel = SQLAInterface(OutboxMessage)
    list_title = _l("Outbox")
    show_title = _l("Mail")
    base_permissions = ["can_list", "can_show", "can_retry"]
    label_columns = {
        **COLUMN_LABELS,
        "kind": _l("Kind"),
        "recipient": _l("Recipient"),
        "subject": _l("Subject"),
        "attempts": _l("Attempts"),
        "next_attempt_at": _l("Next attempt"),
        "last_error": _l("Last error"),
        "sent_at": _l("Sent at"),
        "message_id": _l("Message-ID"),
        "body_text": _l("Text"),
        "language": _l("Language"),
    }
    list_columns = ["created_at", "recipient", "subject", "status", "attempts", "sent_at", "last_error"]
    show_columns = [
        "created_at",
        "kind",
        "recipient",
        "language",
        "subject",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
        "message_id",
        "body_text",
    ]
    search_columns = ["status", "recipient", "subject", "kind"]
    order_columns = ["created_at", "status", "attempts", "sent_at"]
    base_order = ("id", "desc")
    page_size = 25

    @action("retry", _l("Send again"), _l("Send the selected failed mails again?"), "fa-repeat")
    def retry(self, items):
        items = items if isinstance(items, list) else [items]
        for item in items:
            if item is not None and item.status == "failed":
                item.status = "pending"
                item.attempts = 0
                item.claim_token = None
                item.next_attempt_at = utcnow()
        self.datamodel.session.commit()
        self.update_redirect()
        return redirect(self.get_redirect())
