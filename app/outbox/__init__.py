"""The mail outbox, beneath every feature: :func:`enqueue` writes a mail in the
caller's transaction, :mod:`app.outbox.sender` delivers it. Imports no feature."""
