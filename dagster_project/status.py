"""`kim status`: per month, what is loaded, which gates passed, which reports exist, and which
months are stale (ingest/staleness.py). `summary_text` is the default one line per month;
`status_text` the file-level table (`kim status --files`); in a district `delivery_text` adds
each municipality's delivery of the newest (or a given) month (ingest/delivery.py)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from dagster_project.partitions import is_quarter_end, quarter_label
from ingest.contracts import SOURCES
from ingest.delivery import describe_missing, month_delivery
from ingest.inbox import InboxFile
from ingest.staleness import Staleness
from ingest.warehouse import CURRENT_LOADS
from kim_settings import internal_dir, public_dir
from reports.versions import next_version

GATE_LABELS = {"passed": "bestanden", "FAILED": "NICHT bestanden"}


def _gate_states(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Month -> 'passed' or 'FAILED' from the latest gate run of the month."""
    return dict(
        con.sql(
            """
            select partition,
                   case when bool_and(success or severity <> 'error') then 'passed'
                        else 'FAILED' end
            from meta.gate_results
            where run_id is not distinct from (
                select max_by(run_id, checked_at) from meta.gate_results g2
                where g2.partition = gate_results.partition)
            group by partition
            """
        ).fetchall()
    )


def status_text(con: duckdb.DuckDBPyConnection, output: Path) -> str:
    loads = con.sql(
        f"""
        select b.period, b.source, b.file_name, left(b.sha256, 12) as sha, b.rows_loaded,
               b.rows_quarantined
        from ({CURRENT_LOADS}) b
        order by b.period, b.source, b.file_name
        """
    ).fetchall()
    gates = _gate_states(con)
    months = sorted({p for p, *_ in loads if len(p) == 7})
    # A yearly file (the budget plan) is listed under the first month of its year.
    first_of_year = {m[:4]: m for m in reversed(months)}
    lines = [f"{'Month':<8} {'Source':<18} {'File':<28} {'SHA-256':<12} {'Rows':>8} {'Quar.':>6}"]
    for month in months:
        for period, source, file_name, sha, rows, quarantined in loads:
            if period == month or first_of_year.get(period) == month:
                lines.append(
                    f"{month:<8} {source:<18} {file_name:<28} {sha:<12} {rows:>8} {quarantined:>6}"
                )
        missing = sorted(
            t
            for t, s in SOURCES.items()
            if s.period == "month" and not any(p == month and src == t for p, src, *_ in loads)
        )
        reports = sorted(
            p.name
            for folder in (internal_dir(output, month), public_dir(output, month))
            for p in folder.glob("*")
            if p.is_file()
        )
        lines.append(
            f"{'':<8} gates: {gates.get(month, 'not run')}; "
            f"missing sources: {', '.join(missing) or 'none'}; "
            f"reports: {', '.join(reports) or 'none'}"
        )
    return "\n".join(lines)


def _council_label(output: Path, month: str) -> str | None:
    """The council reports published for periods ending with `month`, with their version."""
    labels = []
    periods = [quarter_label(month)] if is_quarter_end(month) else []
    for period in periods + ([month[:4]] if month.endswith("-12") else []):
        folder = public_dir(output, period)
        if (folder / f"Integrationsbericht_{period}.html").exists():
            version = next_version(folder)
            labels.append(period if version == 1 else f"{period} (Fassung {version})")
    return ", ".join(labels) or None


def summary_text(con: duckdb.DuckDBPyConnection, output: Path, staleness: Staleness) -> str:
    """One line per month: sources loaded, gates, reports written, and whether it is stale."""
    monthly = sorted(t for t, s in SOURCES.items() if s.period == "month")
    loaded: dict[str, set[str]] = {}
    for period, source in con.sql(
        "select distinct period, source from meta.load_batches"
    ).fetchall():
        loaded.setdefault(period, set()).add(source)
    gates = _gate_states(con)
    months = sorted({p for p in loaded if len(p) == 7} | set(staleness.reasons))
    lines = [f"{'Monat':<8} {'Geladen':<9} {'Prüfungen':<16} {'Berichte':<44} Veraltet"]
    for month in months:
        have = loaded.get(month, set())
        missing = [t for t in monthly if t not in have]
        sources = f"{len(monthly) - len(missing)}/{len(monthly)}"
        reports = [
            name
            for name, present in (
                ("Workbook", (internal_dir(output, month) / f"Controlling_{month}.xlsx").exists()),
                ("öffentlich", any(public_dir(output, month).glob("*"))),
                (_council_label(output, month), True),
            )
            if name and present
        ]
        reasons = staleness.reasons.get(month)
        lines.append(
            f"{month:<8} {sources:<9} {GATE_LABELS.get(gates.get(month), 'nicht gelaufen'):<16} "
            f"{', '.join(reports) or 'keine':<44} "
            f"{'ja: ' + '; '.join(reasons) if reasons else 'nein'}"
            + (f" (fehlt: {', '.join(missing)})" if missing and have else "")
        )
    return "\n".join(lines)


DELIVERED, MISSING = "geliefert", "fehlt"


def delivery_text(files: list[InboxFile], month: str, municipalities: dict[str, str]) -> str:
    """Who has delivered `month` (a district): one line per municipality with the state of each
    municipal file (geliefert, kreisweit = in the district-wide file, fehlt), then the
    district's own files and any conflict the run would refuse."""
    deliveries = month_delivery(files, month, municipalities)
    municipal = [d for d in deliveries if d.municipal]
    width = max(len(f"{a} {n}") for a, n in municipalities.items())
    lines = [f"Lieferungen {month} ({len(municipalities)} Gemeinden):"]
    lines.append(f"  {'Gemeinde':<{width}}  " + "  ".join(f"{d.kind:<10}" for d in municipal))
    for ags, name in municipalities.items():
        states = [_state(d, ags) for d in municipal]
        lines.append(f"  {f'{ags} {name}':<{width}}  " + "  ".join(f"{s:<10}" for s in states))
    for d in municipal:
        if d.missing:
            lines.append(
                f"  {d.kind} fehlt von {len(d.missing)} Gemeinde(n): "
                + describe_missing(d, municipalities)
            )
    own = [d for d in deliveries if not d.municipal]
    lines.append(
        "  Kreis: "
        + "; ".join(
            f"{d.files[0].name if d.files else d.kind + '_' + d.period} "
            f"{MISSING if d.missing else DELIVERED}"
            for d in own
        )
    )
    lines += [f"  Konflikt {d.kind}: {d.conflict}" for d in deliveries if d.conflict]
    return "\n".join(lines)


def _state(delivery, ags: str) -> str:
    if any(not f.ags for f in delivery.files):
        return "kreisweit"
    return DELIVERED if any(f.ags == ags for f in delivery.files) else MISSING
