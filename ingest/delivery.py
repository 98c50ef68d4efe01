"""Who has delivered a month's files (issue 15): in a district each municipality its persons
and course lists (contracts.MUNICIPAL_KINDS), the district its payments, ledger and budget plan.

A municipal kind of a month is complete with one district-wide file (every municipality's rows,
Gemeinde per row) or with one file of every municipality of the reference data; both forms in
one month, two files of one municipality or a file of an unknown municipality is a conflict the
run refuses (FileRejected), since rows would count twice or nowhere. In a city (no
municipalities given) every kind is one file of the whole city.
`kim status`, the inbox sensor and the ingest step read it here.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ingest.contracts import FILE_KINDS, SOURCES
from ingest.errors import FileRejected
from ingest.inbox import InboxFile
from kim_settings import deployment_mode, seeds_dir


@dataclass(frozen=True)
class KindDelivery:
    """One file kind of one period: the files delivered, who is missing, what conflicts."""

    kind: str
    period: str  # 'YYYY-MM', or 'YYYY' for the yearly budget plan
    municipal: bool  # delivered per municipality (district and a municipal kind)
    files: tuple[InboxFile, ...]
    missing: tuple[str, ...]  # AGS of municipalities without a file; ('',) = the file is missing
    conflict: str = ""  # German: why the files cannot be loaded together

    @property
    def complete(self) -> bool:
        return not self.missing and not self.conflict


def delivering_municipalities(seeds: Path | None = None) -> dict[str, str]:
    """AGS -> name of the municipalities that deliver their own files: those of the reference
    data in a district, none in a city."""
    seeds = seeds or seeds_dir()
    if deployment_mode(seeds) != "kreis":
        return {}
    with (seeds / "municipalities.csv").open(encoding="utf-8", newline="") as f:
        return {row["ags"].strip(): row["name"].strip() for row in csv.DictReader(f)}


def period_of(kind: str, month: str) -> str:
    """The file period a month needs: the month, or its year for yearly files."""
    return month[:4] if SOURCES[FILE_KINDS[kind][0]].period == "year" else month


def month_delivery(
    files: list[InboxFile], month: str, municipalities: dict[str, str]
) -> list[KindDelivery]:
    """Every file kind's delivery for `month`; `municipalities` (AGS -> name) is empty in a city."""
    return [
        _kind_delivery(kind, period_of(kind, month), files, municipalities) for kind in FILE_KINDS
    ]


def _kind_delivery(
    kind: str, period: str, files: list[InboxFile], municipalities: dict[str, str]
) -> KindDelivery:
    found = tuple(f for f in files if f.kind == kind and f.period == period)
    whole = [f for f in found if not f.ags]
    own = [f for f in found if f.ags]
    municipal = bool(municipalities) and SOURCES[FILE_KINDS[kind][0]].municipal
    if not municipal:
        conflict = (
            f"{', '.join(f.name for f in own)}: {kind} wird nicht je Gemeinde geliefert"
            if own
            else ""
        )
        return KindDelivery(kind, period, False, found, () if whole else ("",), conflict)
    ags = [f.ags for f in own]
    conflict = ""
    if whole and own:
        conflict = (
            f"kreisweite Datei {whole[0].name} und Gemeindedateien "
            f"({', '.join(f.name for f in own)}) im selben Zeitraum"
        )
    elif unknown := sorted({a for a in ags if a not in municipalities}):
        conflict = f"Gemeinde(n) {', '.join(unknown)} fehlen in den Stammdaten (municipalities.csv)"
    elif twice := sorted({a for a in ags if ags.count(a) > 1}):
        conflict = f"mehrere Dateien für Gemeinde(n) {', '.join(twice)}"
    missing = () if whole else tuple(a for a in municipalities if a not in ags)
    return KindDelivery(kind, period, True, found, missing, conflict)


def describe_missing(delivery: KindDelivery, municipalities: dict[str, str]) -> str:
    """'08997003 Bachheim, 08997005 Eichhof' (or the expected file name when it is not
    delivered per municipality)."""
    if not delivery.municipal:
        extension = SOURCES[FILE_KINDS[delivery.kind][0]].extension
        return f"{delivery.kind}_{delivery.period}.{extension}"
    return ", ".join(f"{a} {municipalities.get(a, '')}".strip() for a in delivery.missing)


def files_to_load(
    files: list[InboxFile], months: list[str], municipalities: dict[str, str], where: str
) -> list[InboxFile]:
    """Every file the months need, in contract order; FileRejected names the first kind that
    is missing (with the municipalities missing) or in conflict, before anything is loaded."""
    chosen: list[InboxFile] = []
    for kind in FILE_KINDS:
        periods = sorted({period_of(kind, m) for m in months})
        for period in periods:
            delivery = _kind_delivery(kind, period, files, municipalities)
            _refuse_incomplete(delivery, municipalities, where)
            chosen += sorted(delivery.files, key=lambda f: (f.ags, f.name))
    return chosen


def _refuse_incomplete(delivery: KindDelivery, municipalities: dict[str, str], where: str) -> None:
    extension = SOURCES[FILE_KINDS[delivery.kind][0]].extension
    name = f"{delivery.kind}_{delivery.period}.{extension}"
    if delivery.conflict:
        raise FileRejected(
            name,
            f"{delivery.conflict} (Eingangsordner {where})",
            "je Zeitraum entweder eine kreisweite Datei oder je Gemeinde eine Datei "
            f"(Ordner <AGS>/ oder {delivery.kind}_<AGS>_<Zeitraum>.{extension})",
        )
    if not delivery.missing:
        return
    if delivery.municipal:
        raise FileRejected(
            name,
            f"Lieferung fehlt von {describe_missing(delivery, municipalities)} "
            f"(Eingangsordner {where})",
            f"je Gemeinde eine Datei im Ordner <AGS>/ oder {delivery.kind}_<AGS>_<Zeitraum>"
            f".{extension}, oder eine kreisweite Datei mit der Spalte Gemeinde",
        )
    raise FileRejected(
        name,
        f"fehlt im Eingangsordner {where} (Zeitraum {delivery.period})",
        f"je Zeitraum eine Datei {delivery.kind}_<Zeitraum>.{extension}",
    )
