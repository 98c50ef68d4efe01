"""The pandas peer: the newest month's indicators from the inbox files, as a controller would.

`python -m benchmarks.peer_pandas INBOX` reads every persons file, every course workbook and the
ledger files of the newest month's year, plus the product list (`dbt/seeds/products.csv`), and
computes for the newest month K01, K03, K05-K12 and K14 city-wide ("GESAMT") and, where the
definition allows, per social space. It prints a small table; `indicators(inbox)` returns the
figures as {indicator: {space: (numerator, denominator, value)}}.

Written from the indicator definitions (domain catalogue) and the input contract alone, not from
the dbt models: it is the benchmark's peer and an independent statement of the definitions.
Deliberately plain: whole files into pandas, no warehouse, no checks, no quarantine.
"""

from __future__ import annotations

import codecs
import io
import re
import sys
import time
from decimal import Decimal
from pathlib import Path

import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PRODUCTS = PROJECT_ROOT / "dbt" / "seeds" / "products.csv"
CITY = "GESAMT"
UNKNOWN = "unbekannt"
ASYLBLG_PRODUCT = "31.30.01"
BUDGET_UNIT = "THH 50 Migration und Integration"
EXAM_RESULTS = ("B1", "A2", "UNTER_A2")
ENDED = ("ABGESCHLOSSEN", "ABGEBROCHEN")

Figure = tuple[float | Decimal | None, float | Decimal | None, float | None]


# --- reading --------------------------------------------------------------------------------


def read_csv(path: Path) -> pd.DataFrame:
    """A contract CSV as text columns: UTF-8 (BOM or not) or else cp1252; totals lines dropped."""
    data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        text = data[3:].decode("utf-8")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252")
    frame = pd.read_csv(io.StringIO(text), sep=";", dtype=str, keep_default_na=False)
    frame.columns = [c.strip() for c in frame.columns]
    first = frame.columns[0]
    return frame[~frame[first].str.match(r"^(Summe|Gesamt)", case=False)]


def dates(column: pd.Series) -> pd.Series:
    """dd.mm.yyyy, ISO yyyy-mm-dd or an Excel date cell read as text ('2024-01-30 00:00:00')."""
    text = column.fillna("").astype(str).str.slice(0, 10)
    german = pd.to_datetime(text, format="%d.%m.%Y", errors="coerce")
    iso = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    return german.fillna(iso)


def money(text: str) -> Decimal:
    return Decimal(text.replace(".", "").replace(",", "."))


def monthly_files(inbox: Path, source: str, ext: str) -> dict[str, Path]:
    pattern = re.compile(rf"^{source}_(\d{{4}}-\d{{2}})\.{ext}$")
    found = {}
    for path in inbox.iterdir():
        match = pattern.match(path.name)
        if match:
            found[match.group(1)] = path
    return dict(sorted(found.items()))


def read_persons(inbox: Path) -> pd.DataFrame:
    frames = []
    for month, path in monthly_files(inbox, "personen", "csv").items():
        frame = read_csv(path)
        frame["month"] = month
        frames.append(frame)
    persons = pd.concat(frames, ignore_index=True)
    persons["Sozialraum"] = persons["Sozialraum"].replace("", UNKNOWN)
    for column in ("Stichtag", "Status_seit", "Zuzugsdatum"):
        persons[column] = dates(persons[column])
    return persons


