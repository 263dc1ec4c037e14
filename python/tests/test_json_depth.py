"""Nesting is bounded (kMaxJsonDepth = 1024) both ways: deep values raise a
clear error at every depth up to 10^6 levels, never crash."""

import pytest

import backends

DEPTHS = [10**2, 1024, 1025, 10**3 + 500, 10**4, 10**5, 10**6]


def nested_list(depth):
    value = []
    for _ in range(depth - 1):
        value = [value]
    return value


def depth_of(value):
    # Iterative: comparing 1024 levels with == would pass Python's own
    # recursion limit.
    depth = 0
    while isinstance(value, (list, dict)):
        depth += 1
        if not value:
            return depth
        value = value[0] if isinstance(value, list) else value["k"]
    return depth


def nested_dict(depth):
    value = {}
    for _ in range(depth - 1):
        value = {"k": value}
    return value


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("make", [nested_list, nested_dict])
def test_python_to_json(depth, make, tmp_path):
    store = backends.FileSystemJsonBackend(tmp_path)
    value = make(depth)
    if depth <= 1024:
        assert store.dump("deep", value) is True
        assert depth_of(store.load("deep")) == depth
        return
    with pytest.raises(ValueError, match="nested deeper than 1024 levels"):
        store.dump("deep", value)
    assert store.load("deep") is None  # nothing written


def test_self_reference_is_too_deep():
    store = backends.VolatileBackend()
    loop = []
    loop.append(loop)
    with pytest.raises(backends.InvalidArgumentError, match="nested deeper"):
        store.dump("loop", loop)
    cycle = {}
    cycle["me"] = cycle
    with pytest.raises(backends.InvalidArgumentError, match="nested deeper"):
        store.dump("cycle", cycle)


@pytest.mark.parametrize("depth", DEPTHS)
def test_json_to_python(depth, tmp_path):
    (tmp_path / "deep").write_text("[" * depth + "]" * depth)
    (tmp_path / "obj").write_text('{"k":' * depth + "1" + "}" * depth)
    store = backends.FileSystemJsonBackend(tmp_path)
    if depth <= 1024:
        assert depth_of(store.load("deep")) == depth
        assert depth_of(store.load("obj")) == depth
        return
    for key in ("deep", "obj"):
        with pytest.raises(backends.DataLossError, match="nested deeper"):
            store.load(key)
    assert (tmp_path / "deep").exists()  # bad data is never deleted
