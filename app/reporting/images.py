"""Uploaded bytes → a file that is safe to keep and to show.

The type is decided from the content alone (Pillow for images, the ``%PDF-`` magic for
PDF documents) — never from the file name or the content type the browser declared.

Images are decoded and written anew as JPEG: the EXIF orientation is applied to the
pixels, every piece of metadata (EXIF with GPS, XMP, IPTC, comments, ICC profiles) is
dropped, the longest side is capped at :data:`MAX_SIDE`, and a thumbnail (longest side
:data:`THUMBNAIL_SIDE`) is made. Images with more pixels than the limit
(``REPORT_MAX_MEGAPIXELS``) and decompression bombs (a small file claiming huge
dimensions) are refused before their pixels are decoded.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from PIL import ExifTags, Image, UnidentifiedImageError, features

try:  # HEIC/HEIF photos (iPhones) only where the optional pillow-heif plugin is installed
    from pillow_heif import register_heif_opener  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the installation
    register_heif_opener = None
else:  # pragma: no cover
    register_heif_opener()

#: Longest side of a stored image and of its thumbnail (pixels).
MAX_SIDE = 2560
THUMBNAIL_SIDE = 320
JPEG_QUALITY = 85
THUMBNAIL_QUALITY = 80
DEFAULT_MAX_MEGAPIXELS = 40.0
PDF_MAGIC = b"%PDF-"


class UploadError(ValueError):
    """A refused upload; the message (translated) is for the user."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


@dataclass(frozen=True)
class CleanFile:
    """What is stored: the bytes, their type, and for images the size and a thumbnail."""

    data: bytes
    content_type: str
    extension: str
    width: int | None = None
    height: int | None = None
    thumbnail: bytes | None = None

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


def image_formats() -> tuple[str, ...]:
    """Pillow format names accepted as photos (HEIF only if Pillow can read it here)."""
    Image.init()
    formats = ["JPEG", "PNG"]
    if features.check("webp"):
        formats.append("WEBP")
    if "HEIF" in Image.OPEN:
        formats.append("HEIF")
    return tuple(formats)


def _format_names(formats: tuple[str, ...]) -> str:
    names = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "HEIF": "HEIC"}
    return ", ".join(names[name] for name in formats)


def allowed_text(kind: str) -> str:
    """The allowed types for a question kind ("photo" or "file"), for messages and hints."""
    images = _format_names(image_formats())
    return f"{images}, PDF" if kind == "file" else images


def not_allowed(kind: str) -> UploadError:
    if kind == "file":
        return UploadError(_l("This file type is not allowed. Allowed: %(types)s.", types=allowed_text(kind)))
    return UploadError(
        _l("This is not a photo in an allowed format. Allowed: %(types)s.", types=allowed_text(kind))
    )


def too_large_image(max_megapixels: float) -> UploadError:
    return UploadError(
        _l(
            "The image is too large (more than %(megapixels)s megapixels). Please send a smaller photo.",
            megapixels=f"{max_megapixels:g}",
        )
    )


def clean_upload(
    data: bytes, kind: str = "photo", *, max_megapixels: float = DEFAULT_MAX_MEGAPIXELS
) -> CleanFile:
    """The cleaned file for a photo question (``kind`` "photo": images only) or a file
    question ("file": images and PDF). Raises :class:`UploadError`."""
    if not data:
        raise UploadError(_l("The file is empty."))
    if kind == "file" and data.startswith(PDF_MAGIC):
        return CleanFile(data=data, content_type="application/pdf", extension="pdf")
    return clean_image(data, kind=kind, max_megapixels=max_megapixels)


def _open(data: bytes, formats: tuple[str, ...]) -> Image.Image:
    return Image.open(io.BytesIO(data), formats=list(formats))


def clean_image(
    data: bytes, *, kind: str = "photo", max_megapixels: float = DEFAULT_MAX_MEGAPIXELS
) -> CleanFile:
    """Decode, check and re-encode an image (see the module's description)."""
    formats = image_formats()
    max_pixels = int(max_megapixels * 1_000_000)
    with warnings.catch_warnings():
        # Pillow's own bomb check warns between MAX_IMAGE_PIXELS and twice that: refuse both.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with _open(data, formats) as probe:
                # only the header is read so far: refuse before any pixel is decoded
                if probe.width * probe.height > max_pixels or probe.width < 1 or probe.height < 1:
                    raise too_large_image(max_megapixels)
                probe.verify()
            image = _open(data, formats)
            if image.format == "JPEG" and max(image.size) > MAX_SIDE:
                # decode at 1/2, 1/4 or 1/8 scale straight away (still at least MAX_SIDE)
                scale = MAX_SIDE / max(image.size)
                image.draft("RGB", (round(image.width * scale), round(image.height * scale)))
            image.load()
        except UploadError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise too_large_image(max_megapixels) from None
        except UnidentifiedImageError as error:
            raise not_allowed(kind) from error
        except Exception as error:  # any other decoder failure (struct.error, MemoryError, …)
            raise UploadError(_l("The image could not be read (damaged or incomplete).")) from error
        try:
            cleaned = _normalise(image)
        except Exception as error:  # a broken EXIF block, an odd mode: refused, never a 500
            raise UploadError(_l("The image could not be read (damaged or incomplete).")) from error
        finally:
            image.close()
    width, height = cleaned.size
    data_out = _jpeg(cleaned, JPEG_QUALITY)
    thumbnail = cleaned.copy()
    thumbnail.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    return CleanFile(
        data=data_out,
        content_type="image/jpeg",
        extension="jpg",
        width=width,
        height=height,
        thumbnail=_jpeg(thumbnail, THUMBNAIL_QUALITY),
    )


#: EXIF orientation → the turn that shows the image upright (as ImageOps.exif_transpose).
TURNS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _orientation(image: Image.Image) -> int | None:
    try:
        return image.getexif().get(ExifTags.Base.Orientation)
    except Exception:  # an unreadable EXIF block: the photo as it is
        return None


def _normalise(image: Image.Image) -> Image.Image:
    """The first frame, RGB on white, at most MAX_SIDE, upright (EXIF orientation), no metadata.

    Shrunk before it is turned: a phone's 48-megapixel photo is never copied at full size.
    """
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)
    orientation = _orientation(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
    elif image.mode != "RGB":
        flat = image.convert("RGB")
    else:
        flat = image
    if max(flat.size) > MAX_SIDE:
        flat.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    if orientation in TURNS:
        flat = flat.transpose(TURNS[orientation])
    # a new image carries nothing of the original but its pixels
    clean = Image.new("RGB", flat.size)
    clean.paste(flat)
    return clean


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()
