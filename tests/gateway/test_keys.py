"""API keys: the secret is never stored, revokes reach other processes, lookups stay in memory."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap

import pytest

from fathom.errors import ConfigError
from fathom.gateway._keys import KeyStore


def test_create_returns_the_secret_once_and_lookup_finds_the_key(tmp_path):
    keys = KeyStore(tmp_path / "keys.db")
    record, secret = keys.create("ci", models=["smollm2-135m"], rpm=60, tpm=6000, budget_usd=5)
    assert secret.startswith("fth-") and len(secret) == 4 + 43
    assert record.prefix == secret[:8] and record.id.startswith("key_")
    assert (record.models, record.rpm, record.tpm, record.budget_usd, record.revoked) == (
        ("smollm2-135m",), 60, 6000, 5.0, None)
    assert keys.lookup(secret) == record
    assert keys.lookup(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert keys.lookup("sk-" + secret[4:]) is None
    assert "fth-" not in str(record.as_dict()).replace(record.prefix, "")


def test_only_the_hash_is_on_disk(tmp_path):
    keys = KeyStore(tmp_path / "keys.db")
    _, secret = keys.create("alice")
    _, other = keys.create("bob", budget_usd=1.0)
    keys.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())  # keys.db and its -wal and -shm files
    for s in (secret, other):
        assert s.encode() not in stored and s[8:].encode() not in stored
    assert hashlib.sha256(secret.encode()).hexdigest().encode() in stored


def test_revoke_by_name_or_id(tmp_path):
    keys = KeyStore(tmp_path / "keys.db")
    alice, alice_secret = keys.create("alice")
    bob, bob_secret = keys.create("bob")
    assert keys.revoke("alice").revoked is not None
    assert keys.revoke(bob.id).revoked is not None
    assert keys.lookup(alice_secret) is None and keys.lookup(bob_secret) is None
    assert keys.revoke(alice.id).revoked == keys.get(alice.id).revoked  # revoking twice changes nothing
    again, _ = keys.create("alice")  # a revoked name can be reused
    assert [k.name for k in keys.list()] == ["alice", "bob", "alice"]
    assert [k.id for k in keys.list(include_revoked=False)] == [again.id]
    assert not keys.get(alice.id).allows("anything")


def test_names_unknown_keys_and_bad_limits_are_reported(tmp_path):
    keys = KeyStore(tmp_path / "keys.db")
    keys.create("alice")
    with pytest.raises(ConfigError, match="active key named 'alice' exists"):
        keys.create("alice")
    with pytest.raises(ConfigError, match="Did you mean 'alice'"):
        keys.revoke("alicee")
    with pytest.raises(ConfigError) as info:
        keys.create(" ", models=[], rpm=0, tpm=1.5, budget_usd=-1)
    assert {p.where for p in info.value.problems} == {"name", "models", "rpm", "tpm", "budget_usd"}


def test_models_allowed_by_name_or_pattern(tmp_path):
    keys = KeyStore(tmp_path / "keys.db")
    everything, _ = keys.create("all")
    some, _ = keys.create("some", models=["smollm2-135m", "qwen:*"])
    assert everything.allows("anything")
    assert some.allows("smollm2-135m") and some.allows("qwen:shipping")
    assert not some.allows("smollm2-135m:shipping") and not some.allows("qwen")


def test_another_process_revoke_is_seen_within_refresh_s(tmp_path, clock):
    path = tmp_path / "keys.db"
    gateway = KeyStore(path, refresh_s=1.0, clock=clock)
    _, secret = gateway.create("alice")
    assert gateway.lookup(secret) is not None
    script = textwrap.dedent(f"""
        from pathlib import Path
        from fathom.gateway._keys import KeyStore
        KeyStore(Path({str(path)!r})).revoke("alice")
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    clock.advance(1.0)
    assert gateway.lookup(secret) is None


def test_a_key_made_elsewhere_works_at_once(tmp_path, clock):
    gateway = KeyStore(tmp_path / "keys.db", clock=clock)
    cli = KeyStore(tmp_path / "keys.db")
    record, secret = cli.create("new")
    assert gateway.lookup(secret) == record  # a miss checks the file, without waiting for refresh_s


def test_lookups_are_answered_from_memory(tmp_path, clock):
    keys = KeyStore(tmp_path / "keys.db", clock=clock)
    secrets = [keys.create(f"k{i}")[1] for i in range(20)]
    statements: list[str] = []
    keys._conn.set_trace_callback(statements.append)
    for _ in range(50):
        assert all(keys.lookup(s) is not None for s in secrets)
    assert statements == []  # 1000 hits, no SQL
    clock.advance(1.0)
    keys.lookup(secrets[0])
    assert statements == ["PRAGMA data_version"]  # after refresh_s, one cheap check; nothing changed
