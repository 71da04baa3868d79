"""Benchmark of the command line's start-up: ``planeco territory show 86194`` against ``python -c pass``.

Run ``python -m benchmarks cli`` or ``python -m benchmarks.bench_cli [--repeat N] [--goal S]``. Each
command runs in a fresh process (as a user runs it); prints the median wall time, the median CPU
time (user + system: less sensitive than the wall time to other work on a shared machine), the peak
memory (max RSS) and the ratio to the interpreter's own start-up, and the share spent importing (``-X
importtime``: the CLI modules, the territory package). The goal of issue 10 is < 0.5 s; the
benchmark reports it and exits 1 when the median misses it. Not a pytest test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

GOAL_S = 0.5
COMMAND = ["-m", "planeco_kernel", "territory", "show", "86194"]


def _run(args: list[str]) -> tuple[float, int, float]:
    """Wall time (s), max RSS (KiB) and CPU time (s) of one fresh ``python ARGS`` process (its output
    discarded)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"python {' '.join(args)} failed ({proc.returncode}): {err[-400:]}")
    return elapsed, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def _median(args: list[str], repeat: int) -> tuple[float, float, float]:
    """Median wall time (s), max RSS (MiB) and CPU time (s) of ``repeat`` runs."""
    _run(args)  # warm the OS file cache
    runs = [_run(args) for _ in range(repeat)]
    return (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs) / 1024,
            statistics.median(r[2] for r in runs))


def _import_ms(prefixes: tuple[str, ...]) -> dict[str, float]:
    """Cumulative import time (ms) of the top modules named ``prefixes`` while running the command."""
    proc = subprocess.run([sys.executable, "-X", "importtime", *COMMAND], capture_output=True, text=True)
    out: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _self, cumulative, name = line[len("import time:"):].split("|")
        name = name.strip()
        if name in prefixes and name not in out:
            out[name] = int(cumulative) / 1000
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_cli", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per command (median reported)")
    parser.add_argument("--goal", type=float, default=GOAL_S, help="target median of the command, seconds")
    args = parser.parse_args(argv)
    rep = max(1, args.repeat)
    floor, floor_mb, floor_cpu = _median(["-c", "pass"], rep)
    version, version_mb, version_cpu = _median(["-m", "planeco_kernel", "--version"], rep)
    show, show_mb, show_cpu = _median(COMMAND, rep)
    imports = _import_ms(("typer", "planeco_kernel.cli", "planeco_kernel.territory", "pandas", "pyarrow",
                          "pyarrow.compute", "typer._adapters", "sqlite3"))
    print(f"{'python -c pass':<44} median {floor:7.3f} s   cpu {floor_cpu:6.3f} s   max RSS {floor_mb:6.0f} MiB")
    print(f"{'planeco --version':<44} median {version:7.3f} s   cpu {version_cpu:6.3f} s   "
          f"max RSS {version_mb:6.0f} MiB   ratio {version / floor:5.1f}×")
    print(f"{'planeco territory show 86194':<44} median {show:7.3f} s   cpu {show_cpu:6.3f} s   "
          f"max RSS {show_mb:6.0f} MiB   ratio {show / floor:5.1f}×")
    for name, ms in imports.items():
        print(f"  import {name:<36} {ms:8.1f} ms (cumulative, one run)")
    ok = show < args.goal
    print(f"goal: territory show < {args.goal:.2f} s — {'met' if ok else 'NOT met'} (median {show:.3f} s, n={rep})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
