#!/usr/bin/env python3
"""Writes and checks folders exactly as the original Python library does.

The original stores each key as ROOT/key (sub-folders for '/') holding
json.dump(value, f, sort_keys=True, indent=4, separators=(',', ': ')).

  original_format.py write DIR    write the sample values
  original_format.py verify DIR   check DIR holds them, byte for byte
"""
import json
import os
import sys

SAMPLES = {
    "plain": {"name": "Ada", "age": 36, "admin": True, "manager": None},
    "users/42": {"z": 1, "a": [1, 2, {"y": "x", "b": []}], "m": {}},
    "nested/deeper/still": [1.5, 0.1, -0.0, 1e16, 1e15, 1e-05, 0.0001,
                            123456789.123, 2.5e-300, 1.7976931348623157e308,
                            -42, 18446744073709551615, -9223372036854775808],
    "unicode": {"caf\u00e9": "\u4e2d\u6587", "emoji": "\U0001F600",
                "ctrl": "tab\there\nnl \"q\" \\ \u0001 \u007f"},
    "\u4e2d/\u4ec0\u4e48": "a string value",
    "with space": 3.14159,
    "empty-object": {},
    "empty-array": [],
    "scalar-true": True,
    "scalar-null": None,
}


def dump_text(value):
    return json.dumps(value, sort_keys=True, indent=4, separators=(",", ": "))


def write(root):
    for key, value in SAMPLES.items():
        path = os.path.join(root, key)
        os.makedirs(os.path.dirname(path) or root, exist_ok=True)
        with open(path, "w") as f:
            json.dump(value, f, sort_keys=True, indent=4, separators=(",", ": "))


def verify(root):
    bad = 0
    for key, value in SAMPLES.items():
        path = os.path.join(root, key)
        with open(path, "rb") as f:
            data = f.read()
        if json.loads(data.decode("utf-8")) != value:
            print("value differs:", key)
            bad += 1
        if data != dump_text(value).encode("ascii"):
            print("bytes differ:", key, data[:80])
            bad += 1
    return bad


if __name__ == "__main__":
    mode, root = sys.argv[1], sys.argv[2]
    if mode == "write":
        write(root)
    elif mode == "keys":
        print("\n".join(sorted(SAMPLES)))
    else:
        sys.exit(1 if verify(root) else 0)
