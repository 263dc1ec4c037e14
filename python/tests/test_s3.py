"""The S3 classes on the radosgw the test command starts: the original's
extras, batches, presign, streams, gzip and content types, and a stalled GET
in one thread that does not stop another thread's work."""

import io
import json
import os
import socket
import threading
import urllib.error
import urllib.request

import pytest

import backends
from conftest import open_s3


@pytest.fixture
def raw(s3_env, s3_prefix):
    store = open_s3(backends.S3RawBackend, s3_env, s3_prefix)
    yield store
    store.clear()
    store.close()


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read(), answer.headers


def test_json_store_format_and_content_type(s3_env, s3_prefix):
    store = open_s3(backends.S3JsonBackend, s3_env, s3_prefix)
    value = {"b": 1, "a": ["caf\u00e9"]}
    assert store.dump("users/42", value) is True
    assert store.load("users/42") == value
    raw = open_s3(backends.S3RawBackend, s3_env, s3_prefix)
    expected = json.dumps(value, sort_keys=True, indent=4,
                          separators=(",", ": "))
    assert raw.load("users/42") == expected.encode()
    url = store.presign("users/42", 60)
    body, headers = fetch(url)
    assert body == expected.encode()
    assert headers["Content-Type"] == "application/json"
    store.clear()


def test_urls_and_acls(raw, s3_env, s3_prefix):
    raw.dump("pub lic/é", b"hello")
    url = raw.url("pub lic/é")
    assert url.startswith(s3_env["S3_ENDPOINT"])
    assert "pub%20lic/%C3%A9" in url
    assert raw.url(s3_env["S3_BUCKET"], "k") == \
        s3_env["S3_ENDPOINT"] + "/" + s3_env["S3_BUCKET"] + "/k"
    assert raw.url().startswith("s3://" + s3_env["S3_BUCKET"])
    with pytest.raises(urllib.error.HTTPError):
        fetch(url)
    assert raw.make_public("pub lic/é") is True
    assert fetch(url)[0] == b"hello"
    assert raw.make_private("pub lic/é") is True
    with pytest.raises(urllib.error.HTTPError):
        fetch(url)
    with pytest.raises(backends.FailedPreconditionError):
        raw.make_public("missing")
    assert "SECRET" not in repr(raw).upper()
    assert s3_env["AWS_SECRET_ACCESS_KEY"] not in repr(raw)


def test_raw_dump_forms_gzip_and_cache_control(raw):
    raw.dump("text", "caf\u00e9")
    assert raw.load("text") == "caf\u00e9".encode()
    raw.dump("buffer", bytearray(b"\x00\x01"))
    assert raw.load("buffer") == b"\x00\x01"
    script = b"function f() { return 1; }\n" * 100
    raw.dump("app.js", script, cache_age=60)
    assert raw.load("app.js") == script
    body, headers = fetch(raw.presign("app.js", 60))
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Content-Type"] == "application/javascript"
    assert headers["Cache-Control"] == "public, max-age=60"
    assert len(body) < len(script)
    with pytest.raises(TypeError):
        raw.dump("bad", 42)


def test_streams(raw, tmp_path):
    big = os.urandom(9 << 20)  # above the 8 MiB multipart threshold
    source = tmp_path / "big"
    source.write_bytes(big)
    with open(source, "rb") as f:
        assert raw.dump("big", f) is True
    out = io.BytesIO()
    assert raw.load_stream("big", out) is True
    assert out.getvalue() == big
    assert raw.load_to_file("big", str(tmp_path / "copy")) is True
    assert (tmp_path / "copy").read_bytes() == big
    assert raw.load_to_file("missing", str(tmp_path / "no")) is False
    assert not (tmp_path / "no").exists()
    assert raw.dump_file("again", str(source)) is True
    assert raw.load("again") == big
    with open(tmp_path / "text.txt", "w", encoding="utf-8") as f:
        f.write("caf\u00e9 " * 1000)
    with open(tmp_path / "text.txt", encoding="utf-8") as f:
        raw.dump("text", f)
    text_out = io.StringIO()
    assert raw.load_stream("text", text_out) is True
    assert text_out.getvalue() == "caf\u00e9 " * 1000
    assert raw.load_stream("missing", io.BytesIO()) is False

    class Failing(io.RawIOBase):
        def readinto(self, buffer):
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        raw.dump("failing", Failing())
    assert raw.load("failing") is None


def test_open_url_types(s3_env, s3_prefix):
    base = (f"s3://{s3_env['S3_BUCKET']}/{s3_prefix}?endpoint="
            f"{s3_env['S3_ENDPOINT']}&path_style=1")
    assert type(backends.open(base)) is backends.S3RawBackend
    store = backends.open(base + "&format=json")
    assert type(store) is backends.S3JsonBackend
    store.dump("k", [1])
    assert type(backends.open(base + "&format=text")) is \
        backends.S3TextBackend
    cache = backends.open(base + "&cache=json&timeout=60")
    assert type(cache) is backends.JsonCache
    cache.set("c", {"v": 1})
    assert cache.get("c") == {"v": 1}
    store.clear()


class StallingProxy:
    """Forwards TCP to the server, but holds any request naming `stall`."""

    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.release = threading.Event()
        self.stalled = threading.Event()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            threading.Thread(target=self.pipe, args=(client, upstream, True),
                             daemon=True).start()
            threading.Thread(target=self.pipe, args=(upstream, client, False),
                             daemon=True).start()

    def pipe(self, source, sink, requests):
        try:
            while data := source.recv(65536):
                if requests and b"/stall" in data:
                    self.stalled.set()
                    self.release.wait()
                    return
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.release.set()
        self.server.close()


def test_stalled_get_does_not_block_other_threads(s3_env, s3_prefix):
    port = int(s3_env["S3_ENDPOINT"].rsplit(":", 1)[1])
    proxy = StallingProxy(port)
    store = backends.S3JsonBackend(
        s3_env["S3_BUCKET"], endpoint=f"http://127.0.0.1:{proxy.port}",
        path_style=True, prefix=s3_prefix, stall_timeout=3, max_attempts=1)
    store.dump("other", {"v": 1})
    outcome = {}

    def stalled_load():
        try:
            store.load("stall")
        except BaseException as error:  # reported below
            outcome["error"] = error

    thread = threading.Thread(target=stalled_load)
    thread.start()
    assert proxy.stalled.wait(10)
    # While that GET hangs (GIL released), this thread keeps working.
    for i in range(20):
        store.dump(f"k{i}", i)
        assert store.load(f"k{i}") == i
    assert thread.is_alive()
    thread.join(30)
    assert isinstance(outcome.get("error"), backends.DeadlineExceededError)
    proxy.close()
    store.clear()
