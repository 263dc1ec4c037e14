"""The Redis classes on the servers scripts/test.sh starts
(scripts/redis-server.sh): round trips of every kind, the mapping interface
under a prefix, batches, the caches whose expiry Redis keeps, values shared
with redis-cli both ways, credentials kept out of every printed string, and
a Redis Cluster.

Without REDIS_URL these tests fail, saying so (as the C++ Redis tests do);
BACKENDS_SKIP_REDIS=1 turns that into a skip. Without REDIS_CLUSTER_URL the
cluster test skips, except under CI=true, where it fails."""

import os
import subprocess
import time
import urllib.parse
import uuid

import pytest

import backends


@pytest.fixture
def redis_url():
    url = os.environ.get("REDIS_URL")
    if not url:
        if os.environ.get("BACKENDS_SKIP_REDIS") == "1":
            pytest.skip("BACKENDS_SKIP_REDIS=1 and no Redis server")
        pytest.fail("the Redis tests need the server scripts/test.sh starts "
                    "(scripts/redis-server.sh); REDIS_URL is not set")
    return url


@pytest.fixture
def prefix():
    return "py-" + uuid.uuid4().hex[:12] + ":"


def cli(url, *args):
    """redis-cli (a client that is not ours) against the server of url."""
    where = urllib.parse.urlsplit(url)
    done = subprocess.run(
        ["redis-cli", "-h", where.hostname, "-p", str(where.port), "--raw",
         *args],
        check=True, capture_output=True, timeout=30)
    return done.stdout.rstrip(b"\n")


@pytest.fixture
def json_store(redis_url, prefix):
    store = backends.RedisJsonBackend(redis_url, prefix=prefix)
    yield store
    store.clear()
    store.close()


def test_round_trips_of_every_kind(redis_url, prefix):
    json_store = backends.RedisJsonBackend(redis_url, prefix=prefix + "j:")
    value = {"b": 1, "a": ["caf\u00e9", None, 2.5]}
    assert json_store.dump("users/42", value) is True
    assert json_store.load("users/42") == value
    assert json_store.load("users/0") is None
    text = backends.RedisTextBackend(redis_url, prefix=prefix + "t:")
    text["t"] = "caf\u00e9"
    assert text["t"] == "caf\u00e9"
    raw = backends.RedisRawBackend(redis_url, prefix=prefix + "r:")
    raw["r"] = b"\x00\xff" * 600
    assert raw["r"] == b"\x00\xff" * 600
    assert raw.get("missing", b"x") == b"x"
    assert raw.delete("r") is True
    assert raw.delete("r") is False
    for store in (json_store, text, raw):
        store.clear()


def test_mapping_under_a_prefix(json_store, redis_url, prefix):
    other = backends.RedisRawBackend(redis_url, prefix=prefix + "other:")
    other["k0"] = b'"not ours"'
    # The other store's keys start with this one's prefix too: the prefix
    # is a key prefix, so it sees them as "other:k0"; a sibling prefix not.
    sibling = backends.RedisRawBackend(redis_url, prefix=prefix[:-1] + "x:")
    sibling["s"] = b"sibling"
    for i in range(25):
        json_store["k%02d" % i] = {"i": i}
    assert len(json_store) == 26
    assert sorted(json_store.keys()) == sorted(
        ["k%02d" % i for i in range(25)] + ["other:k0"])
    assert list(iter(json_store))[:3] == ["k00", "k01", "k02"]
    assert "k07" in json_store and "k99" not in json_store
    assert dict(json_store.items())["k03"] == {"i": 3}
    assert json_store["other:k0"] == "not ours"
    del json_store["k00"]
    assert "k00" not in json_store
    with pytest.raises(KeyError):
        json_store["k00"]
    assert json_store.list("k1") == ["k%02d" % i for i in range(10, 20)]
    other.clear()
    json_store.clear()
    assert len(json_store) == 0
    assert sibling["s"] == b"sibling"
    sibling.clear()


def test_batches(json_store):
    items = {"b%04d" % i: {"i": i, "pad": "x" * 1000} for i in range(1000)}
    assert json_store.dump_many(items) is True
    keys = list(items) + ["missing"]
    loaded = json_store.load_many(keys)
    assert loaded[:-1] == list(items.values())
    assert loaded[-1] is None
    assert len(json_store) == 1000


def test_values_shared_with_redis_cli(json_store, redis_url, prefix):
    cli(redis_url, "SET", prefix + "from-cli", '{"by": "redis-cli"}')
    assert json_store.load("from-cli") == {"by": "redis-cli"}
    raw = backends.RedisRawBackend(redis_url, prefix=prefix)
    cli(redis_url, "SET", prefix + "bytes", "a b\tc")
    assert raw.load("bytes") == b"a b\tc"
    json_store.dump("from-python", [1, "two"])
    assert cli(redis_url, "GET", prefix + "from-python") == \
        b'[\n    1,\n    "two"\n]'


