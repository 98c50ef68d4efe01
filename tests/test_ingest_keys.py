"""Which pseudonymisation key a run uses: a configured strong key, or the public demo key only for
an inbox that provably is the untouched generated sample; otherwise the run refuses to start."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.errors import PseudonymKeyMissing
from ingest.pseudonymise import DEMO_KEY, SAMPLE_MARKER, resolve_key

# SHA-256 of the bytes b"a" (a well-known test vector, not computed by the code under test).
SHA256_OF_A = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
GOOD_KEY = "3f1c9a7e5b2d4f6081a3c5e7092b4d6f8e1a3c5b7d9f0e2a4c6b8d0f1e3a5c7b"  # 64 bytes


@pytest.fixture
def no_key(monkeypatch):
    monkeypatch.delenv("KIM_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("KIM_PSEUDONYM_KEY_FILE", raising=False)
    return monkeypatch


def sample_inbox(inbox: Path) -> Path:
    """One file with content b"a" and a marker listing exactly that file and its SHA-256."""
    (inbox / "personen_2026-10.csv").write_bytes(b"a")
    marker = {"generator": "kim-haushalt", "files": {"personen_2026-10.csv": SHA256_OF_A}}
    (inbox / SAMPLE_MARKER).write_text(json.dumps(marker), encoding="utf-8")
    return inbox


def test_demo_key_only_for_the_untouched_sample(tmp_path, no_key):
    inbox = sample_inbox(tmp_path)
    assert resolve_key(inbox) == DEMO_KEY
    # A real extract dropped next to the sample: no longer provably the sample.
    (inbox / "fibu_ist_2026-10.csv").write_bytes(b"real")
    with pytest.raises(PseudonymKeyMissing) as refused:
        resolve_key(inbox)
    message = str(refused.value)
    assert 'python -c "import secrets; print(secrets.token_hex(32))"' in message
    assert "KIM_PSEUDONYM_KEY_FILE" in message
    (inbox / "fibu_ist_2026-10.csv").unlink()
    assert resolve_key(inbox) == DEMO_KEY
    # A listed file with other content (b"b" does not hash to SHA256_OF_A).
    (inbox / "personen_2026-10.csv").write_bytes(b"b")
    with pytest.raises(PseudonymKeyMissing):
        resolve_key(inbox)


def test_marker_without_manifest_is_not_the_sample(tmp_path, no_key):
    (tmp_path / SAMPLE_MARKER).write_text("{}", encoding="utf-8")
    with pytest.raises(PseudonymKeyMissing, match="token_hex"):
        resolve_key(tmp_path)
    with pytest.raises(PseudonymKeyMissing):
        resolve_key(None)


def test_weak_keys_are_refused(tmp_path, no_key):
    inbox = sample_inbox(tmp_path)
    no_key.setenv("KIM_PSEUDONYM_KEY", "x" * 31)  # 31 bytes < 32
    with pytest.raises(PseudonymKeyMissing, match="31 Bytes, mindestens 32"):
        resolve_key(inbox)
    no_key.setenv("KIM_PSEUDONYM_KEY", "k" * 40)  # long enough, but one repeated byte
    with pytest.raises(PseudonymKeyMissing, match="wiederholten"):
        resolve_key(inbox)
    no_key.setenv("KIM_PSEUDONYM_KEY", GOOD_KEY)
    assert resolve_key(inbox) == GOOD_KEY.encode()


def test_public_demo_key_refused_for_real_data(tmp_path, no_key):
    no_key.setenv("KIM_PSEUDONYM_KEY", DEMO_KEY.decode())
    (tmp_path / "personen_2026-10.csv").write_bytes(b"real")
    with pytest.raises(PseudonymKeyMissing, match="Demo-Schlüssel"):
        resolve_key(tmp_path)
    assert resolve_key(sample_inbox(tmp_path)) == DEMO_KEY  # the sample may use it


def test_key_file_strips_the_line_break(tmp_path, no_key):
    key_file = tmp_path / "key.txt"
    key_file.write_bytes(GOOD_KEY.encode() + b"\n")
    no_key.setenv("KIM_PSEUDONYM_KEY_FILE", str(key_file))
    assert resolve_key(None) == GOOD_KEY.encode()
    no_key.setenv("KIM_PSEUDONYM_KEY_FILE", str(tmp_path / "missing.key"))
    with pytest.raises(PseudonymKeyMissing, match="zeigt auf keine Datei"):
        resolve_key(None)
