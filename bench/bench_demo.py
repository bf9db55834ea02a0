"""Benchmark: ``lantian demo`` end to end (every analysis on the bundled data), target < 60 s.

Runs the demo into a temporary folder in this process and prints the total wall time and, per
analysis, the timings its manifest records (read, run, map, write).

Usage: ``PYTHONPATH=. python -m bench.bench_demo``
"""

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from analyses import cli


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        rc = cli.main(["demo", "--out", tmp, "-q"])
        total = time.perf_counter() - t0
        assert rc == 0, f"lantian demo exited {rc}"
        for manifest in sorted(Path(tmp, "layers").glob("*/manifest.json")):
            m = json.loads(manifest.read_text(encoding="utf-8"))
            timings = m.get("timings", {})
            print(f"  {manifest.parent.name:20s} " + "  ".join(
                f"{k} {v:6.2f}" for k, v in timings.items() if isinstance(v, int | float)))
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak = kib / 1024 if sys.platform != "darwin" else kib / 2**20
    print(f"lantian demo end to end: {total:.1f} s (target < 60 s: "
          f"{'met' if total < 60 else 'NOT met'}); peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
