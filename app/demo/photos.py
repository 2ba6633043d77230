"""Generated "photos of the display" for the demo's day reports.

A photo is a coloured picture (the colour of the store's region) with the store's
name, the day and a stylised shelf drawn on it — made with Pillow, so the demo needs
no image files. :func:`attach_photos` gives the recent day reports of the demo one
photo each (with a thumbnail), storing the bytes through ``put(key, data,
content_type)`` — the report storage's ``put`` (:mod:`app.reporting.storage`).
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
from collections.abc import Callable
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.demo import data
from app.models.crm import Location, Territory
from app.models.planning import Appointment, Job
from app.models.reporting import Report, ReportFile

SIZE = (800, 600)
THUMBNAIL = 320
#: Background and shelf colours per region.
COLOURS = {data.NORTH: ((32, 86, 148), (238, 196, 64)), data.SOUTH: ((150, 48, 56), (120, 200, 120))}
QUESTION_KEY = "display_photo"
#: Reports of this many days before today get a photo (older ones keep the seed fast).
RECENT_DAYS = 14

Put = Callable[[str, bytes, str], object]


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=75)
    return buffer.getvalue()


@lru_cache(maxsize=64)
def _picture(store: str, territory: str) -> Image.Image:
    """The store's picture without the day (drawn once per store)."""
    background, shelf = COLOURS.get(territory, ((90, 90, 90), (200, 200, 200)))
    image = Image.new("RGB", SIZE, background)
    draw = ImageDraw.Draw(image)
    width, _height = SIZE
    for row in range(3):  # a shelf with three boards of boxes
        top = 220 + row * 120
        draw.rectangle((80, top + 90, width - 80, top + 100), fill=(235, 235, 235))
        for column in range(7):
            left = 100 + column * 88
            draw.rectangle((left, top + 25, left + 70, top + 90), fill=shelf, outline=(30, 30, 30), width=3)
    draw.text((40, 40), store, font=ImageFont.load_default(size=40), fill=(255, 255, 255))
    return image


def display_photo(store: str, territory: str, day: dt.date) -> tuple[bytes, bytes]:
    """(photo, thumbnail) as JPEG bytes: the store's name and the day on the region's colour."""
    image = _picture(store, territory).copy()
    ImageDraw.Draw(image).text((40, 110), f"Supertoy · {day:%d.%m.%Y}", font=_font(28), fill=(255, 255, 255))
    half = image.reduce(2)  # cheaper than resampling the whole picture
    thumbnail = half.resize((THUMBNAIL, THUMBNAIL * SIZE[1] // SIZE[0]), Image.Resampling.BILINEAR)
    return _jpeg(image), _jpeg(thumbnail)


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def attach_photos(session: Session, project_id: int, today: dt.date, put: Put) -> int:
    """One photo of the display for each day report of the project from the last
    :data:`RECENT_DAYS` days that has none yet; returns how many were added."""
    with_photo = select(ReportFile.report_id).where(ReportFile.question_key == QUESTION_KEY)
    rows = session.execute(
        select(Report.id, Location.name, Territory.name, Appointment.date)
        .join(Appointment, Appointment.id == Report.appointment_id)
        .join(Job, Job.id == Report.job_id)
        .join(Location, Location.id == Job.location_id)
        .join(Territory, Territory.id == Location.territory_id)
        .where(
            Job.project_id == project_id,
            Report.kind == "day",
            Appointment.date >= today - dt.timedelta(days=RECENT_DAYS),
            Report.id.not_in(with_photo),
        )
        .order_by(Report.id)
    ).all()
    files = []
    for report_id, store, territory, day in rows:
        photo, thumbnail = display_photo(store, territory, day)
        base = secrets.token_urlsafe(24)  # the report storage's keys: 32 random characters
        key, thumbnail_key = f"{base}.jpg", f"{base}-thumb.jpg"
        put(key, photo, "image/jpeg")
        put(thumbnail_key, thumbnail, "image/jpeg")
        files.append(
            ReportFile(
                report_id=report_id,
                question_key=QUESTION_KEY,
                item=0,
                storage_key=key,
                thumbnail_key=thumbnail_key,
                content_type="image/jpeg",
                byte_size=len(photo),
                width=SIZE[0],
                height=SIZE[1],
                original_name="platzierung.jpg",
            )
        )
    session.add_all(files)
    return len(files)
