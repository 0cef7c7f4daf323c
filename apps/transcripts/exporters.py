"""Transcripts out: plain text, or a PDF with an embedded Unicode font and page numbers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from apps.transcripts.importers import split_speaker
from apps.transcripts.models import Transcript

FONTS = Path(__file__).resolve().parent / "fonts"
EMPTY = "(This transcript has no text yet.)"


def _meta_lines(transcript: Transcript) -> list[tuple[str, str]]:
    lines = [("Date", transcript.created_at.strftime("%Y-%m-%d %H:%M UTC"))]
    if transcript.description:
        lines.append(("Description", transcript.description))
    if transcript.speakers:
        lines.append(("Speakers", ", ".join(transcript.speakers)))
    if transcript.tags:
        lines.append(("Tags", ", ".join(transcript.tags)))
    if transcript.state != Transcript.State.COMPLETED:
        lines.append(("State", transcript.state))
    return lines


def to_text(transcripts: Sequence[Transcript]) -> str:
    """Each transcript under its own heading, then its text."""
    blocks = []
    for transcript in transcripts:
        head = [transcript.reference_label, "=" * max(3, len(transcript.reference_label))]
        head += [f"{name}: {value}" for name, value in _meta_lines(transcript)]
        blocks.append("\n".join([*head, "", transcript.text.strip() or EMPTY, ""]))
    return "\n\n".join(blocks)


class _TranscriptPDF(FPDF):
    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("DejaVu", size=8)
        self.set_text_color(110)
        self.cell(0, 10, f"Page {self.page_no()} of {{nb}}", align="C")


def to_pdf(transcripts: Sequence[Transcript], *, title: str | None = None) -> bytes:
    """A PDF: a title, then per transcript its label, date, speakers, tags and the text by speaker turn."""
    pdf = _TranscriptPDF(format="A4")
    pdf.set_title(title or (transcripts[0].reference_label if len(transcripts) == 1 else "Transcripts"))
    pdf.set_creator("Symbient")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_margins(18, 18, 18)
    for index, transcript in enumerate(transcripts):
        if index == 0 or pdf.get_y() > pdf.h - 60:
            pdf.add_page()
        elif index:
            pdf.ln(8)
        pdf.set_font("DejaVu", "B", 16)
        pdf.multi_cell(0, 8, transcript.reference_label, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)
        pdf.set_font("DejaVu", size=9)
        pdf.set_text_color(90)
        for name, value in _meta_lines(transcript):
            pdf.multi_cell(0, 5, f"{name}: {value}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0)
        pdf.ln(3)
        lines = transcript.text.splitlines() if transcript.text.strip() else [EMPTY]
        for line in lines:
            if not line.strip():
                continue
            speaker, said = split_speaker(line)
            if speaker:
                pdf.set_font("DejaVu", "B", 11)
                pdf.multi_cell(0, 6, speaker, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_font("DejaVu", size=11)
            pdf.multi_cell(0, 6, said, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(1.5)
    return bytes(pdf.output())
