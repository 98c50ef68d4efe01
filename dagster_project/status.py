"""`kim status`: per month, what is loaded, which gates passed, which reports exist."""

from __future__ import annotations

from pathlib import Path

import duckdb

from dagster_project.settings import internal_dir, public_dir
from ingest.contracts import SOURCES


def status_text(con: duckdb.DuckDBPyConnection, output: Path) -> str:
    loads = con.sql(
        """
        select b.period, b.source, b.file_name, left(b.sha256, 12) as sha, b.rows_loaded,
               b.rows_quarantined
        from meta.load_batches b
        qualify row_number() over (partition by b.source, b.period order by b.loaded_at desc) = 1
        order by b.period, b.source
        """
    ).fetchall()
    gates = dict(
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
        reports = (
            sorted(
                p.name
                for folder in (internal_dir(output, month), public_dir(output, month))
                for p in folder.glob("*")
                if p.is_file()
            )
        )
        lines.append(
            f"{'':<8} gates: {gates.get(month, 'not run')}; "
            f"missing sources: {', '.join(missing) or 'none'}; "
            f"reports: {', '.join(reports) or 'none'}"
        )
    return "\n".join(lines)
