"""The original's interface and the mapping protocol, on every class: the
same behaviour suite per store, as the C++ conformance suite does."""

import collections.abc

import pytest

import backends
from conftest import LOCAL_JSON, LOCAL_TEXT, S3_JSON, S3_RAW

SAMPLE = {
    "json": [{"name": "Ada", "n": [1, 2.5, None, True]}, "text", 7, None],
    "text": ["hello", "caf\u00e9 \u2615", ""],
    "raw": [b"\x00\xffbytes", b"", b"plain"],
}
STORES = (
    [(name, make, "json") for name, make in LOCAL_JSON.items()]
    + [(name, make, "text") for name, make in LOCAL_TEXT.items()]
    + [(name, make, "json") for name, make in S3_JSON.items()]
    + [(name, make, "raw") for name, make in S3_RAW.items()]
    + [("FileSystemRawBackend",
        lambda tmp, env, prefix: backends.FileSystemRawBackend(tmp / "r"),
        "raw")]
)


@pytest.fixture(params=STORES, ids=[name for name, _, _ in STORES])
def case(request, tmp_path):
    name, make, kind = request.param
    env = request.getfixturevalue("s3_env") if name.startswith("S3") else None
    prefix = request.getfixturevalue("s3_prefix") if env else None
    store = make(tmp_path, env, prefix)
    yield store, SAMPLE[kind]
    if env and not repr(store).endswith("(closed)"):
        store.clear()
    store.close()


def test_original_interface(case):
    store, values = case
    assert len(store) == 0
    assert store.keys() == set()
    for i, value in enumerate(values):
        assert store.dump(f"k/{i}", value) is True
    for i, value in enumerate(values):
        assert store.load(f"k/{i}") == value
    assert store.load("missing") is None
    assert len(store) == len(values)
    keys = store.keys()
    assert isinstance(keys, set)
    assert keys == {f"k/{i}" for i in range(len(values))}
    assert sorted(store) == sorted(keys)
    items = store.items()
    assert isinstance(items, collections.abc.Iterator)
    assert dict(items) == {f"k/{i}": v for i, v in enumerate(values)}
    assert "k/0" in store
    assert "missing" not in store
    assert 42 not in store
    assert store.delete("k/0") is True
    assert store.delete("k/0") is False
    assert "k/0" not in store
    assert store.list("k/") == sorted(keys - {"k/0"})
    store.clear()
    assert len(store) == 0


def test_mapping_protocol(case):
    store, values = case
    assert isinstance(store, collections.abc.MutableMapping)
    store["a"] = values[0]
    assert store["a"] == values[0]
    with pytest.raises(KeyError):
        store["nope"]
    with pytest.raises(KeyError):
        del store["nope"]
    assert store.get("nope") is None
    assert store.get("nope", values[1]) == values[1]
    store.update({"b": values[1]})
    assert dict(store) == {"a": values[0], "b": values[1]}
    assert list(store.values()) == [values[0], values[1]]
    assert store.pop("b") == values[1]
    assert store.setdefault("c", values[1]) == values[1]
    del store["a"]
    assert "a" not in store


def test_batches(case):
    store, values = case
    pairs = {f"b/{i}": values[i % len(values)] for i in range(100)}
    assert store.dump_many(pairs) is True
    keys = list(pairs) + ["b/missing"]
    assert store.load_many(keys) == list(pairs.values()) + [None]
    assert dict(store.items()) == pairs
    assert store.dump_many([("p", values[0]), ["q", values[1]]]) is True
    assert store.load_many(["p", "q"]) == [values[0], values[1]]
    with pytest.raises(TypeError):
        store.dump_many([("only-a-key",)])


def test_repr_and_with(case):
    store, _ = case
    text = repr(store)
    assert text.startswith(type(store).__name__ + "(")
    assert store.url() in text
    assert "SECRET" not in text.upper()
    with store as same:
        assert same is store
    assert repr(store).endswith("(closed)")
    with pytest.raises(backends.FailedPreconditionError, match="closed"):
        store.load("a")


def test_bad_keys_raise_value_error(case):
    store, values = case
    for key in ("", "a\x00b", "x" * 2000):
        with pytest.raises(backends.InvalidArgumentError) as error:
            store.dump(key, values[0])
        assert isinstance(error.value, ValueError)
    assert len(store) == 0


def test_help_says_what_the_header_says():
    assert "envelope" in backends.JsonCache.__doc__
    assert "missing" in backends.Backend.load.__doc__.lower() or \
        "None" in backends.Backend.load.__doc__


def test_iteration_reads_past_one_page(case):
    # More keys than one listing page (1,000): iteration pages, in order,
    # each key once.
    store, values = case
    keys = [f"p/{i:04d}" for i in range(1001)]
    for i, key in enumerate(keys):
        store.dump(key, values[i % len(values)])
    assert list(store) == keys
    assert [key for key, _ in store.items()] == keys


def test_iterators_see_a_key_removed_meanwhile_as_gone(case):
    store, values = case
    for key in ("a", "b", "c"):
        store.dump(key, values[0])
    items = store.items()
    store.delete("b")
    assert [key for key, _ in items] == ["a", "c"]
