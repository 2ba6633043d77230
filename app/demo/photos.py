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

SIZE = (640, 480)
THUMBNAIL = 320
#: Background and shelf colours per region.
COLOURS = {data.NORTH: ((32, 86, 148), (238, 196, 64)), data.SOUTH: ((150, 48, 56), (120, 200, 120))}
QUESTION_KEY = "display_photo"
#: Reports of this many days before today get a photo (older ones keep the seed fast).
RECENT_DAYS = 7

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
        top = 160 + row * 100
        draw.rectangle((50, top + 75, width - 50, top + 84), fill=(235, 235, 235))
        for column in range(7):
            left = 70 + column * 74
            draw.rectangle((left, top + 20, left + 58, top + 75), fill=shelf, outline=(30, 30, 30), width=2)
    draw.text((30, 30), _drawable(store, _font(24)), font=_font(24), fill=(255, 255, 255))
    return image


def display_photo(store: str, territory: str, day: dt.date) -> tuple[bytes, bytes]:
    """(photo, thumbnail) as JPEG bytes: the store's name and the day on the region's colour."""
    image = _picture(store, territory).copy()
    ImageDraw.Draw(image).text((30, 80), f"Supertoy · {day:%d.%m.%Y}", font=_font(22), fill=(255, 255, 255))
    thumbnail = image.reduce(SIZE[0] // THUMBNAIL)  # 320 × 240, cheaper than resampling
    return _jpeg(image), _jpeg(thumbnail)


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans if the system has it (it has ä, ö, ü and ß), else Pillow's own font."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


def _drawable(text: str, font) -> str:
    """Pillow's own font lacks the German letters: spelled out for it."""
    if isinstance(font, ImageFont.FreeTypeFont) and "DejaVu" in (font.getname()[0] or ""):
        return text
    for letter, plain in (
        ("ä", "ae"),
        ("ö", "oe"),
        ("ü", "ue"),
        ("Ä", "Ae"),
        ("Ö", "Oe"),
        ("Ü", "Ue"),
        ("ß", "ss"),
    ):
        text = text.replace(letter, plain)
    return text


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
