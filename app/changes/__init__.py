"""Change notifications: who is told that an appointment was cancelled, moved or newly
planned, in which language, and when (at once, in a daily summary or only weekly)."""
