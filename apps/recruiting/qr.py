"""QR codes of recruiting links, drawn by segno (pure Python: SVG and PNG, no imaging library)."""

import io

import segno

# Quartile error correction survives a smudged or partly covered poster.
ERROR_CORRECTION = "q"


def qr_png(url: str, *, scale: int = 10) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error=ERROR_CORRECTION).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_svg(url: str, *, scale: int = 10) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error=ERROR_CORRECTION).save(
        buffer, kind="svg", scale=scale, border=4, xmldecl=True, title=url
    )
    return buffer.getvalue()


def qr_svg_inline(url: str) -> str:
    """Return an ``<svg>`` element that scales to its box (for pages and posters)."""
    return segno.make(url, error=ERROR_CORRECTION).svg_inline(
        scale=1, border=4, omitsize=True, title=url
    )
