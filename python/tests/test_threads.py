"""One store shared by many threads: every value read back whole, never a
mix of two writes (the GIL is released during each call, so the threads
really run the C++ calls at once)."""

import threading

import pytest

import backends

STORES = {
    "VolatileBackend": lambda tmp: backends.VolatileBackend(),
    "FileSystemJsonBackend": lambda tmp: backends.FileSystemJsonBackend(tmp),
    "JsonCache": lambda tmp: backends.JsonCache(tmp, 60),
}


@pytest.mark.parametrize("name", STORES)
def test_threads_share_a_store(name, tmp_path):
    store = STORES[name](tmp_path)
    failures = []

    def work(t):
        try:
            for i in range(150):
                mine = {"thread": t, "i": i, "pad": "x" * (t * 50)}
                store.dump(f"t{t}/k{i % 10}", mine)
                assert store.load(f"t{t}/k{i % 10}") == mine
                store.dump("shared", mine)
                seen = store.load("shared")
                assert seen["pad"] == "x" * (seen["thread"] * 50)
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(store) == 8 * 10 + 1
