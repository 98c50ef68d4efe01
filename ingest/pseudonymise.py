"""Pseudonymisation of person keys and reduction of birth dates, applied before anything is stored.

Keys (Person_ID, Fall_ID, Fallmanager_ID: every contract column with `pseudonymise=True`) are
replaced by HMAC-SHA-256(key, value) as lower-case hex. The key comes from the environment
variable KIM_PSEUDONYM_KEY (at least 32 bytes, UTF-8) or from the file named by
KIM_PSEUDONYM_KEY_FILE (its bytes, trailing line break removed, at least 32 bytes).

Without a configured key, the documented DEMO_KEY is used, but only for the generated sample: the
generator's marker file `_kim_sample.json` lists the SHA-256 of every file it wrote, and every
file of the inbox must be listed there, unchanged. Anything else is refused (and so is the demo
key configured explicitly), so real extracts are never pseudonymised with a public key. Keys
shorter than 32 bytes or made of one repeated byte are refused too.

Geburtsdatum becomes `geburtsjahr` and `altersgruppe` (completed years at Stichtag, bands of
contracts.AGE_BANDS); the date itself never reaches DuckDB, not even in quarantine.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from pathlib import Path

import polars as pl

from ingest.contracts import AGE_BANDS, Source
from ingest.errors import PseudonymKeyMissing
from ingest.inbox import AGS_FOLDER

log = logging.getLogger(__name__)

# Public demo key, documented here and in the README: pseudonyms made with it are NOT secret.
DEMO_KEY = b"KIM-Haushalt-DEMO-KEY-nur-fuer-Beispieldaten-0001"
SAMPLE_MARKER = "_kim_sample.json"
MIN_KEY_BYTES = 32
MASK = "***"
BIRTH_DATE = "Geburtsdatum"


def resolve_key(inbox: Path | None) -> bytes:
    """The pseudonymisation key: configured, or the demo key for the untouched sample inbox.

    Raises PseudonymKeyMissing (one German paragraph saying how to make and set a key) when no
    key is configured and the inbox is not provably the generated sample, and for weak keys.
    """
    key = _configured_key()
    if key is not None:
        # Hashing the inbox is needed only when the demo key is in question.
        if key == DEMO_KEY and not _is_sample(inbox):
            raise PseudonymKeyMissing(
                "Der konfigurierte Schlüssel ist der öffentliche Demo-Schlüssel; er ist nur für "
                f"die unveränderten Beispieldaten zulässig. {HOW_TO_SET_KEY}"
            )
        return key
    if _is_sample(inbox):
        log.warning(
            "WARNUNG: kein Pseudonymisierungsschlüssel konfiguriert; der öffentliche "
            "DEMO-Schlüssel wird verwendet, weil %s nur die unveränderten Beispieldaten enthält. "
            "Für echte Daten KIM_PSEUDONYM_KEY oder KIM_PSEUDONYM_KEY_FILE setzen!",
            inbox,
        )
        return DEMO_KEY
    raise PseudonymKeyMissing(
        "Kein Pseudonymisierungsschlüssel konfiguriert, und der Eingangsordner enthält nicht "
        "(nur) die unveränderten Beispieldaten von `kim generate`; es werden keine Daten "
        f"geladen. {HOW_TO_SET_KEY}"
    )


HOW_TO_SET_KEY = (
    "Erzeugen Sie einmalig einen Schlüssel, z. B. mit "
    '`python -c "import secrets; print(secrets.token_hex(32))" > /etc/kim-haushalt/pseudonym.key`, '
    "schützen Sie die Datei (`chmod 600`), sichern Sie sie getrennt vom Warehouse und setzen "
    "Sie `KIM_PSEUDONYM_KEY_FILE=/etc/kim-haushalt/pseudonym.key` (oder den Schlüssel selbst "
    f"in `KIM_PSEUDONYM_KEY`, mindestens {MIN_KEY_BYTES} Bytes). Verwenden Sie danach immer "
    "denselben Schlüssel: ein neuer Schlüssel ergibt neue Pseudonyme, und frühere Monate lassen "
    "sich nicht mehr mit späteren verknüpfen."
)


def _is_sample(inbox: Path | None) -> bool:
    return inbox is not None and is_generated_sample(inbox)


def _configured_key() -> bytes | None:
    value = os.environ.get("KIM_PSEUDONYM_KEY")
    if value:
        return _checked(value.encode("utf-8"), "KIM_PSEUDONYM_KEY")
    key_file = os.environ.get("KIM_PSEUDONYM_KEY_FILE")
    if key_file:
        path = Path(key_file)
        if not path.is_file():
            raise PseudonymKeyMissing(
                f"KIM_PSEUDONYM_KEY_FILE zeigt auf keine Datei: {path}. {HOW_TO_SET_KEY}"
            )
        return _checked(path.read_bytes().rstrip(b"\r\n"), f"Schlüsseldatei {path}")
    return None


def _checked(key: bytes, origin: str) -> bytes:
    """Refuse keys an attacker could guess: too short, or one byte repeated."""
    if len(key) < MIN_KEY_BYTES:
        problem = f"hat {len(key)} Bytes, mindestens {MIN_KEY_BYTES} sind nötig"
    elif len(set(key)) == 1:
        problem = "besteht aus einem einzigen wiederholten Zeichen"
    else:
        return key
    raise PseudonymKeyMissing(f"{origin}: Schlüssel {problem}. {HOW_TO_SET_KEY}")


def file_manifest(paths: list[Path], root: Path | None = None) -> dict[str, str]:
    """File name (relative to `root`: '08997001/personen_2026-10.csv' for a municipality's
    file) -> SHA-256 of each file, as the generator records it in the marker."""
    return {
        (p.relative_to(root).as_posix() if root else p.name): hashlib.sha256(
            p.read_bytes()
        ).hexdigest()
        for p in sorted(paths)
    }


def is_generated_sample(inbox: Path) -> bool:
    """True when every file of the inbox is one the generator wrote, unchanged (by SHA-256).

    The marker lists the files it wrote (`files`: name -> SHA-256); a file it does not list,
    or a listed file with other content, means real data may be mixed in.
    """
    marker = inbox / SAMPLE_MARKER
    try:
        listed = json.loads(marker.read_text(encoding="utf-8")).get("files")
    except (OSError, ValueError, AttributeError):
        return False
    if not isinstance(listed, dict) or not listed:
        return False
    folders = [p for p in inbox.iterdir() if p.is_dir() and AGS_FOLDER.match(p.name)]
    present = [
        p
        for p in [*inbox.iterdir(), *(q for f in folders for q in f.iterdir())]
        if p.is_file() and p.name != SAMPLE_MARKER
    ]
    return all(listed.get(name) == sha for name, sha in file_manifest(present, inbox).items())


def pseudonym(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def hash_column(key: bytes, series: pl.Series) -> pl.Series:
    """Hash each distinct value once (a person appears in many rows), then map."""
    mapping = {v: pseudonym(key, v) for v in series.drop_nulls().unique().to_list()}
    return series.replace_strict(mapping, default=None, return_dtype=pl.String)


def sensitive_columns(source: Source) -> set[str]:
    return {c.name for c in source.columns if c.pseudonymise}


def mask_value(key: bytes, source: Source, column: str | None, value: str | None) -> str | None:
    """The form of a single cell that may be stored (quarantine value / raw_row)."""
    if value is None or column is None:
        return value
    if column == BIRTH_DATE:
        return MASK
    if column in sensitive_columns(source):
        return pseudonym(key, value)
    return value


def mask_row(key: bytes, source: Source, row: dict[str, str | None]) -> dict[str, str | None]:
    return {c: mask_value(key, source, c, v) for c, v in row.items()}


def pseudonymise_frame(key: bytes, source: Source, frame: pl.DataFrame) -> pl.DataFrame:
    """Replace person keys by pseudonyms and the birth date by birth year and age band."""
    out = frame.with_columns(
        hash_column(key, frame[name]).alias(name) for name in sensitive_columns(source)
    )
    if BIRTH_DATE in out.columns:
        out = out.with_columns(
            pl.col(BIRTH_DATE).dt.year().cast(pl.Int32).alias("geburtsjahr"),
            age_band(completed_years(pl.col(BIRTH_DATE), pl.col("Stichtag"))).alias("altersgruppe"),
        ).drop(BIRTH_DATE)
    return out


def completed_years(birth: pl.Expr, at: pl.Expr) -> pl.Expr:
    at_md = at.dt.month().cast(pl.Int32) * 100 + at.dt.day().cast(pl.Int32)
    birth_md = birth.dt.month().cast(pl.Int32) * 100 + birth.dt.day().cast(pl.Int32)
    years = at.dt.year().cast(pl.Int32) - birth.dt.year().cast(pl.Int32)
    return years - (at_md < birth_md).cast(pl.Int32)


def age_band(age: pl.Expr) -> pl.Expr:
    lower_bounds = [int(b.split("-")[0].rstrip("+")) for b in AGE_BANDS]
    expr = pl.when(age < 0).then(None)
    for band, lower, upper in zip(AGE_BANDS, lower_bounds, lower_bounds[1:] + [None], strict=True):
        cond = age >= lower if upper is None else (age >= lower) & (age < upper)
        expr = expr.when(cond).then(pl.lit(band))
    return expr.otherwise(None)