def test_open_and_url(redis_url, prefix):
    store = backends.open(redis_url + "/0?prefix=" + prefix)
    assert isinstance(store, backends.RedisRawBackend)
    store["k"] = b"v"
    assert "prefix=" in store.url()
    again = backends.open(store.url())
    assert again["k"] == b"v"
    typed = backends.open(redis_url + "?prefix=" + prefix + "&format=json")
    assert isinstance(typed, backends.RedisJsonBackend)
    typed["j"] = {"a": 1}
    assert backends.RedisJsonBackend(redis_url, prefix=prefix)["j"] == \
        {"a": 1}
    assert repr(store).startswith("RedisRawBackend('redis://")
    store.clear()


def test_caches_expire_by_redis(redis_url, prefix):
    cache = backends.JsonCache.redis(redis_url, 60, prefix=prefix + "c:")
    assert isinstance(cache, backends.JsonCache)
    cache.set("long", {"a": 1})
    cache.set("short", {"b": 2}, timeout=1)
    cache.set("gone", {"c": 3}, timeout=0)
    assert cache.get("long") == {"a": 1}
    assert cache.get("gone") is None
    # Redis keeps the expiry: its own TTL, in milliseconds.
    ttl = int(cli(redis_url, "PTTL", prefix + "c:long"))
    assert 58_000 < ttl <= 60_000
    assert 0 < int(cli(redis_url, "PTTL", prefix + "c:short")) <= 1000
    assert cache.prune() == 0
    stats = cache.stats()
    assert stats["hits"] >= 1 and stats["misses"] >= 1
    text = backends.TextCache.redis(redis_url, 1, prefix=prefix + "t:")
    text.set("t", "caf\u00e9")
    assert text["t"] == "caf\u00e9"
    time.sleep(1.2)
    assert cache.get("short") is None
    assert text.get("t") is None
    assert cli(redis_url, "EXISTS", prefix + "c:short") == b"0"
    assert sorted(cache.keys()) == ["long"]
    # The URL form: cache=json&timeout=N, the expiry Redis's too.
    opened = backends.open(redis_url + "?prefix=" + prefix +
                           "o:&cache=json&timeout=30")
    assert isinstance(opened, backends.JsonCache)
    opened["k"] = [1]
    assert opened["k"] == [1]
    assert 28_000 < int(cli(redis_url, "PTTL", prefix + "o:k")) <= 30_000
    for store in (cache, text, opened):
        store.clear()


def test_password_never_printed(redis_url, prefix):
    user = os.environ.get("REDIS_ACL_USER")
    password = os.environ.get("REDIS_ACL_PASSWORD")
    if not user or not password:
        pytest.fail("REDIS_ACL_USER / REDIS_ACL_PASSWORD are not set "
                    "(scripts/redis-server.sh exports them)")
    where = urllib.parse.urlsplit(redis_url)
    url = "redis://%s:%s@%s?prefix=%s" % (user, password, where.netloc,
                                          prefix)
    store = backends.open(url)
    store["k"] = b"v"
    assert store["k"] == b"v"
    assert password not in store.url() and password not in repr(store)
    cache = backends.JsonCache.redis(url, 10)
    assert password not in cache.url() and password not in repr(cache)
    store.clear()
    wrong = "redis://%s:%s@%s" % (user, "wrong-" + password, where.netloc)
    with pytest.raises(backends.UnauthenticatedError) as error:
        backends.RedisRawBackend(wrong)
    assert password not in str(error.value)
    with pytest.raises(backends.UnauthenticatedError) as error:
        backends.open(wrong + "?cache=json")
    assert password not in str(error.value)


def test_bad_urls_are_clear_errors():
    with pytest.raises(backends.InvalidArgumentError):
        backends.RedisRawBackend("redis://127.0.0.1:notaport")
    with pytest.raises(backends.InvalidArgumentError):
        backends.open("redis://127.0.0.1:6379/0?no_such_option=1")


def test_cluster(prefix):
    url = os.environ.get("REDIS_CLUSTER_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but REDIS_CLUSTER_URL is not set (run the "
                        "tests through scripts/test.sh)")
        pytest.skip("no Redis Cluster: REDIS_CLUSTER_URL is not set")
    store = backends.open(url + "&prefix=" + prefix + "&format=json")
    assert isinstance(store, backends.RedisJsonBackend)
    items = {"k%03d" % i: {"i": i} for i in range(300)}
    store.dump_many(items)
    assert store.load_many(list(items)) == list(items.values())
    assert len(store) == 300
    assert sorted(store.keys()) == sorted(items)
    assert store["k123"] == {"i": 123}
    cache = backends.open(url + "&prefix=" + prefix + "c:&cache=json"
                          "&timeout=30")
    cache["c"] = {"x": 1}
    assert cache["c"] == {"x": 1}
    cache.clear()
    store.clear()
    assert len(store) == 0
