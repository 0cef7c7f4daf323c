"""Text from documents people upload (pdf, docx, doc, txt) and from web pages, checked by content, not by name."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from apps.core.exceptions import InvalidInput, PayloadTooLarge

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
DOC_TIMEOUT_SECONDS = 30


@dataclass
class Extracted:
    text: str
    mimetype: str
    extension: str


class DocumentError(InvalidInput):
    """A file that is not one of the accepted types, or cannot be read."""


def _clean(text: str) -> str:
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[ \f\v]+", " ", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def pdf_text(name: str, data: bytes) -> str:
    """The text of a PDF, page by page; DocumentError when it is encrypted or damaged."""
    return pdf_pages_text(name, data)[1]


def pdf_pages_text(name: str, data: bytes) -> tuple[int, str]:
    """A PDF's page count and its text, page by page; DocumentError when it is encrypted or damaged."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError(f"{name}: the PDF is encrypted.")
        pages = list(reader.pages)
        return len(pages), "\n\n".join(page.extract_text() or "" for page in pages)
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentError(f"{name}: the PDF could not be read (damaged file).") from exc


def clean_text(text: str) -> str:
    """Extracted text tidied: no NULs, one kind of line break, no runs of blank lines or spaces."""
    return _clean(text)


# What reading a damaged or unusual zip's directory raises: bad names (UnicodeDecodeError is a ValueError),
# unsupported features, truncation.
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    ValueError,
    NotImplementedError,
    EOFError,
    OSError,
    RuntimeError,
)


def zip_names(data: bytes) -> set[str] | None:
    """The names in a zip archive; None when it cannot be read."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return set(archive.namelist())
    except ZIP_ERRORS:
        return None


def docx_text(name: str, data: bytes) -> str:
    """The paragraphs (then table rows) of a Word document; DocumentError when it is damaged."""
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many kinds for broken packages
        raise DocumentError(f"{name}: the Word document could not be read (damaged file).") from exc
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def _doc(name: str, data: bytes) -> str:
    tool = shutil.which("antiword") or shutil.which("catdoc")
    if tool is None:
        raise DocumentError(f"{name}: legacy .doc files cannot be read on this server (antiword is not installed).")
    with tempfile.NamedTemporaryFile(suffix=".doc") as handle:
        handle.write(data)
        handle.flush()
        command = (
            [tool, "-m", "UTF-8.txt", handle.name] if tool.endswith("antiword") else [tool, "-d", "utf-8", handle.name]
        )
        try:
            result = subprocess.run(command, capture_output=True, timeout=DOC_TIMEOUT_SECONDS, check=False)  # noqa: S603
        except subprocess.TimeoutExpired as exc:
            raise DocumentError(f"{name}: the Word document took too long to read.") from exc
    if result.returncode != 0:
        raise DocumentError(f"{name}: the Word document could not be read (damaged or not a Word file).")
    return result.stdout.decode("utf-8", errors="replace")


def _plain(name: str, data: bytes) -> str | None:
    if b"\x00" in data[:8192]:
        return None
    for encoding in ("utf-8-sig", "utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        printable = sum(ch.isprintable() or ch in "\n\r\t" for ch in text[:10000])
        if printable >= 0.95 * min(len(text), 10000):
            return text
    return None


def extract_document(name: str, data: bytes, *, max_bytes: int) -> Extracted:
    """The text of an uploaded pdf, docx, doc or txt file; anything else, empty or unreadable is refused."""
    name = Path(name or "file").name
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"{name}: the file is larger than the limit of {max_bytes} bytes.")
    if not data:
        raise DocumentError(f"{name}: the file is empty.")
    if data.startswith(b"%PDF-"):
        result = Extracted(pdf_text(name, data), "application/pdf", ".pdf")
    elif data.startswith(b"PK\x03\x04"):
        names = zip_names(data)
        if names is None:
            raise DocumentError(f"{name}: the file is a damaged archive.")
        if "word/document.xml" not in names:
            raise DocumentError(f"{name}: unsupported file type; upload doc, docx, pdf or txt files.")
        mimetype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        result = Extracted(docx_text(name, data), mimetype, ".docx")
    elif data.startswith(OLE_MAGIC):
        result = Extracted(_doc(name, data), "application/msword", ".doc")
    else:
        text = _plain(name, data)
        if text is None:
            raise DocumentError(f"{name}: unsupported file type; upload doc, docx, pdf or txt files.")
        result = Extracted(text, "text/plain", ".txt")
    result.text = _clean(result.text)
    if not result.text:
        raise DocumentError(f"{name}: no text could be found in the file.")
    return result


class _TextParser(HTMLParser):
    SKIP = {"script", "style", "noscript", "template", "svg", "head"}
    BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "pre", "td"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str, str]:
    """(title, visible text) of an HTML page: scripts, styles and the head left out."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    return " ".join(parser.title.split()), _clean(re.sub(r"[ \t]*\n[ \t]*", "\n", "".join(parser.parts)))
