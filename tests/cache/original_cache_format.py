#!/usr/bin/env python3
"""Writes and checks JsonCache folders exactly as the original library does.

The original JsonCache stores each key as ROOT/key holding
json.dump({"content": value, "expiration": stamp}, f, sort_keys=True,
indent=4, separators=(',', ': ')) where stamp is
(datetime.utcnow() + timedelta(seconds=timeout)).strftime('%Y-%m-%dT%H:%M:%S').
"now" is passed in (seconds since the epoch) instead of read from the clock.
Run with Debian's /usr/bin/python3 (standard library only).

  original_cache_format.py samples             print the samples as JSON
  original_cache_format.py write DIR NOW       write them as the original
  original_cache_format.py verify DIR NOW      check DIR holds, byte for byte,
                                               what the original would write
  original_cache_format.py get DIR NOW KEY     the original's get(): prints
                                               the content as JSON, or null
"""
import datetime
import json
import os
import sys

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
NEVER = "9999-12-31T23:59:59"

# key -> (content, timeout in seconds; None = never expires)
SAMPLES = {
    "plain": ({"name": "Ada", "age": 36, "admin": True, "none": None}, 300),
    "users/42": ({"z": 1, "a": [1, 2, {"y": "x", "b": []}], "m": {}}, 3600),
    "short": ([1.5, 0.1, -42, 1e16, 1e-05, 18446744073709551615], 30),
    "unicode": ({"caf\u00e9": "\u4e2d\u6587", "emoji": "\U0001F600",
                 "ctrl": "tab\there\nnl \"q\" \\ \u0001"}, 600),
    "\u4e2d/\u4ec0\u4e48": (["a list", {"k": "v"}], 120),
    "never": ({"forever": True}, None),
}


def utc(now):
    return datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=now)


def envelope(content, now, timeout):
    if timeout is None:
        stamp = NEVER
    else:
        stamp = (utc(now) + datetime.timedelta(seconds=timeout)).strftime(
            TIME_FORMAT)
    return {"expiration": stamp, "content": content}


def dump_text(value):
    return json.dumps(value, sort_keys=True, indent=4, separators=(",", ": "))


def write(root, now):
    for key, (content, timeout) in SAMPLES.items():
        path = os.path.join(root, key)
        os.makedirs(os.path.dirname(path) or root, exist_ok=True)
        with open(path, "w") as f:
            json.dump(envelope(content, now, timeout), f, sort_keys=True,
                      indent=4, separators=(",", ": "))


def get(root, now, key):
    """The original's JsonCache.get, with `now` for datetime.utcnow()."""
    try:
        with open(os.path.join(root, key)) as f:
            data = json.load(f)
    except IOError:
        return None
    if utc(now) > datetime.datetime.strptime(data["expiration"], TIME_FORMAT):
        return None
    return data["content"]


def verify(root, now):
    bad = 0
    for key, (content, timeout) in SAMPLES.items():
        with open(os.path.join(root, key), "rb") as f:
            data = f.read()
        want = dump_text(envelope(content, now, timeout)).encode("ascii")
        if data != want:
            print("bytes differ:", key, data[:200], "want", want[:200])
            bad += 1
        if get(root, now, key) != content:
            print("original's get differs:", key)
            bad += 1
    return bad


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "samples":
        print(json.dumps({k: {"content": c, "timeout": t}
                          for k, (c, t) in SAMPLES.items()}))
    elif mode == "write":
        write(sys.argv[2], int(sys.argv[3]))
    elif mode == "get":
        print(json.dumps(get(sys.argv[2], int(sys.argv[3]), sys.argv[4])))
    else:
        sys.exit(1 if verify(sys.argv[2], int(sys.argv[3])) else 0)
