"""The SQLite store and caches from Python: sqlite:// URLs, the Sqlite*
classes, JsonCache.sqlite / TextCache.sqlite with the expiry in the row, and
what they write read back with Python's own sqlite3 (the documented
schema)."""

import sqlite3
import time

import pytest

import backends


def test_open_sqlite_urls(tmp_path):
    db = tmp_path / "app.db"
    raw = backends.open(f"sqlite://{db}")
    assert isinstance(raw, backends.SqliteRawBackend)
    raw.dump("a/b", b"\x00\xff")
    assert raw.load("a/b") == b"\x00\xff"
    js = backends.open(f"sqlite://{db}?table=cfg&format=json")
    js.dump("cfg", {"b": 1, "a": [1]})
    assert js.load("cfg") == {"a": [1], "b": 1}
    assert list(raw.keys()) == ["a/b"]  # tables are apart
    text = backends.SqliteTextBackend(db, table="cfg")
    assert text.load("cfg") == '{\n    "a": [\n        1\n    ],\n    "b": 1\n}'
    rows = sqlite3.connect(db).execute(
        "SELECT key, value FROM backends").fetchall()
    assert rows == [("a/b", b"\x00\xff")]


def test_not_a_database_is_reported_and_kept(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"t" * 5000)
    with pytest.raises(backends.DataLossError, match="not a SQLite database"):
        backends.SqliteRawBackend(bad).load("k")
    assert bad.read_bytes() == b"t" * 5000


def test_json_cache_on_sqlite(tmp_path):
    db = tmp_path / "cache.db"
    cache = backends.JsonCache.sqlite(db, timeout=60)
    cache.set("live", {"a": 1})
    cache.set("dead", 2, timeout=0)
    cache.set("short", 3, timeout=1)
    cache.set("forever", 4, timeout=float("inf"))
    assert cache.get("live") == {"a": 1}
    assert cache.get("live") == {"a": 1}
    assert cache.stats()["decoded_hits"] >= 1
    assert cache.get("dead") is None
    time.sleep(1.1)
    assert sorted(cache.keys()) == ["forever", "live"]
    assert len(cache) == 2
    assert cache.prune() == 1  # "short"; "dead" went when it was read
    now = time.time_ns()
    rows = sqlite3.connect(db).execute(
        "SELECT key, value FROM backends"
        " WHERE expires_ns IS NULL OR expires_ns > ? ORDER BY key",
        (now,)).fetchall()
    assert rows == [("forever", b"4"), ("live", b'{\n    "a": 1\n}')]


def test_caches_through_urls_share_one_bound(tmp_path):
    url = f"sqlite://{tmp_path / 'c.db'}?cache=json&timeout=600"
    a = backends.open(url)
    a.set("k", [1])
    assert backends.open(url).get("k") == [1]
    one = backends.JsonCache.sqlite(tmp_path / "b.db", max_entries=2)
    two = backends.JsonCache.sqlite(tmp_path / "b.db", max_entries=2)
    one.set("1", 1)
    two.set("2", 2)
    assert one.get("1") == 1
    two.set("3", 3)  # evicts "2", the least recently used
    assert sorted(one.keys()) == ["1", "3"]


def test_text_cache_on_sqlite(tmp_path):
    cache = backends.TextCache.sqlite(tmp_path / "t.db", timeout=1,
                                      table="pages")
    cache.set("p", "héllo")
    assert cache.get("p") == "héllo"
    time.sleep(1.1)
    assert cache.get("p") is None
    assert cache.prune() == 0
    url = backends.open(f"sqlite://{tmp_path / 't.db'}?table=pages&cache=text")
    url.set("q", "x")
    assert url.get("q") == "x"
