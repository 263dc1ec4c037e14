"""Timing and output shared by the Python baselines (standard library only)."""

import json
import sys
import time


def measure(body, min_time):
    """Calls body(i) for i = 0, 1, ... until min_time seconds have passed.

    Returns (nanoseconds per call, calls)."""
    calls, start = 0, time.perf_counter()
    while True:
        for _ in range(16):
            body(calls)
            calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed * 1e9 / calls, calls


def run_cases(cases, repetitions, min_time):
    """Runs each (name, run) case `repetitions` times, interleaved; run takes
    min_time and returns (ns per operation, iterations). Returns Google
    Benchmark's "benchmarks" entries."""
    results = []
    for rep in range(repetitions):
        for name, run in cases:
            ns, iterations = run(min_time)
            results.append({
                "name": name, "run_name": name, "run_type": "iteration",
                "repetitions": repetitions, "repetition_index": rep,
                "iterations": iterations, "real_time": ns, "time_unit": "ns",
            })
    return results


def write_results(path, results, **context):
    """Writes Google Benchmark's JSON shape, read by bench/report.py."""
    with open(path, "w") as f:
        json.dump({"context": dict(executable=sys.executable, **context),
                   "benchmarks": results}, f, indent=2)
