"""Form widgets FAB does not ship."""

from wtforms.widgets import TimeInput


class BS3TimeWidget(TimeInput):
    """An HTML5 time input styled like FAB's other fields."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("class", "form-control")
        return super().__call__(field, **kwargs)
