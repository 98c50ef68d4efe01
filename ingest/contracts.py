"""The input contract, stated once.

Every source file of the inbox is described here: its columns (contract header name, kind,
required-ness, code list, pseudonymisation), its period and the raw table it lands in.
The readers, the quarantine rules, the sample generator, the Great Expectations suites and the
documentation all read this module; nothing else spells out a column list.

Kinds and their raw (DuckDB) types:

    id      text, leading zeros kept                       VARCHAR
    text    free text                                      VARCHAR
    code    text out of `codes`                            VARCHAR
    key     reference key (social space, accommodation)    VARCHAR
    date    dd.mm.yyyy or yyyy-mm-dd                       DATE
    month   mm.yyyy or yyyy-mm, stored as the 1st of month DATE
    year    four digits                                    INTEGER
    int     whole number                                   INTEGER
    money   decimal comma, optional thousands dot          DECIMAL(18,2)
    bool    J/N, ja/nein, 1/0                              BOOLEAN
    profile plan phasing (LINEAR, Q, JAN or 12 shares)     VARCHAR

A column's `required` is True, False, or the name of a condition (see `CONDITIONS`) that makes it
required for a row; such conditional rules are checked row by row by the ingest validator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# A municipality's key (Amtlicher Gemeindeschlüssel): 8 digits.
AGS_PATTERN = r"\d{8}"

RAW_TYPES = {
    "id": "VARCHAR",
    "text": "VARCHAR",
    "code": "VARCHAR",
    "key": "VARCHAR",
    "date": "DATE",
    "month": "DATE",
    "year": "INTEGER",
    "int": "INTEGER",
    "money": "DECIMAL(18,2)",
    "bool": "BOOLEAN",
    "profile": "VARCHAR",
}

AGE_BANDS = ("0-5", "6-17", "18-26", "27-44", "45-64", "65+")

RESIDENCE_STATUSES = (
    "ASYLSUCHEND",
    "GESTATTUNG",
    "DULDUNG",
    "ERLAUBNIS",
    "NIEDERLASSUNG",
    "SONSTIGE",
)
BENEFIT_LAWS = ("ASYLBLG", "SGB2", "SGB12", "KEINER")
BENEFIT_FORMS = ("GRUND", "ANALOG")
HOUSING_KINDS = ("GU", "DEZENTRAL", "PRIVAT")
SEXES = ("m", "w", "d", "x")
BENEFIT_TYPES = ("GL3", "AL2", "KR4", "AG5", "SL6", "BUT", "UK")
COURSE_TYPES = (
    "INT_ALLG",
    "INT_JUGEND",
    "INT_ELTERN",
    "INT_FRAUEN",
    "INT_ALPHA",
    "INT_INTENSIV",
    "BSK",
    "KOMMUNAL",
)
PARTICIPATION_STATUSES = ("LAUFEND", "ABGESCHLOSSEN", "ABGEBROCHEN", "UNTERBROCHEN")
EXAM_RESULTS = ("B1", "A2", "UNTER_A2", "NICHT_TEILGENOMMEN")

# Conditions under which a conditionally required column must be filled (contract wording).
CONDITIONS = {
    "if_asylblg": "Rechtskreis = ASYLBLG",
    "if_gu_or_dezentral": "Unterbringung in (GU, DEZENTRAL)",
    "if_case_management": "Fallmanagement = J",
    "if_exam_result": "Pruefung in (B1, A2, UNTER_A2)",
}


@dataclass(frozen=True)
class Column:
    name: str  # header as in the contract, e.g. "Person_ID"
    kind: str
    required: bool | str = True
    codes: tuple[str, ...] = ()
    pseudonymise: bool = False
    description: str = ""
    # Numeric ids: at least this many digits, zero-padded ("0000123"). An Excel cell typed as a
    # number (123, 123.0) is restored to this form when the workbook is read.
    digits: int = 0
    # Deployment mode (kim_settings.deployment_mode) in which an otherwise optional column is
    # required in every row, e.g. Gemeinde in a district ("kreis"); "" = none.
    required_in: str = ""
    # A district-only column (e.g. Gemeinde): left out of a city's file header even where it is
    # optional in a district too.
    district_only: bool = False

    @property
    def raw_name(self) -> str:
        """Column name in the raw DuckDB table: the contract name in lower case."""
        return self.name.lower()

    @property
    def raw_type(self) -> str:
        return RAW_TYPES[self.kind]


@dataclass(frozen=True)
class Source:
    name: str  # e.g. "personen"; also the file name prefix
    title: str
    period: str  # "month" or "year"
    extension: str  # "csv" or "xlsx"
    raw_table: str  # table in schema raw
    columns: tuple[Column, ...]
    # Sheet name for XLSX sources (one Source per sheet).
    sheet: str | None = None
    # Columns that identify a row within the scope given by `unique_scope`.
    unique_key: tuple[str, ...] = ()
    unique_scope: str = "period"  # "period" (per file/month) or "all" (across all months)
    # Known historical header names -> contract name (schema drift the municipality told us about).
    renames: dict[str, str] = field(default_factory=dict)
    # Delivered by each municipality of a district (MUNICIPAL_KINDS): the file may name its
    # municipality, `personen_<AGS>_<YYYY-MM>.csv`, or lie in the inbox folder `<AGS>/`.
    municipal: bool = False

    @property
    def column_names(self) -> tuple[str, ...]:
        """The header of a city's file: every column but those only a district's file carries
        (`required_in` or `district_only`, e.g. Gemeinde), so a city's files stay as they were."""
        return tuple(c.name for c in self.columns if not (c.required_in or c.district_only))

    @property
    def all_column_names(self) -> tuple[str, ...]:
        """Every column of the contract (what the reader and validator handle)."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def file_regex(self) -> re.Pattern[str]:
        period = r"\d{4}-\d{2}" if self.period == "month" else r"\d{4}"
        ags = rf"(?:(?P<ags>{AGS_PATTERN})_)?" if self.municipal else ""
        return re.compile(
            rf"^{self.name}_{ags}(?P<period>{period})\.{self.extension}$", re.IGNORECASE
        )


def C(  # noqa: N802
    name,
    kind,
    required=True,
    codes=(),
    pseudonymise=False,
    description="",
    digits=0,
    required_in="",
    district_only=False,
):
    return Column(
        name,
        kind,
        required,
        tuple(codes),
        pseudonymise,
        description,
        digits,
        required_in,
        district_only,
    )


# Payments are money that must reconcile: an unknown social-space key is not quarantined.
UNKNOWN_SPACE_IS_UNBEKANNT = "empty or unknown key = counted as unbekannt (warning, no quarantine)"
PERSON_ID_DIGITS = 7
# Persons' municipality in a district (issue 15): optional column, last in the file, so a city's
# files stay as they are.
MUNICIPALITY_DESCRIPTION = (
    "municipality (8-digit AGS); empty = the delivering municipality's (inbox folder or file "
    "name), else that of the social space"
)
COURSE_ID_DIGITS = 6


PERSONEN = Source(
    name="personen",
    title="Personen im Zuständigkeitsbereich (Bestand zum Monatsende)",
    period="month",
    extension="csv",
    raw_table="personen",
    unique_key=("Person_ID",),
    municipal=True,
    renames={"Personen_ID": "Person_ID", "Status_ab": "Status_seit", "Zuzug": "Zuzugsdatum"},
    columns=(
        C("Stichtag", "date", description="last day of the reporting month"),
        C("Person_ID", "id", pseudonymise=True, description="person key, pseudonymised at ingest"),
        C("Fall_ID", "id", pseudonymise=True, description="household key, pseudonymised"),
        C("Geburtsdatum", "date", description="reduced to birth year and age band at ingest"),
        C("Geschlecht", "code", codes=SEXES),
        C("Staatsangehoerigkeit", "text", description="ISO 3166-1 alpha-3"),
        C("Aufenthaltsstatus", "code", codes=RESIDENCE_STATUSES),
        C("Status_seit", "date", description="date the current status began"),
        C("Zuzugsdatum", "date", description="arrival in the municipality"),
        C("Rechtskreis", "code", codes=BENEFIT_LAWS),
        C("Leistungsform", "code", required="if_asylblg", codes=BENEFIT_FORMS),
        C("Unterbringung", "code", codes=HOUSING_KINDS),
        C("Unterkunft_ID", "key", required="if_gu_or_dezentral"),
        C("Sozialraum", "key", required=False, description="empty = unknown address"),
        C("Fallmanagement", "bool"),
        C("Fallmanager_ID", "id", required="if_case_management", pseudonymise=True),
        C(
            "Gemeinde",
            "key",
            required=False,
            required_in="kreis",
            description=MUNICIPALITY_DESCRIPTION,
        ),
    ),
)

ASYLBLG_ZAHLUNGEN = Source(
    name="asylblg_zahlungen",
    title="AsylbLG-Zahlungen aus der Fachsoftware",
    period="month",
    extension="csv",
    raw_table="asylblg_zahlungen",
    unique_key=("Buchungs_ID",),
    unique_scope="all",
    renames={"Buchungsnummer": "Buchungs_ID", "Konto": "Sachkonto"},
    columns=(
        C("Buchungs_ID", "id"),
        C("Buchungsdatum", "date", description="posting date, inside the file's month"),
        C("Leistung_von", "date"),
        C("Leistung_bis", "date"),
        C("Person_ID", "id", required=False, pseudonymise=True),
        C("Fall_ID", "id", required=False, pseudonymise=True),
        C("Leistungsart", "code", codes=BENEFIT_TYPES),
        C("Produkt", "id"),
        C("Sachkonto", "id"),
        C("Betrag", "money", description="negative = reversal or recovery"),
        C("Storno_von", "id", required=False, description="Buchungs_ID this line reverses"),
        C("Sozialraum", "key", required=False, description=UNKNOWN_SPACE_IS_UNBEKANNT),
    ),
)

FIBU_IST = Source(
    name="fibu_ist",
    title="Ist-Buchungen der Finanzbuchhaltung (Hauptbuch)",
    period="month",
    extension="csv",
    raw_table="fibu_ist",
    renames={"Konto": "Sachkonto", "KST": "Kostenstelle"},
    columns=(
        C("Periode", "month"),
        C("Produkt", "id"),
        C("Sachkonto", "id"),
        C("Kostenstelle", "id", required=False),
        C("Betrag", "money"),
    ),
)

HAUSHALTSPLAN = Source(
    name="haushaltsplan",
    title="Haushaltsplan je Produkt und Sachkonto",
    period="year",
    extension="csv",
    raw_table="haushaltsplan",
    unique_key=("Produkt", "Sachkonto"),
    renames={"Konto": "Sachkonto", "Uebertrag": "Uebertragung"},
    columns=(
        C("Jahr", "year"),
        C("Produkt", "id"),
        C("Sachkonto", "id"),
        C("Ansatz", "money"),
        C("Nachtrag", "money", required=False),
        C("Uebertragung", "money", required=False),
        C("Profil", "profile", required=False, description="LINEAR, Q, JAN or 12 shares a|b|..."),
    ),
)

KURSE = Source(
    name="kurse",
    title="Sprach- und Integrationskurse: Kurse",
    period="month",
    extension="xlsx",
    sheet="Kurse",
    raw_table="kurse",
    unique_key=("Kurs_ID",),
    municipal=True,
    columns=(
        C("Kurs_ID", "id", digits=COURSE_ID_DIGITS),
        C("Kursart", "code", codes=COURSE_TYPES),
        C("Traeger", "text"),
        C("Sozialraum", "key"),
        C("Beginn", "date"),
        C("Ende", "date"),
        C("UE_geplant", "int"),
        C("Plaetze", "int"),
        C("Kosten_Kommune", "money", required=False),
        C(
            "Gemeinde",
            "key",
            required=False,
            district_only=True,
            description=MUNICIPALITY_DESCRIPTION,
        ),
    ),
)

TEILNAHMEN = Source(
    name="kurse",
    title="Sprach- und Integrationskurse: Teilnahmen",
    period="month",
    extension="xlsx",
    sheet="Teilnahmen",
    raw_table="teilnahmen",
    unique_key=("Kurs_ID", "Person_ID", "Eintritt"),
    municipal=True,
    columns=(
        C("Kurs_ID", "id", digits=COURSE_ID_DIGITS),
        C("Person_ID", "id", pseudonymise=True, digits=PERSON_ID_DIGITS),
        C("Eintritt", "date"),
        C("Austritt", "date", required=False),
        C("Status", "code", codes=PARTICIPATION_STATUSES),
        C("UE_besucht", "int"),
        C("Pruefung", "code", required=False, codes=EXAM_RESULTS),
        C("Pruefungsdatum", "date", required="if_exam_result"),
    ),
)

# One entry per raw table. KURSE and TEILNAHMEN share the file `kurse_<YYYY-MM>.xlsx`.
SOURCES: dict[str, Source] = {
    s.raw_table: s
    for s in (PERSONEN, ASYLBLG_ZAHLUNGEN, FIBU_IST, HAUSHALTSPLAN, KURSE, TEILNAHMEN)
}

# The file kinds of the inbox (file name prefix -> raw tables filled from that file).
FILE_KINDS: dict[str, tuple[str, ...]] = {
    "personen": ("personen",),
    "asylblg_zahlungen": ("asylblg_zahlungen",),
    "fibu_ist": ("fibu_ist",),
    "haushaltsplan": ("haushaltsplan",),
    "kurse": ("kurse", "teilnahmen"),
}

# The file kinds each municipality of a district delivers (its persons and course lists); the
# payments, the ledger and the budget plan are the district's own files.
MUNICIPAL_KINDS = tuple(k for k, tables in FILE_KINDS.items() if SOURCES[tables[0]].municipal)

# Machine form of CONDITIONS: (column, values that make the condition true). Bool columns use
# Python booleans (parsed J/N).
CONDITION_TESTS: dict[str, tuple[str, tuple[object, ...]]] = {
    "if_asylblg": ("Rechtskreis", ("ASYLBLG",)),
    "if_gu_or_dezentral": ("Unterbringung", ("GU", "DEZENTRAL")),
    "if_case_management": ("Fallmanagement", (True,)),
    "if_exam_result": ("Pruefung", ("B1", "A2", "UNTER_A2")),
}


@dataclass(frozen=True)
class CrossFieldRule:
    """A consistency rule between columns of one row (or a row and its file), checked at ingest.

    check:
      not_after       columns[0] <= columns[1] (both dates; skipped when one is empty)
      only_if         columns[0] may be filled only when `condition` holds (the "if" direction
                      is the column's conditional `required`)
      in_file_month   the date columns[0] lies in the month of the file name
      file_month_end  the date columns[0] is the last day of the file's month
      not_after_file_month  the date columns[0] is not later than the last day of the file's
                      month (skipped when empty)
      file_month      the month columns[0] equals the file's month
      file_year       the year columns[0] equals the file's year
      exists_in       columns[0] occurs among the loaded values of `other` (raw table, column)
    """

    rule: str  # quarantine rule name
    table: str  # raw table the rule applies to
    check: str
    columns: tuple[str, ...]
    message: str  # German explanation for the controller
    condition: str | None = None
    other: tuple[str, str] | None = None


CROSS_FIELD_RULES: tuple[CrossFieldRule, ...] = (
    CrossFieldRule(
        "period_mismatch",
        "personen",
        "file_month_end",
        ("Stichtag",),
        "Stichtag ist nicht der letzte Tag des Dateimonats",
    ),
    CrossFieldRule(
        "birth_after_stichtag",
        "personen",
        "not_after",
        ("Geburtsdatum", "Stichtag"),
        "Geburtsdatum liegt nach dem Stichtag",
    ),
    CrossFieldRule(
        "status_after_stichtag",
        "personen",
        "not_after",
        ("Status_seit", "Stichtag"),
        "Status_seit liegt nach dem Stichtag",
    ),
    CrossFieldRule(
        "arrival_after_stichtag",
        "personen",
        "not_after",
        ("Zuzugsdatum", "Stichtag"),
        "Zuzugsdatum liegt nach dem Stichtag",
    ),
    CrossFieldRule(
        "benefit_form_without_asylblg",
        "personen",
        "only_if",
        ("Leistungsform",),
        "Leistungsform ist nur bei Rechtskreis ASYLBLG zulässig",
        condition="if_asylblg",
    ),
    CrossFieldRule(
        "booking_outside_period",
        "asylblg_zahlungen",
        "in_file_month",
        ("Buchungsdatum",),
        "Buchungsdatum liegt nicht im Monat der Datei",
    ),
    CrossFieldRule(
        "benefit_period_reversed",
        "asylblg_zahlungen",
        "not_after",
        ("Leistung_von", "Leistung_bis"),
        "Leistung_von liegt nach Leistung_bis",
    ),
    CrossFieldRule(
        "period_mismatch",
        "fibu_ist",
        "file_month",
        ("Periode",),
        "Periode ist nicht der Monat der Datei",
    ),
    CrossFieldRule(
        "period_mismatch",
        "haushaltsplan",
        "file_year",
        ("Jahr",),
        "Jahr ist nicht das Jahr der Datei",
    ),
    CrossFieldRule(
        "course_end_before_start",
        "kurse",
        "not_after",
        ("Beginn", "Ende"),
        "Beginn liegt nach Ende",
    ),
    # The monthly snapshot lists the courses running in the month: none starts after it.
    CrossFieldRule(
        "course_start_after_month",
        "kurse",
        "not_after_file_month",
        ("Beginn",),
        "Beginn liegt nach dem Ende des Dateimonats",
    ),
    CrossFieldRule(
        "exit_before_entry",
        "teilnahmen",
        "not_after",
        ("Eintritt", "Austritt"),
        "Eintritt liegt nach Austritt",
    ),
    # Participations active in the month, status as of its end: entry and exam lie before.
    CrossFieldRule(
        "entry_after_month",
        "teilnahmen",
        "not_after_file_month",
        ("Eintritt",),
        "Eintritt liegt nach dem Ende des Dateimonats",
    ),
    CrossFieldRule(
        "exam_after_month",
        "teilnahmen",
        "not_after_file_month",
        ("Pruefungsdatum",),
        "Pruefungsdatum liegt nach dem Ende des Dateimonats",
    ),
    CrossFieldRule(
        "exam_date_without_result",
        "teilnahmen",
        "only_if",
        ("Pruefungsdatum",),
        "Pruefungsdatum ist nur bei einem Prüfungsergebnis (B1, A2, UNTER_A2) zulässig",
        condition="if_exam_result",
    ),
    CrossFieldRule(
        "unknown_course",
        "teilnahmen",
        "exists_in",
        ("Kurs_ID",),
        "Kurs_ID fehlt im Blatt Kurse (oder der Kurs wurde dort quarantänisiert)",
        other=("kurse", "Kurs_ID"),
    ),
)

# Columns that replace Geburtsdatum in the raw table (the date itself is never stored).
DERIVED_PERSON_COLUMNS = (("geburtsjahr", "INTEGER"), ("altersgruppe", "VARCHAR"))
# Technical columns every raw table carries.
LINEAGE_COLUMNS = (
    ("period_month", "DATE"),  # first day of the file's month (yearly sources: NULL)
    ("load_id", "VARCHAR"),
    ("source_file", "VARCHAR"),
    ("source_line", "INTEGER"),  # line in the CSV (header = 1) or row in the sheet (header = 1)
)


def raw_columns(source: Source) -> list[tuple[str, str]]:
    """(name, DuckDB type) of the raw table, in order: contract columns, then lineage."""
    cols: list[tuple[str, str]] = []
    for c in source.columns:
        if c.name == "Geburtsdatum":
            cols.extend(DERIVED_PERSON_COLUMNS)
        else:
            cols.append((c.raw_name, c.raw_type))
    return cols + list(LINEAGE_COLUMNS)


def raw_table_ddl(source: Source, schema: str = "raw") -> str:
    cols = ",\n  ".join(f"{n} {t}" for n, t in raw_columns(source))
    return f"create table if not exists {schema}.{source.raw_table} (\n  {cols}\n)"
