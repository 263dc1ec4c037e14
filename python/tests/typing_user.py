"""A user's program, type-checked by test_errors.py with mypy --strict
against the stubs (never run: its S3 endpoint is not a server)."""

import io
from typing import Optional

import backends
from backends.FileSystemJsonBackend import FileSystemJsonBackend
from backends.JsonCache import JsonCache
from backends.S3RawBackend import S3RawBackend
from backends.VolatileBackend import VolatileBackend


def main(folder: str) -> None:
    store = FileSystemJsonBackend(folder)
    ok: bool = store.dump("users/42", {"name": "Ada"})
    user = store.load("users/42")
    print(ok, user, len(store), store.keys(), "k" in store, store.path("k"))
    for key, value in store.items():
        print(key, value)
    cache = JsonCache(folder + "/cache", timeout=60)
    cache.set("k", [1, 2], timeout=5)
    print(cache.get("k"), cache.prune())
    memory = VolatileBackend()
    memory["a"] = 1
    with backends.open("memory://?format=text") as opened:
        print(opened)
    raw: Optional[bytes] = backends.FileSystemRawBackend(folder).load("x")
    print(raw)
    try:
        store.dump("../x", 1)
    except backends.InvalidArgumentError as error:
        print(error)
    s3 = S3RawBackend("bucket", region="eu-west-1", endpoint="http://127.0.0.1:1")
    s3.dump("f", io.BytesIO(b"x"), content_type="text/plain")
    print(s3.url("bucket", "key"), s3.presign("k", 60))
    redis = backends.RedisJsonBackend("redis://127.0.0.1:1", prefix="app:")
    redis.dump_many({"a": 1})
    text: Optional[str] = backends.RedisTextBackend().load("t")
    shared = backends.JsonCache.redis("redis://127.0.0.1:1", 60, prefix="c:")
    print(redis.load_many(["a"]), text, shared.set("k", 1, timeout=5))
