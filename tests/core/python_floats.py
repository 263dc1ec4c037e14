#!/usr/bin/env python3
"""Reads lines "HEXFLOAT TEXT" and checks TEXT == json.dumps(float.fromhex(HEXFLOAT)).
Prints each mismatch; exits 1 if any."""
import json
import sys

bad = 0
for line in open(sys.argv[1]):
    hexfloat, text = line.rstrip("\n").split(" ", 1)
    want = json.dumps(float.fromhex(hexfloat))
    if want != text:
        bad += 1
        if bad <= 20:
            print("mismatch:", hexfloat, "python:", want, "ours:", text)
sys.exit(1 if bad else 0)
