"""JSON loads build Python objects straight from the parsed bytes; what that
fast path must keep: json.loads' values (big ints aside: ParseJson makes
them floats), the last of duplicate keys, the 1024-level bound, and
ParseJson's own error messages."""

import gc
import json
import sys

import pytest

import backends

UNICODE = {"é": "café ☕", "𝄞": ["\u0000\u001f", "\ud7ff\ue000\uffff"],
           "esc": "\"\\/\b\f\n\r\t", "k" * 300: "long key"}
FLOATS = [0.0, -0.0, 0.1, 1e-310, 5e-324, 1.7976931348623157e308, 2.5e-05,
          1e16, 123456789.123456789, -1.5, sys.float_info.epsilon]


@pytest.fixture
def folder(tmp_path):
    return tmp_path, backends.FileSystemJsonBackend(tmp_path)


def every_load(store, key):
    """The value by every path that loads JSON bytes."""
    values = [store.load(key), store[key], store.load_many([key])[0],
              dict(store.items())[key]]
    assert all(value == values[0] for value in values[1:])
    return values[0]


def test_values_equal_json_loads(folder):
    root, store = folder
    samples = {"record": {"id": 42, "ok": True, "none": None, "tags": ["a"],
                          "nested": {"x": [1, -2, 3.5, {}, []]}},
               "unicode": UNICODE, "int64": [-2**63, 2**63 - 1, 2**64 - 1],
               "top": "just a string", "number": 7, "empty": {}}
    for key, value in samples.items():
        (root / key).write_text(json.dumps(value))
        loaded = every_load(store, key)
        assert loaded == json.loads((root / key).read_text())
        assert type(loaded) is type(value)


def test_floats_round_trip_to_the_same_float(folder):
    root, store = folder
    (root / "floats").write_text(json.dumps(FLOATS))
    loaded = every_load(store, "floats")
    assert [x.hex() for x in loaded] == [x.hex() for x in FLOATS]
    (root / "text").write_text("[1E2, 2.50e-3, -0.0, 0e5]")
    loaded = every_load(store, "text")
    assert [x.hex() for x in loaded] == [x.hex() for x in
                                         [100.0, 0.0025, -0.0, 0.0]]
    # ParseJson refuses what overflows a double (json.loads makes it inf).
    (root / "huge").write_text("[1e400]")
    with pytest.raises(backends.DataLossError,
                       match="^load \"huge\": invalid JSON at byte 6: "
                       "number overflow parsing '1e400'"):
        store.load("huge")


def test_ints_beyond_64_bits_load_as_parse_json_makes_them(folder):
    root, store = folder
    (root / "big").write_text('{"big": 123456789012345678901234567890, '
                              '"small": 1, "neg": -18446744073709551617}')
    assert every_load(store, "big") == {
        "big": 1.2345678901234568e29, "small": 1,
        "neg": -1.8446744073709552e19}


def test_duplicate_keys_keep_the_last(folder):
    root, store = folder
    (root / "dup").write_text('{"a": 1, "b": [2], "a": {"c": 3}, "b": null}')
    assert every_load(store, "dup") == {"a": {"c": 3}, "b": None}


@pytest.mark.parametrize("depth", [1023, 1024, 1025])
def test_depth_1024_loads_and_1025_raises(folder, depth):
    root, _ = folder
    texts = {"list": "[" * depth + "]" * depth,
             "dict": '{"k":' * (depth - 1) + "{}" + "}" * (depth - 1)}
    for key, text in texts.items():
        (root / key).mkdir()
        (root / key / key).write_text(text)
        store = backends.FileSystemJsonBackend(root / key)
        loads = (store.load, store.__getitem__,
                 lambda key: store.load_many([key])[0],
                 lambda key: dict(store.items())[key])
        for load in loads:
            if depth <= 1024:
                assert levels(load(key)) == depth
                continue
            with pytest.raises(backends.DataLossError,
                               match=f'^load "{key}": invalid JSON: nested '
                               "deeper than 1024 levels$"):
                load(key)


def levels(value):
    # Iterative: == on 1024 levels would pass Python's recursion limit.
    out = 0
    while isinstance(value, (list, dict)):
        out += 1
        if not value:
            break
        value = value[0] if isinstance(value, list) else value["k"]
    return out


@pytest.mark.parametrize("text, position", [
    ("[1, 2,", 7), ('{"a" 1}', 6), ("[1] x", 5), ('"\\x"', 3), ("", 1),
    ("nul", 4), ("[01]", 3)])
def test_invalid_json_names_operation_key_and_position(folder, text,
                                                       position):
    root, store = folder
    (root / "bad").write_text(text)
    prefix = f'load "bad": invalid JSON at byte {position}: '
    for load in (store.load, store.__getitem__,
                 lambda key: store.load_many([key]),
                 lambda key: dict(store.items())):
        with pytest.raises(backends.DataLossError) as raised:
            load("bad")
        assert str(raised.value).startswith(prefix), str(raised.value)


def test_invalid_utf8_is_data_loss(folder):
    root, store = folder
    (root / "bad").write_bytes(b'["\xff"]')
    with pytest.raises(backends.DataLossError,
                       match='^load "bad": invalid JSON at byte 3: .*UTF-8'):
        store.load("bad")


def test_memory_and_cache_stores_load_the_same(tmp_path):
    value = {"u": UNICODE, "f": FLOATS, "n": [None, True, False, 2**64 - 1]}
    for store in (backends.VolatileBackend(), backends.JsonCache(),
                  backends.JsonCache(tmp_path / "cache")):
        store.dump("v", value)
        assert store.load("v") == value
        assert store.load("v") == value  # a cache's decoded copy, shared
        assert store.load_many(["v"]) == [value]


class LoadsWhenCollected:
    def __init__(self, store, seen):
        self.store, self.seen, self.me = store, seen, self

    def __del__(self):
        self.seen.append(self.store.load("other"))


def test_a_load_inside_a_load_from_a_finalizer(folder):
    # The GC may run a finalizer while a load builds its objects; a load
    # there must not disturb the one it interrupts.
    root, store = folder
    big = [{"i": i, "s": "x" * (i % 7)} for i in range(2000)]
    (root / "big").write_text(json.dumps(big))
    (root / "other").write_text('{"other": [1, 2, 3]}')
    seen = []
    threshold = gc.get_threshold()
    try:
        gc.set_threshold(1)
        for _ in range(20):
            LoadsWhenCollected(store, seen)
            assert store.load("big") == big
    finally:
        gc.set_threshold(*threshold)
        gc.collect()
    assert seen and all(value == {"other": [1, 2, 3]} for value in seen)
