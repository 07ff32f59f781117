"""Peak memory of `sahabat-nifas analyze` on a large CSV (it streams its input).

    python -m bench.analyze_memory [--mb 50]

Writes a milk-flow CSV of about --mb megabytes (two rows per mother) to a temporary folder,
runs the analysis in a child process and prints the child's peak resident memory.
"""
from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLOWS = ("not_out", "not_smooth", "smooth")


def write_csv(path: Path, megabytes: int) -> int:
    rng = random.Random(1)
    target = megabytes * 1024 * 1024
    written = mothers = 0
    with path.open("w", encoding="utf-8") as f:
        f.write("mother_id,phase,milk_flow\n")
        while written < target:
            mothers += 1
            pre, post = rng.randrange(2), rng.randrange(3)
            chunk = f"M-{mothers:08d},pre,{FLOWS[pre]}\nM-{mothers:08d},post,{FLOWS[post]}\n"
            f.write(chunk)
            written += len(chunk)
    return mothers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.csv"
        mothers = write_csv(path, args.mb)
        size = path.stat().st_size / 1024 / 1024
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "analysis.cli", str(path), "--json"], check=True,
                       stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"CSV {size:.0f} MB, {mothers:,} mothers: peak RSS {peak:.0f} MB, {seconds:.1f} s")


if __name__ == "__main__":
    main()