def read_courses(inbox: Path, newest: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All course and participation snapshots up to the newest month."""
    courses, participations = [], []
    for month, path in monthly_files(inbox, "kurse", "xlsx").items():
        if month > newest:
            continue
        sheets = pd.read_excel(path, sheet_name=None, dtype=str)
        courses.append(sheets["Kurse"].assign(snapshot=month))
        participations.append(sheets["Teilnahmen"].assign(snapshot=month))
    course_frame = pd.concat(courses, ignore_index=True)
    part = pd.concat(participations, ignore_index=True)
    for column in ("Eintritt", "Austritt", "Pruefungsdatum"):
        part[column] = dates(part[column])
    return course_frame, part


# --- months ---------------------------------------------------------------------------------


def month_end(month: str) -> pd.Timestamp:
    return pd.Timestamp(f"{month}-01") + pd.offsets.MonthEnd(0)


def months_back(month: str, n: int) -> str:
    return (pd.Period(month, "M") - n).strftime("%Y-%m")


# --- indicators -----------------------------------------------------------------------------


def share(numerator: int, denominator: int) -> Figure:
    return numerator, denominator, (100 * numerator / denominator if denominator else None)


def by_space(frame: pd.DataFrame, space: pd.Series, figure) -> dict[str, Figure]:
    """`figure(part)` city-wide and for every social space occurring in `space`."""
    result = {CITY: figure(frame)}
    for key in sorted(space.dropna().unique()):
        result[key] = figure(frame[space == key])
    return result


def count(frame: pd.DataFrame) -> Figure:
    return len(frame), None, float(len(frame))


def k01(stock: pd.DataFrame) -> dict[str, Figure]:
    recipients = stock[stock["Rechtskreis"] == "ASYLBLG"]
    return by_space(recipients, recipients["Sozialraum"], count)


def k06(stock: pd.DataFrame) -> dict[str, Figure]:
    def figure(part):
        return share(int(part["Unterbringung"].isin(["DEZENTRAL", "PRIVAT"]).sum()), len(part))

    return by_space(stock, stock["Sozialraum"], figure)


def arrived_before(stock: pd.DataFrame, month: str, months: int) -> pd.Series:
    """Zuzugsdatum more than `months` months before the month end."""
    return stock["Zuzugsdatum"] < month_end(month) - pd.DateOffset(months=months)


def k07(stock: pd.DataFrame, month: str) -> dict[str, Figure]:
    gu = stock[stock["Unterbringung"] == "GU"]
    long_stay = arrived_before(gu, month, 12)
    return by_space(
        gu, gu["Sozialraum"], lambda part: share(int(long_stay[part.index].sum()), len(part))
    )


def k12(stock: pd.DataFrame, month: str) -> dict[str, Figure]:
    cohort = stock[arrived_before(stock, month, 24)]
    return by_space(
        cohort,
        cohort["Sozialraum"],
        lambda part: share(int((part["Rechtskreis"] == "KEINER").sum()), len(part)),
    )


def k11(persons: pd.DataFrame, stock: pd.DataFrame, month: str) -> dict[str, Figure]:
    """Recognised in M-3 (status ERLAUBNIS since M-3, in the file of M-3); share in SGB2/KEINER
    among those still in the stock at M. No file for M-3: no value."""
    earlier_month = months_back(month, 3)
    earlier = persons[persons["month"] == earlier_month]
    if earlier.empty:
        return {CITY: (None, None, None)}
    recognised = earlier[
        (earlier["Aufenthaltsstatus"] == "ERLAUBNIS")
        & (earlier["Status_seit"].dt.strftime("%Y-%m") == earlier_month)
    ]
    present = stock[stock["Person_ID"].isin(recognised["Person_ID"])]
    return by_space(
        present,
        present["Sozialraum"],
        lambda part: share(int(part["Rechtskreis"].isin(["SGB2", "KEINER"]).sum()), len(part)),
    )


def latest_participations(part: pd.DataFrame) -> pd.DataFrame:
    """Each participation (course, person, entry) as of its latest snapshot."""
    ordered = part.sort_values("snapshot", kind="stable")
    return ordered.drop_duplicates(["Kurs_ID", "Person_ID", "Eintritt"], keep="last")


def person_space(persons: pd.DataFrame, month: str) -> pd.Series:
    """Person_ID -> social space in the latest persons file up to the month."""
    known = persons[persons["month"] <= month].sort_values("month", kind="stable")
    return known.drop_duplicates("Person_ID", keep="last").set_index("Person_ID")["Sozialraum"]


def k03(courses: pd.DataFrame, latest: pd.DataFrame, month: str) -> dict[str, Figure]:
    """Participations entering in the month, by the course's social space (latest list)."""
    space_of = (
        courses.sort_values("snapshot", kind="stable")
        .drop_duplicates("Kurs_ID", keep="last")
        .set_index("Kurs_ID")["Sozialraum"]
    )
    new = latest[latest["Eintritt"].dt.strftime("%Y-%m") == month]
    return by_space(new, new["Kurs_ID"].map(space_of), count)


def k08(latest: pd.DataFrame, persons: pd.DataFrame, month: str) -> dict[str, Figure]:
    """Median days from arrival to the first course entry, for first entries in the month."""
    first = latest.groupby("Person_ID")["Eintritt"].min()
    first = first[first.dt.strftime("%Y-%m") == month]
    known = persons[persons["month"] <= month].sort_values("month", kind="stable")
    person = known.drop_duplicates("Person_ID", keep="last").set_index("Person_ID")
    waits = pd.DataFrame({"days": (first - person["Zuzugsdatum"].reindex(first.index)).dt.days})
    waits = waits.dropna()
    space = person["Sozialraum"].reindex(waits.index).fillna(UNKNOWN)

    def figure(part):
        return None, len(part), (float(part["days"].median()) if len(part) else None)

    return by_space(waits, space, figure)


def in_last_12_months(column: pd.Series, month: str) -> pd.Series:
    start = pd.Timestamp(f"{months_back(month, 11)}-01")
    return (column >= start) & (column <= month_end(month))


def k09(latest: pd.DataFrame, spaces: pd.Series, month: str) -> dict[str, Figure]:
    taken = latest[
        latest["Pruefung"].isin(EXAM_RESULTS) & in_last_12_months(latest["Pruefungsdatum"], month)
    ]
    space = taken["Person_ID"].map(spaces).fillna(UNKNOWN)
    return by_space(
        taken, space, lambda part: share(int((part["Pruefung"] == "B1").sum()), len(part))
    )


def k10(latest: pd.DataFrame, spaces: pd.Series, month: str) -> dict[str, Figure]:
    ended = latest[latest["Status"].isin(ENDED) & in_last_12_months(latest["Austritt"], month)]
    space = ended["Person_ID"].map(spaces).fillna(UNKNOWN)
    return by_space(
        ended, space, lambda part: share(int((part["Status"] == "ABGEBROCHEN").sum()), len(part))
    )


def read_ledger(inbox: Path, month: str) -> pd.DataFrame:
    """The ledger files of the month's year up to the month, amounts as Decimal."""
    frames = [
        read_csv(path)
        for m, path in monthly_files(inbox, "fibu_ist", "csv").items()
        if m[:4] == month[:4] and m <= month
    ]
    ledger = pd.concat(frames, ignore_index=True)
    ledger["amount"] = ledger["Betrag"].map(money)
    ledger["month"] = ledger["Periode"].map(
        lambda p: p if "-" in p else f"{p[3:7]}-{p[0:2]}"  # mm.yyyy or yyyy-mm
    )
    return ledger


def total(frame: pd.DataFrame) -> Decimal:
    return sum(frame["amount"], Decimal("0"))


def k05(ledger: pd.DataFrame, recipients: int, month: str) -> dict[str, Figure]:
    expense = total(
        ledger[
            (ledger["month"] == month)
            & (ledger["Produkt"] == ASYLBLG_PRODUCT)
            & ledger["Sachkonto"].str.startswith("4")
        ]
    )
    return {CITY: (expense, recipients, float(expense) / recipients if recipients else None)}


def k14(ledger: pd.DataFrame) -> dict[str, Figure]:
    products = pd.read_csv(PRODUCTS, dtype=str)
    unit = set(products.loc[products["budget_unit"].str.strip() == BUDGET_UNIT, "product_id"])
    ytd = ledger[ledger["Produkt"].isin(unit)]
    revenue = total(ytd[ytd["Sachkonto"].str.startswith("3")])
    expense = total(ytd[ytd["Sachkonto"].str.startswith("4")])
    return {CITY: (revenue, expense, float(100 * revenue / expense) if expense else None)}


def indicators(inbox: Path) -> tuple[str, dict[str, dict[str, Figure]]]:
    """(newest month, {indicator: {space: (numerator, denominator, value)}})."""
    persons = read_persons(inbox)
    month = persons["month"].max()
    stock = persons[persons["month"] == month]
    courses, part = read_courses(inbox, month)
    latest = latest_participations(part)
    spaces = person_space(persons, month)
    ledger = read_ledger(inbox, month)
    recipients = int((stock["Rechtskreis"] == "ASYLBLG").sum())
    figures = {
        "K01": k01(stock),
        "K03": k03(courses, latest, month),
        "K05": k05(ledger, recipients, month),
        "K06": k06(stock),
        "K07": k07(stock, month),
        "K08": k08(latest, persons, month),
        "K09": k09(latest, spaces, month),
        "K10": k10(latest, spaces, month),
        "K11": k11(persons, stock, month),
        "K12": k12(stock, month),
        "K14": k14(ledger),
    }
    return month, figures


def table(month: str, figures: dict[str, dict[str, Figure]]) -> str:
    lines = [f"Monat {month}", f"{'Kennzahl':<8} {'Sozialraum':<10} {'Wert':>12}"]
    for indicator, spaces in figures.items():
        for space, (_, _, value) in spaces.items():
            shown = "–" if value is None else f"{value:,.2f}"
            lines.append(f"{indicator:<8} {space:<10} {shown:>12}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m benchmarks.peer_pandas INBOX", file=sys.stderr)
        return 2
    start = time.perf_counter()
    month, figures = indicators(Path(argv[0]))
    seconds = time.perf_counter() - start
    print(table(month, figures))
    print(f"computed in {seconds:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
