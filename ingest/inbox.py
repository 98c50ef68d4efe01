"""What is in the inbox: the source files it holds, with kind, period, municipality and checksum.

Files whose names match no source (the generator's marker, notes, temporary files) are ignored.
In a district each municipality delivers its own persons and course lists (contracts.
MUNICIPAL_KINDS), either into the folder `<AGS>/` of the inbox or with its AGS in the file name
(`personen_08997001_2026-10.csv`); both forms give the file its municipality (`ags`). A file
without one is district-wide (every municipality's rows, Gemeinde per row).
Sorted by period, then by file kind in contract order, so a run loads months in time order (a
reversal can refer to a booking of an earlier month) and yearly plans before their months.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ingest.contracts import AGS_PATTERN, FILE_KINDS, SOURCES
from ingest.errors import FileRejected

TEILERGEBNISPLAN = re.compile(r"^teilergebnisplan_(?P<period>[^/\\]+)\.csv$", re.IGNORECASE)
KIND_ORDER = (*FILE_KINDS, "teilergebnisplan")
AGS_FOLDER = re.compile(rf"^{AGS_PATTERN}$")


@dataclass(frozen=True)
class InboxFile:
    kind: str  # file kind (FILE_KINDS key) or 'teilergebnisplan'
    period: str  # 'YYYY-MM', 'YYYY' or the free label of a Teilergebnisplan
    path: Path
    sha256: str
    size: int
    ags: str = ""  # the delivering municipality; '' = a file of the whole deployment
    folder: str = ""  # the municipality's inbox folder the file lies in; '' = the inbox itself

    @property
    def name(self) -> str:
        """The file's name in the inbox, with its municipality's folder: the key of its loads
        ('08997001/personen_2026-10.csv')."""
        return f"{self.folder}/{self.path.name}" if self.folder else self.path.name


def folder_of(path: Path, inbox: Path | None) -> str:
    """The municipality folder (an AGS) of the inbox that `path` lies in, or ''."""
    parent = Path(path).parent
    if inbox is None or parent == Path(inbox) or parent.parent != Path(inbox):
        return ""
    return parent.name if AGS_FOLDER.match(parent.name) else ""


def classify(name: str) -> tuple[str, str] | None:
    """(kind, period) of a file name, or None when it is not a source file."""
    found = classify_delivery(name)
    return None if found is None else found[:2]


def classify_delivery(name: str) -> tuple[str, str, str] | None:
    """(kind, period, AGS named in the file name or '') of a file name, or None."""
    for kind, tables in FILE_KINDS.items():
        match = SOURCES[tables[0]].file_regex.match(name)
        if match:
            return kind, match.group("period"), match.groupdict().get("ags") or ""
    match = TEILERGEBNISPLAN.match(name)
    return ("teilergebnisplan", match.group("period"), "") if match else None


def municipality_of(path: Path, folder: str) -> str:
    """The municipality (AGS) a file is delivered for: its folder or the AGS in its name, '' for
    none. Folder and name naming two municipalities is a FileRejected."""
    found = classify_delivery(path.name)
    named = found[2] if found else ""
    if named and folder and named != folder:
        raise FileRejected(
            f"{folder}/{path.name}",
            f"Ordner {folder} und Dateiname {named} nennen verschiedene Gemeinden",
            "die Datei im Ordner ihrer Gemeinde, der Dateiname mit derselben oder ohne AGS",
        )
    return named or folder


def scan(inbox: Path) -> list[InboxFile]:
    """The source files of the inbox and of its municipalities' folders `<AGS>/`."""
    inbox = Path(inbox)
    folders = [p for p in inbox.iterdir() if p.is_dir() and AGS_FOLDER.match(p.name)]
    files = []
    for path in [*inbox.iterdir(), *(p for f in folders for p in f.iterdir())]:
        found = classify_delivery(path.name) if path.is_file() else None
        if found is None:
            continue
        data = path.read_bytes()
        folder = folder_of(path, inbox)
        sha = hashlib.sha256(data).hexdigest()
        files.append(
            InboxFile(found[0], found[1], path, sha, len(data), found[2] or folder, folder)
        )
    return sorted(files, key=lambda f: (f.period, KIND_ORDER.index(f.kind), f.ags, f.path.name))


def months_in_inbox(inbox: Path) -> list[str]:
    """Distinct reporting months ('YYYY-MM') of the monthly files, ascending."""
    return sorted({f.period for f in scan(inbox) if re.fullmatch(r"\d{4}-\d{2}", f.period)})
