"""The certificate as a one-page PDF (reportlab). PURE: the caller passes every text already translated.

Noto Sans is embedded (subset to Latin and Cyrillic, Kazakh letters included; vendored under
``static/fonts``) so ә ғ қ ң ө ұ ү һ і print on any machine. The QR code is drawn as vectors in a form
XObject named ``qr`` and carries the public verification URL; the same URL is a link over the code.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"
REGULAR = "CBTNotoSans"
BOLD = "CBTNotoSans-Bold"


@cache
def _register_fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(REGULAR, str(FONT_DIR / "NotoSans-Regular.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "NotoSans-Bold.ttf")))


@dataclass(frozen=True)
class CertificateText:
    """Everything printed, in the certificate's language."""

    heading: str
    intro: str
    name: str
    completed: str
    course: str
    facts: list[tuple[str, str]]
    code_label: str
    code: str
    verify_hint: str
    verify_url: str
    revoked_note: str | None = None
    title: str = ""
    lang: str = "en"


def render(text: CertificateText) -> bytes:
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.colors import HexColor
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfgen.canvas import Canvas

    _register_fonts()
    buffer = io.BytesIO()
    width, height = landscape(A4)
    pdf = Canvas(buffer, pagesize=(width, height), pageCompression=1)
    pdf.setTitle(text.title or text.heading)
    pdf.setAuthor("CBT")
    pdf.setSubject(text.course)
    pdf.setCreator("CBT")
    brand = HexColor("#0b4f6c")
    ink = HexColor("#1b2430")
    muted = HexColor("#5a6675")

    pdf.setStrokeColor(brand)
    pdf.setLineWidth(6)
    pdf.rect(24, 24, width - 48, height - 48)
    pdf.setLineWidth(1.2)
    pdf.rect(36, 36, width - 72, height - 72)

    centre = width / 2
    y = height - 110
    pdf.setFillColor(brand)
    pdf.setFont(BOLD, 34)
    pdf.drawCentredString(centre, y, text.heading)
    y -= 46
    pdf.setFillColor(ink)
    pdf.setFont(REGULAR, 15)
    pdf.drawCentredString(centre, y, text.intro)
    y -= 44
    pdf.setFont(BOLD, 28)
    for line in simpleSplit(text.name, BOLD, 28, width - 200):
        pdf.drawCentredString(centre, y, line)
        y -= 34
    y -= 4
    pdf.setFont(REGULAR, 15)
    pdf.drawCentredString(centre, y, text.completed)
    y -= 34
    pdf.setFillColor(brand)
    pdf.setFont(BOLD, 21)
    for line in simpleSplit(text.course, BOLD, 21, width - 200)[:3]:
        pdf.drawCentredString(centre, y, line)
        y -= 27

    pdf.setFillColor(ink)
    left = 80
    y = 170
    for label, value in text.facts:
        pdf.setFont(REGULAR, 12)
        pdf.setFillColor(muted)
        pdf.drawString(left, y, label)
        pdf.setFont(BOLD, 12)
        pdf.setFillColor(ink)
        pdf.drawString(left + 150, y, value)
        y -= 20
    pdf.setFont(REGULAR, 12)
    pdf.setFillColor(muted)
    pdf.drawString(left, y, text.code_label)
    pdf.setFont(BOLD, 16)
    pdf.setFillColor(ink)
    pdf.drawString(left + 150, y - 1, text.code)
    pdf.setFont(REGULAR, 9)
    pdf.setFillColor(muted)
    pdf.drawString(left, 62, f"{text.verify_hint} {text.verify_url}")

    if text.revoked_note:
        pdf.setFillColor(HexColor("#a4161a"))
        pdf.setFont(BOLD, 16)
        pdf.drawCentredString(centre, 205, text.revoked_note)

    size = 120
    widget = QrCodeWidget(text.verify_url, barLevel="M", barBorder=2)
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    qr_x, qr_y = width - 80 - size, 70
    pdf.beginForm("qr")
    renderPDF.draw(drawing, pdf, 0, 0)
    pdf.endForm()
    pdf.saveState()
    pdf.translate(qr_x, qr_y)
    pdf.doForm("qr")
    pdf.restoreState()
    pdf.linkURL(text.verify_url, (qr_x, qr_y, qr_x + size, qr_y + size), relative=0)

    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
