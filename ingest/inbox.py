"""What is in the inbox: the source files it holds, with kind, period and checksum.

Files whose names match no source (the generator's marker, notes, temporary files) are ignored.
Sorted by period, then by file kind in contract order, so a run loads months in time order (a
reversal can refer to a booking of an earlier month) and yearly plans before their months.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ingest.contracts import FILE_KINDS, SOURCES

TEILERGEBNISPLAN = re.compile(r"^teilergebnisplan_(?P<period>[^/\\]+)\.csv$", re.IGNORECASE)
KIND_ORDER = (*FILE_KINDS, "teilergebnisplan")


@dataclass(frozen=True)
class InboxFile:
    kind: str  # file kind (FILE_KINDS key) or 'teilergebnisplan'
    period: str  # 'YYYY-MM', 'YYYY' or the free label of a Teilergebnisplan
    path: Path
    sha256: str
    size: int


def classify(name: str) -> tuple[str, str] | None:
    """(kind, period) of a file name, or None when it is not a source file."""
    for kind, tables in FILE_KINDS.items():
        match = SOURCES[tables[0]].file_regex.match(name)
        if match:
            return kind, match.group("period")
    match = TEILERGEBNISPLAN.match(name)
    return ("teilergebnisplan", match.group("period")) if match else None


def scan(inbox: Path) -> list[InboxFile]:
    files = []
    for path in Path(inbox).iterdir():
        found = classify(path.name) if path.is_file() else None
        if found is None:
            continue
        data = path.read_bytes()
        files.append(
            InboxFile(found[0], found[1], path, hashlib.sha256(data).hexdigest(), len(data))
        )
    return sorted(files, key=lambda f: (f.period, KIND_ORDER.index(f.kind), f.path.name))


def months_in_inbox(inbox: Path) -> list[str]:
    """Distinct reporting months ('YYYY-MM') of the monthly files, ascending."""
    return sorted({f.period for f in scan(inbox) if re.fullmatch(r"\d{4}-\d{2}", f.period)})
