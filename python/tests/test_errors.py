"""Every exception class: its builtin base, and a real failure of its kind
(InternalError, a bug on our side, has no trigger by design)."""

import os
import pathlib

import pytest

import backends
from backends import errors
from conftest import open_s3

BASES = {
    backends.InvalidArgumentError: ValueError,
    backends.NotFoundError: FileNotFoundError,
    backends.AlreadyExistsError: FileExistsError,
    backends.PermissionDeniedError: PermissionError,
    backends.UnauthenticatedError: PermissionError,
    backends.FailedPreconditionError: OSError,
    backends.UnavailableError: ConnectionError,
    backends.DeadlineExceededError: TimeoutError,
    backends.DataLossError: ValueError,
    backends.UnimplementedError: NotImplementedError,
    backends.FilesystemError: OSError,
    backends.InternalError: RuntimeError,
}


def test_one_class_per_code_rooted_at_error():
    assert set(errors.BY_CODE.values()) == set(BASES)
    for cls, base in BASES.items():
        assert issubclass(cls, backends.Error)
        assert issubclass(cls, base)


def test_invalid_argument(tmp_path):
    store = backends.FileSystemJsonBackend(tmp_path)
    with pytest.raises(backends.InvalidArgumentError, match=r'"\.\./x"'):
        store.dump("../x", 1)
    with pytest.raises(backends.InvalidArgumentError):
        backends.open("nosuch://x")
    with pytest.raises(backends.InvalidArgumentError):
        store.dump("nan", float("nan"))
    with pytest.raises(backends.InvalidArgumentError, match="64 bits"):
        store.dump("big", 2**64)
    with pytest.raises(TypeError, match="not JSON serializable"):
        store.dump("set", {1, 2})
    assert os.listdir(tmp_path) == []


def test_not_found_and_unauthenticated_and_permission(s3_env, s3_prefix):
    with pytest.raises(backends.NotFoundError):
        backends.S3JsonBackend("no-such-bucket-here",
                               endpoint=s3_env["S3_ENDPOINT"], path_style=True)
    wrong = open_s3(backends.S3JsonBackend, s3_env, s3_prefix,
                    access_key_id=s3_env["AWS_ACCESS_KEY_ID"],
                    secret_access_key="wrong-secret", max_attempts=1)
    with pytest.raises(backends.UnauthenticatedError,
                       match="SignatureDoesNotMatch"):
        wrong.load("k")
    assert "wrong-secret" not in repr(wrong)
    store = open_s3(backends.S3RawBackend, s3_env, s3_prefix)
    store.dump("private", b"x")
    anonymous = open_s3(backends.S3RawBackend, s3_env, s3_prefix,
                        anonymous=True, check_bucket=False)
    with pytest.raises(backends.PermissionDeniedError, match="403"):
        anonymous.load("private")
    store.clear()


def test_failed_precondition_and_data_loss(tmp_path):
    store = backends.FileSystemJsonBackend(tmp_path)
    store.dump("a", 1)
    with pytest.raises(backends.FailedPreconditionError):
        store.dump("a/b", 2)
    (tmp_path / "bad").write_text("{not json")
    with pytest.raises(backends.DataLossError):
        store.load("bad")
    with pytest.raises(backends.DataLossError):
        dict(store.items())
    with pytest.raises(backends.DataLossError):
        store.load_many(["a", "bad"])
    assert (tmp_path / "bad").read_text() == "{not json"
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "latin1").write_bytes(b"caf\xe9")
    with pytest.raises(backends.DataLossError):
        backends.FileSystemTextBackend(tmp_path / "t").load("latin1")


def test_unimplemented():
    with pytest.raises(backends.UnimplementedError):
        backends.TextCache().set("k", "v", timeout=1)
    with pytest.raises(NotImplementedError):
        backends.VolatileBackend().dump_stream("k", open(os.devnull, "rb"))


def test_filesystem_error():
    # /proc's folders take no new files: the temporary file cannot be made
    # (as root too, where permissions would not stop it).
    store = backends.FileSystemRawBackend("/proc/self/fdinfo")
    with pytest.raises(backends.FilesystemError, match="temporary file"):
        store.dump("k", b"v")


def test_unavailable(s3_env, s3_prefix):
    with pytest.raises(backends.UnavailableError):
        backends.S3RawBackend(s3_env["S3_BUCKET"],
                              endpoint="http://127.0.0.1:9", path_style=True,
                              max_attempts=1)


def test_already_exists_is_a_file_exists_error():
    error = backends.AlreadyExistsError("dump \"k\": precondition failed")
    assert isinstance(error, FileExistsError)
    assert str(error) == "dump \"k\": precondition failed"


def test_stubs_pass_mypy_strict_on_a_users_program():
    import shutil
    import subprocess
    import sys
    mypy = shutil.which("mypy")
    assert mypy, "mypy (Debian's mypy package) is needed for this test"
    here = pathlib.Path(__file__).resolve().parent
    package = pathlib.Path(backends.__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
         "--cache-dir", os.devnull, str(here / "typing_user.py")],
        env={**os.environ, "MYPYPATH": str(package)},
        capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
