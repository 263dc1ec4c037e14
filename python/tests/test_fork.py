"""A store opened before os.fork() works in the child, or raises a clear
error; it never hangs or corrupts the parent's connections."""

import contextlib
import os
import threading

import pytest

import backends
from conftest import open_s3


def in_child(work):
    """Runs work() in a forked child; returns its exit code (0: passed)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            work()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_local_stores_work_in_the_child(tmp_path):
    memory = backends.VolatileBackend()
    memory.dump("k", 1)
    folder = backends.FileSystemJsonBackend(tmp_path / "f")
    cache = backends.JsonCache(tmp_path / "c")
    cache.set("c", 2)

    def child():
        assert memory.load("k") == 1
        memory.dump("k", 10)  # the child's own copy
        folder.dump("from-child", 3)
        assert cache.get("c") == 2

    assert in_child(child) == 0
    assert memory.load("k") == 1
    assert folder.load("from-child") == 3


def test_s3_store_is_reopened_in_the_child(s3_env, s3_prefix):
    store = open_s3(backends.S3JsonBackend, s3_env, s3_prefix)
    store.dump("k", 1)  # a keep-alive connection now exists

    def child():
        for i in range(20):
            store.dump(f"child{i}", i)
            assert store.load(f"child{i}") == i

    pids = [in_child(child) for _ in range(2)]
    for i in range(20):  # the parent's connections still work
        assert store.load("k") == 1
    assert pids == [0, 0]
    assert store.load("child19") == 19
    store.clear()


@contextlib.contextmanager
def call_in_flight(dump_stream):
    """Runs dump_stream("k", source) in a thread, blocked inside the call
    (in the source's read()) until the block ends."""
    entered, release = threading.Event(), threading.Event()

    class Blocking:
        def read(self, n):
            entered.set()
            release.wait()
            return b""

    thread = threading.Thread(target=dump_stream, args=("k", Blocking()))
    thread.start()
    assert entered.wait(10)
    try:
        yield
    finally:
        release.set()
        thread.join()


def test_memory_store_in_use_at_fork_raises_in_the_child():
    store = backends.VolatileRawBackend()

    def child():
        with pytest.raises(backends.FailedPreconditionError,
                           match="in use by another thread"):
            store.load("k")

    with call_in_flight(store.dump_stream):
        assert in_child(child) == 0
    assert store.load("k") == b""


def test_read_through_in_use_at_fork_makes_its_memory_front_unusable(tmp_path):
    front = backends.VolatileRawBackend()
    back = backends.FileSystemRawBackend(tmp_path)
    layer = backends.ReadThroughBackend(front, back)

    def child():
        with pytest.raises(backends.FailedPreconditionError):
            front.load("k")
        back.dump("from-child", b"x")  # a folder is reopened, and works

    with call_in_flight(layer.dump_stream):
        assert in_child(child) == 0
    assert back.load("from-child") == b"x"
