"""Peak RSS and time of reading every key of a folder store from Python:
iter(store) (pages of 1,000 keys, list_page) against store.keys() (every
key at once), one mode per process so ru_maxrss is its own.

  PYTHONPATH=build-py/python /usr/bin/python3 bench/python_page_rss.py ROOT iter|keys
"""
import os, resource, sys, time
import backends
root, mode = sys.argv[1], sys.argv[2]
store = backends.FileSystemRawBackend(root)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
if mode == "iter":
    n = sum(1 for _ in store)
else:
    n = len(store.keys())
dt = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"{mode} keys={n} seconds={dt:.2f} peak_rss_above_start_MiB={(peak-base)/1024:.1f}")
