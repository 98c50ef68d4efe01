"""The summary `kim run` prints at the end of a successful run: what was loaded, how the gates
went, which reports were written and the newest month's headline figures.

Read from the warehouse (read-only, after the run); the report paths come from the run's asset
metadata. Plain text without control codes: it goes to terminals, pipes and cron mails alike.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingest.warehouse import CURRENT_LOADS
from reports.data import area
from reports.formatting import german_number

GATE_STATES = ("bestanden", "mit Warnung", "nicht bestanden")


def _loads(con: duckdb.DuckDBPyConnection, months: list[str]) -> list[tuple[str, int, int]]:
    """Per source: rows loaded and quarantined of the current loads of each period of `months`
    (every municipality's in a district; a yearly file counts once for its year)."""
    periods = sorted(set(months) | {m[:4] for m in months})
    return con.execute(
        f"""
        select source, sum(rows_loaded), sum(rows_quarantined)
        from ({CURRENT_LOADS})
        where period in (select unnest(?::varchar[]))
        group by source order by source
        """,
        [periods],
    ).fetchall()


def _gate_counts(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, int]:
    """Gate x month results of the run: failed if an error expectation failed, warned if only
    warning expectations failed, passed otherwise."""
    rows = con.execute(
        """
        select case when bool_or(not success and severity = 'error') then 'nicht bestanden'
                    when bool_or(not success) then 'mit Warnung'
                    else 'bestanden' end
        from meta.gate_results where run_id = ?
        group by gate, partition
        """,
        [run_id],
    ).fetchall()
    return {state: sum(1 for (s,) in rows if s == state) for state in GATE_STATES}


def _headline(con: duckdb.DuckDBPyConnection, month: str) -> list[str]:
    """K01 city-wide, Zuschussbedarf to date against the plan to date, reconciliation."""
    first = f"{month}-01"
    k01 = con.execute(
        "select display_value from marts.fct_indicator_values"
        " where month = ?::date and indicator_id = 'K01' and social_space_id = 'GESAMT'",
        [first],
    ).fetchall()
    burden, plan = con.execute(
        "select sum(net_burden_to_date), sum(plan_to_date_net)"
        " from marts.fct_budget_unit_monthly where month = ?::date",
        [first],
    ).fetchone()
    rows, differing, total = con.execute(
        "select count(*), count(*) filter (where difference <> 0), coalesce(sum(difference), 0)"
        " from marts.fct_reconciliation where month = ?::date",
        [first],
    ).fetchone()
    k01_text = german_number(k01[0][0], 0) if k01 and k01[0][0] is not None else "–"
    money = "–" if burden is None else german_number(burden, 2) + " €"
    planned = "–" if plan is None else german_number(plan, 2) + " €"
    return [
        f"Kennzahlen {month}:",
        f"  K01 Leistungsberechtigte nach AsylbLG ({area().total}): {k01_text}",
        f"  Zuschussbedarf bis {month}: {money} (Plan bis dahin: {planned})",
        f"  Abgleich AsylbLG-Zahlungen mit Finanzbuchhaltung: {rows} Zeilen, "
        f"{differing} mit Differenz (Summe {german_number(total, 2)} €)",
    ]


def _quota(con: duckdb.DuckDBPyConnection, month: str) -> list[str]:
    """A district's allocation quota of the month (fct_allocation_quota_monthly): persons in
    Anschlussunterbringung, target, balance and running balance per municipality."""
    if area().name != "Landkreis":
        return []
    rows = con.execute(
        "select coalesce(m.name, 'Landkreis'), q.persons_au, q.quota_target, q.balance,"
        " q.running_balance from marts.fct_allocation_quota_monthly as q"
        " left join marts.dim_municipality as m on m.ags = q.ags"
        " where q.month = ?::date order by q.ags = 'GESAMT', q.ags",
        [f"{month}-01"],
    ).fetchall()
    head = f"  {'Gemeinde':<24} {'Personen AU':>11} {'Soll':>9} {'Saldo':>9} {'Saldo kum.':>11}"
    return [f"Aufnahmequote {month} (Anschlussunterbringung):", head] + [
        f"  {name:<24} {german_number(persons, 0):>11} {german_number(target, 2):>9} "
        f"{german_number(balance, 2):>9} {german_number(running, 2):>11}"
        for name, persons, target, balance, running in rows
    ]


def _reports(files: list[Path]) -> list[str]:
    """One line per kind of report (the name before the first '_'): a file's formats together,
    up to two files in full, else the first and the last."""
    stems: dict[Path, list[str]] = {}
    for path in sorted(set(files)):
        stems.setdefault(path.with_suffix(""), []).append(path.suffix.lstrip("."))
    groups: dict[str, list[str]] = {}
    for stem, suffixes in stems.items():
        formats = suffixes[0] if len(suffixes) == 1 else "{" + ",".join(suffixes) + "}"
        shown = f"{stem}.{formats}"
        groups.setdefault(stem.name.split("_")[0], []).append(shown)
    lines = []
    for kind, shown in groups.items():
        listed = shown if len(shown) <= 2 else [shown[0], "…", shown[-1]]
        lines.append(f"  {kind} ({len(shown)}): {' '.join(listed)}")
    return lines or ["  keine"]


def summary_lines(
    con: duckdb.DuckDBPyConnection, run_id: str, months: list[str], report_files: list[Path]
) -> list[str]:
    label = months[0] if len(months) == 1 else f"{months[0]} bis {months[-1]}"
    lines = [f"Zusammenfassung: {len(months)} Monat(e) verarbeitet ({label})", "Geladen je Quelle:"]
    lines += [
        f"  {source:<18} {german_number(loaded, 0):>10} Zeilen, "
        f"{german_number(quarantined, 0)} in Quarantäne"
        for source, loaded, quarantined in _loads(con, months)
    ]
    gates = _gate_counts(con, run_id)
    lines.append("Prüfungen (Prüfung x Monat): " + ", ".join(f"{n} {s}" for s, n in gates.items()))
    lines.append("Berichte:")
    lines += _reports(report_files)
    return lines + _headline(con, months[-1]) + _quota(con, months[-1])


def unchanged_lines(con: duckdb.DuckDBPyConnection, months: list[str], output: Path) -> list[str]:
    """What `kim run` prints when the months are up to date and nothing runs."""
    label = months[0] if len(months) == 1 else f"{months[0]} bis {months[-1]}"
    run_id, built_at = con.execute(
        "select max_by(run_id, built_at), max(built_at) from meta.month_builds where month = ?",
        [months[-1]],
    ).fetchone()
    return [
        f"Nichts zu tun: {label} ist aktuell. Eingangsdateien, Stammdaten, Programmstand und "
        f"Schlüssel sind unverändert seit Lauf {run_id} ({built_at:%d.%m.%Y %H:%M}); "
        "mit --force wird trotzdem neu gerechnet.",
        f"Die Berichte liegen in {output}.",
        *_headline(con, months[-1]),
        *_quota(con, months[-1]),
    ]
