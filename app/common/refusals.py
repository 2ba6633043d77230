"""A state change refused on a generic path (CRUD screen or REST API).

The states of appointments, bookings, applications and jobs belong to their
workflow's operations; a generic write that would change one is refused with a
message that names the path that does it (and, on a screen, links to it).
"""

from __future__ import annotations

from markupsafe import Markup


class StateChangeRefused(ValueError):
    """The message is for the user; ``field`` is the form/JSON field it is about."""

    def __init__(self, message, field: str | None = None, link: str | None = None, link_text=None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.link = link
        self.link_text = link_text

    def __str__(self) -> str:
        """The text; with a link, as Markup (FAB flashes ``str(error)``, so the link works)."""
        return Markup(self.__html__()) if self.link else str(self.message)

    def __html__(self) -> str:
        if not self.link:
            return str(Markup.escape(str(self.message)))
        text, link_text = str(self.message), str(self.link_text or self.link)
        return str(Markup('{} <a href="{}">{}</a>').format(text, self.link, link_text))

    def as_json(self) -> str | dict[str, list[str]]:
        """The API's message: the text with the path, per field if there is one."""
        text = f"{self.message} ({self.link})" if self.link else str(self.message)
        return {self.field: [text]} if self.field else text


def flash_message(error: Exception) -> Markup:
    """A refusal as a flash: its HTML (with link) if it has one, otherwise its escaped text."""
    return Markup.escape(error)
