"""Folders written by plain Python in the original's format are read, and
rewritten byte for byte; the cache envelope likewise."""

import datetime
import json
import os
import pathlib
import sys

import backends

# The samples the C++ tests share with the original's format checker.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests"
                       / "file"))
from original_format import SAMPLES  # noqa: E402


def original_dump(value, path):
    # The original's FileSystemJsonBackend.dump.
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(value, f, sort_keys=True, indent=4, separators=(",", ": "))


def read_tree(root):
    out = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, root)] = f.read()
    return out


def test_json_folder_round_trip_is_byte_identical(tmp_path):
    original, ours = tmp_path / "original", tmp_path / "ours"
    for key, value in SAMPLES.items():
        original_dump(value, os.path.join(original, key))
    store = backends.FileSystemJsonBackend(original)
    loaded = dict(store.items())
    assert loaded == SAMPLES
    copy = backends.FileSystemJsonBackend(ours)
    for key, value in loaded.items():
        copy.dump(key, value)
    assert read_tree(ours) == read_tree(original)
    # Dict keys json.dumps converts to text are converted the same way.
    # (Objects are written sorted by key text: for several int keys that is
    # not the numeric order json.dumps sorts them in.)
    for i, keys in enumerate(({10: "a"}, {2.5: "f"}, {1e20: "g"},
                              {True: 1}, {None: 2})):
        copy.dump(f"keys{i}", keys)
        original_dump(keys, os.path.join(original, f"keys{i}"))
    assert read_tree(ours) == read_tree(original)


def test_text_folder_round_trip(tmp_path):
    root = tmp_path / "text"
    os.makedirs(root / "a")
    (root / "a" / "b").write_text("caf\u00e9\n", encoding="utf-8")
    store = backends.FileSystemTextBackend(root)
    assert store.load("a/b") == "caf\u00e9\n"
    store.dump("a/c", "x\u2615")
    assert (root / "a" / "c").read_bytes() == "x\u2615".encode()
    assert store.path("a/c") == str(root / "a" / "c")


def original_cache_set(root, key, value, timeout):
    # The original's JsonCache.set.
    stamp = (datetime.datetime.utcnow() + datetime.timedelta(
        seconds=timeout)).strftime("%Y-%m-%dT%H:%M:%S")
    original_dump({"content": value, "expiration": stamp},
                  os.path.join(root, key))


def test_json_cache_envelope_round_trip(tmp_path):
    original, ours = tmp_path / "original", tmp_path / "ours"
    for key, value in SAMPLES.items():
        original_cache_set(original, key, value, 600)
    original_cache_set(original, "expired", {"old": True}, -60)
    cache = backends.JsonCache(original)
    assert cache.get("expired") is None  # and removed, as the original does
    assert not os.path.exists(original / "expired")
    assert dict(cache.items()) == SAMPLES
    # Rewritten with the same expiration: the same bytes.
    copy = backends.FileSystemJsonBackend(ours)
    raw = backends.FileSystemJsonBackend(original)
    for key in SAMPLES:
        copy.dump(key, raw.load(key))
    assert read_tree(ours) == read_tree(original)
    ours_cache = backends.JsonCache(tmp_path / "c", 600)
    ours_cache.set("k", {"v": 1})
    envelope = json.loads((tmp_path / "c" / "k").read_text())
    assert envelope["content"] == {"v": 1}
    expires = datetime.datetime.strptime(envelope["expiration"],
                                         "%Y-%m-%dT%H:%M:%S")
    left = (expires - datetime.datetime.utcnow()).total_seconds()
    assert 590 < left <= 600


def test_cache_timeouts(tmp_path):
    cache = backends.JsonCache(tmp_path / "c", timeout=300)
    assert cache.set("now", 1, timeout=0) is True
    assert cache.get("now") is None
    cache.set("forever", 2, timeout=float("inf"))
    assert "9999-12-31T23:59:59" in (tmp_path / "c" / "forever").read_text()
    cache.set("gone", 3, timeout=0)
    assert cache.prune() == 1
    assert cache.keys() == {"forever"}
    with_timeout = backends.TextCache(tmp_path / "t")
    with pytest_raises(backends.UnimplementedError):
        with_timeout.set("k", "v", timeout=5)
    assert with_timeout.set("k", "v") is True
    old = tmp_path / "t" / "k"
    os.utime(old, (0, 0))
    assert with_timeout.get("k") is None  # expired by its file's age
    stats = cache.stats()
    assert stats["expirations"] >= 1


def pytest_raises(cls):
    import pytest
    return pytest.raises(cls)
