"""Published council reports are never overwritten silently.

A report is rendered into a scratch folder first. If a report of the period already exists:
- all files byte-identical: nothing is written;
- otherwise the published files move to `<period>/versions/v<n>/` (n = 1, 2, ... in order of
  supersession, so v1 is the first published version), the new files take their place, and
  `<period>/Aenderungshinweis_<period>.md` gets a section naming the new version, the reason
  (the corrected files or seeds) and every published figure that changed, compared cell by cell
  in the XLSX annex (one sheet per table).
Superseded versions live under `versions/` only, so readers of the current publication (the
disclosure audit) can skip that folder.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from openpyxl import load_workbook

from reports.formatting import german_number

VERSIONS = "versions"
MAX_LISTED = 200  # changed cells listed in a note; the rest are counted
HEADER_ROW = 3  # annex layout: title in row 1, column labels in row 3


def note_path(folder: Path, period: str) -> Path:
    return folder / f"Aenderungshinweis_{period}.md"


def next_version(folder: Path) -> int:
    numbers = [
        int(p.name[1:])
        for p in (folder / VERSIONS).glob("v*")
        if p.is_dir() and p.name[1:].isdigit()
    ]
    return max(numbers, default=0) + 1


def _identical(old: list[Path], new: list[Path]) -> bool:
    return sorted(p.name for p in old) == sorted(p.name for p in new) and all(
        (a.read_bytes() == b.read_bytes()) for a, b in zip(sorted(old), sorted(new), strict=True)
    )


def _text(value: object) -> str:
    return "" if value is None else str(value)


def annex_changes(old: Path, new: Path) -> list[tuple[str, str, str, str, str, str]]:
    """(sheet, cell, row label, column label, old, new) for every cell whose value differs,
    the values shown as the annex shows them (number format, German decimal comma)."""
    before, after = load_workbook(old, read_only=True), load_workbook(new, read_only=True)
    changes = []
    try:
        for sheet in sorted(set(before.sheetnames) | set(after.sheetnames)):
            a, b = _cells(before, sheet), _cells(after, sheet)
            for row, col in sorted(a.keys() | b.keys()):
                if _value(a, row, col) == _value(b, row, col):
                    continue
                label = _text(_value(b, row, 1) or _value(a, row, 1))
                header = _text(_value(b, HEADER_ROW, col) or _value(a, HEADER_ROW, col))
                shown = _shown_pair(a.get((row, col)), b.get((row, col)))
                changes.append((sheet, f"{_column_letter(col)}{row}", label, header, *shown))
    finally:
        before.close()
        after.close()
    return changes


Cell = tuple[object, str]  # value, number format


def _cells(book, sheet: str) -> dict[tuple[int, int], Cell]:
    if sheet not in book.sheetnames:
        return {}
    return {
        (cell.row, cell.column): (cell.value, cell.number_format or "")
        for row in book[sheet].iter_rows()
        for cell in row
        if getattr(cell, "value", None) is not None
    }


def _value(cells: dict[tuple[int, int], Cell], row: int, col: int) -> object:
    return cells.get((row, col), (None, ""))[0]


def _shown(cell: Cell | None, decimals: int | None = None) -> str:
    """A number as its format shows it (`0.0 %` -> '42,5 %'); text as it is."""
    if cell is None:
        return ""
    value, number_format = cell
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _text(value)
    places = re.search(r"0\.(0+)", number_format)
    digits = decimals if decimals is not None else len(places.group(1)) if places else 0
    percent = "%" in number_format
    number = german_number(value * 100 if percent else value, digits)
    return number + (" %" if percent else " €" if "€" in number_format else "")


def _shown_pair(old: Cell | None, new: Cell | None) -> tuple[str, str]:
    """Both values as shown; with six decimals when the shown values would be equal."""
    shown = _shown(old), _shown(new)
    return shown if shown[0] != shown[1] else (_shown(old, 6), _shown(new, 6))


def _column_letter(col: int) -> str:
    letters = ""
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def note_section(version: int, reason: str, annex: str, changes: list[tuple]) -> str:
    lines = [
        f"## Version {version + 1} ersetzt Version {version}",
        "",
        f"Die bisherige Fassung liegt unter `{VERSIONS}/v{version}/`.",
        "",
        f"Grund: {reason}",
        "",
    ]
    if not changes:
        lines += [
            "Die veröffentlichten Werte im Anhang sind unverändert (Text oder Layout geändert).",
            "",
        ]
        return "\n".join(lines)
    lines += [
        f"Geänderte veröffentlichte Werte im Anhang `{annex}` ({len(changes)} Zellen):",
        "",
        "| Tabelle | Zelle | Zeile | Spalte | bisher | neu |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        "| " + " | ".join(_cell(str(v)) for v in change) + " |" for change in changes[:MAX_LISTED]
    ]
    if len(changes) > MAX_LISTED:
        lines.append(f"\n… und {len(changes) - MAX_LISTED} weitere Zellen.")
    return "\n".join(lines) + "\n"


def publish_versioned(
    folder: Path, period: str, render: Callable[[Path], list[Path]], reason: str
) -> tuple[list[Path], Path | None]:
    """Render with `render(scratch_out_dir) -> files in <scratch>/.../<period>/` and publish the
    files into `folder` as the module docstring says. Returns (current files, note or None)."""
    folder.mkdir(parents=True, exist_ok=True)
    # scratch beside `public/`, not in it: an interrupted render leaves nothing in public/
    with tempfile.TemporaryDirectory(
        dir=folder.parent.parent, prefix=f".render-{period}-"
    ) as scratch:
        new = render(Path(scratch))
        published = [folder / p.name for p in new]
        old = [p for p in published if p.exists()]
        if not old:
            for p in new:
                shutil.move(p, folder / p.name)
            return published, None
        if _identical(old, new):
            return published, None
        version = next_version(folder)
        kept = folder / VERSIONS / f"v{version}"
        kept.mkdir(parents=True)
        for p in old:
            shutil.move(p, kept / p.name)
        for p in new:
            shutil.move(p, folder / p.name)
    annex = next((p for p in published if p.suffix == ".xlsx"), None)
    changes = (
        annex_changes(kept / annex.name, annex) if annex and (kept / annex.name).exists() else []
    )
    note = note_path(folder, period)
    head = (
        note.read_text(encoding="utf-8")
        if note.exists()
        else (f"# Änderungshinweis Integrationsbericht {period}\n\n")
    )
    section = note_section(version, reason, annex.name if annex else "", changes)
    note.write_text(head + section + "\n", encoding="utf-8")
    return published, note
