"""ReadThroughBackend over stores Python also holds, and S3 stores opened
from the environment alone."""

import os
import subprocess
import sys

import pytest

import backends


def test_read_through_front_and_back(tmp_path):
    front = backends.JsonCache(tmp_path / "front", timeout=60)
    back = backends.FileSystemJsonBackend(tmp_path / "back")
    back.dump("k", {"v": 1})
    layer = backends.ReadThroughBackend(front, back)
    assert layer.load("k") == {"v": 1}  # from the back, copied in front
    assert front.get("k") == {"v": 1}
    assert layer.load("k") == {"v": 1}  # from the front
    stats = layer.stats()
    assert stats["misses"] == 1 and stats["hits"] == 1
    assert layer.dump("k", [2]) is True
    assert back.load("k") == [2] and front.get("k") == [2]
    assert layer.invalidate("k") is True
    assert "k" not in front
    assert layer.delete("k") is True
    assert back.load("k") is None
    assert layer.load("k") is None
    assert repr(layer).startswith("ReadThroughBackend(")


def test_s3_from_the_environment_alone(s3_env, s3_prefix):
    # As a user of the original writes it: the bucket, and nothing else.
    code = (
        "import backends\n"
        "from backends.S3JsonBackend import S3JsonBackend\n"
        f"b = S3JsonBackend({s3_env['S3_BUCKET']!r})\n"
        f"b.dump({s3_prefix + 'env'!r}, {{'v': 1}})\n"
        f"print(b.load({s3_prefix + 'env'!r}))\n"
        f"print(b.delete({s3_prefix + 'env'!r}))\n"
    )
    env = dict(os.environ, AWS_ENDPOINT_URL_S3=s3_env["S3_ENDPOINT"])
    result = subprocess.run([sys.executable, "-c", code], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["{'v':", "1}", "True"]


def test_open_url_parameters(tmp_path):
    assert type(backends.open("memory://")) is backends.VolatileRawBackend
    assert type(backends.open("memory://?format=json")) is \
        backends.VolatileBackend
    folder = f"file://{tmp_path}"
    assert type(backends.open(folder + "?format=text")) is \
        backends.FileSystemTextBackend
    cache = backends.open(folder + "/c?cache=text&format=text&timeout=5")
    assert type(cache) is backends.TextCache
    for bad in ("?format=raw&cache=json", "?format=yaml", "?cache=xml",
                "?timeout=5", "?cache=json&timeout=-1", "?nosuch=1",
                "?max_entries=2", "?format=text&indent=2"):
        with pytest.raises(backends.InvalidArgumentError):
            backends.open(folder + bad)


def test_every_url_reopens_its_store(tmp_path):
    folder = f"file://{tmp_path}"
    stores = [backends.open(folder + "/raw"),
              backends.open(folder + "/json?format=json"),
              backends.FileSystemTextBackend(tmp_path / "text"),
              backends.JsonCache(tmp_path / "jc", timeout=60),
              backends.open(folder + "/tc?cache=text&timeout=7"),
              backends.JsonCache(tmp_path / "lim", max_entries=5,
                                 max_bytes=9000, decoded_bytes=0),
              backends.open(folder + "/compact?format=json&indent=-1"
                            "&ensure_ascii=0")]
    for store in stores:
        url = store.url()
        again = backends.open(url)
        assert type(again) is type(store), url
        assert again.url() == url
        value = b"v" if type(store) is backends.FileSystemRawBackend else "v"
        store.dump("k", value)
        assert again.load("k") == value, url
    assert "cache=json&timeout=60" in stores[3].url()
    assert "format=json" in stores[1].url()
    assert "max_entries=5&max_bytes=9000&decoded_bytes=0" in stores[5].url()
    # The reopened JSON store writes in the URL's format.
    backends.open(stores[6].url()).dump("k", {"a": [1, "é"]})
    assert (tmp_path / "compact" / "k").read_text(encoding="utf-8") == \
        '{"a":[1,"é"]}'


def test_copy_rename_and_conditional_dump(tmp_path):
    store = backends.FileSystemJsonBackend(tmp_path)
    version = store.dump_if("a", {"n": 1}, if_absent=True)
    with pytest.raises(backends.AlreadyExistsError):
        store.dump_if("a", {"n": 2}, if_absent=True)
    with pytest.raises(backends.FailedPreconditionError):
        store.dump_if("a", {"n": 3}, if_version="not-" + version)
    assert store.load("a") == {"n": 1}
    newer = store.dump_if("a", {"n": 4}, if_version=version)
    assert newer != version and store.load("a") == {"n": 4}
    assert store.copy("a", "b") is True
    assert store.rename("b", "c/d") is True
    assert store.load("c/d") == {"n": 4} and "b" not in store
    assert store.copy("nothing", "x") is False
    assert store.rename("nothing", "x") is False
    assert "x" not in store
