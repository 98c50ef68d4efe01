"""Strict text encoding detection for inbox CSV files.

UTF-8 is tried first (a BOM selects 'utf-8-sig'); otherwise Windows-1252, but only if every byte
is defined there. cp1252 leaves 0x81, 0x8D, 0x8F, 0x90 and 0x9D undefined; Python's codec
rejects them, so a file with such bytes (or otherwise garbled) is rejected instead of guessed.
"""

from __future__ import annotations

import codecs

from ingest.errors import FileRejected

EXPECTED = "CSV-Datei in UTF-8 (mit oder ohne BOM) oder Windows-1252"


def decode(data: bytes, file_name: str) -> tuple[str, str]:
    """Return (text, encoding) with encoding in 'utf-8-sig', 'utf-8', 'cp1252'."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise _rejected(file_name, exc, "UTF-8 mit BOM") from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise _rejected(file_name, exc, "weder UTF-8 noch Windows-1252") from exc


def _rejected(file_name: str, exc: UnicodeDecodeError, what: str) -> FileRejected:
    byte = exc.object[exc.start : exc.start + 1].hex().upper()
    return FileRejected(
        file_name,
        f"Zeichenkodierung nicht lesbar ({what}): Byte 0x{byte} an Position {exc.start}",
        EXPECTED,
        line=exc.object[: exc.start].count(b"\n") + 1,
        rule="invalid_encoding",
    )
