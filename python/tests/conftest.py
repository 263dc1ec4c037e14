"""Shared fixtures. Every store class gets a fresh store per test; the S3
ones use the radosgw that scripts/test.sh starts (scripts/s3-server.sh run)
under a fresh key prefix. Without that server's environment the S3 tests
fail, saying so; only BACKENDS_SKIP_S3=1 turns that into a skip."""

import os
import uuid

import pytest

import backends

S3_ENV = ("S3_ENDPOINT", "S3_BUCKET", "AWS_ACCESS_KEY_ID",
          "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")


@pytest.fixture(autouse=True)
def _no_metadata_service(monkeypatch):
    # Tests talk only to servers on 127.0.0.1.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def s3_env():
    missing = [name for name in S3_ENV if not os.environ.get(name)]
    if missing:
        if os.environ.get("BACKENDS_SKIP_S3") == "1":
            pytest.skip("BACKENDS_SKIP_S3=1 and no S3 server")
        pytest.fail("the S3 tests need the server scripts/test.sh starts; "
                    "missing " + " ".join(missing))
    return {name: os.environ[name] for name in S3_ENV}


@pytest.fixture
def s3_prefix():
    return "py-" + uuid.uuid4().hex[:12] + "/"


def open_s3(cls, env, prefix, **options):
    return cls(env["S3_BUCKET"], endpoint=env["S3_ENDPOINT"],
               prefix=prefix, path_style=True, **options)


# name -> factory(tmp_path, s3_env-or-None, prefix); kind of values.
LOCAL_JSON = {
    "VolatileBackend": lambda tmp, env, prefix: backends.VolatileBackend(),
    "FileSystemJsonBackend":
        lambda tmp, env, prefix: backends.FileSystemJsonBackend(tmp / "s"),
    "JsonCache-folder": lambda tmp, env, prefix: backends.JsonCache(tmp / "c"),
    "JsonCache-memory": lambda tmp, env, prefix: backends.JsonCache(),
}
LOCAL_TEXT = {
    "FileSystemTextBackend":
        lambda tmp, env, prefix: backends.FileSystemTextBackend(tmp / "t"),
    "TextCache-folder": lambda tmp, env, prefix: backends.TextCache(tmp / "c"),
    "TextCache-memory": lambda tmp, env, prefix: backends.TextCache(),
}
S3_JSON = {
    "S3JsonBackend":
        lambda tmp, env, prefix: open_s3(backends.S3JsonBackend, env, prefix),
}
S3_RAW = {
    "S3RawBackend":
        lambda tmp, env, prefix: open_s3(backends.S3RawBackend, env, prefix),
}
