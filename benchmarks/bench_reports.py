"""Benchmark of per-territory reports, three ways on the same territories, side by side.

1. **papermill floor** — a hello-world parameterized notebook executed by
   ``papermill.execute_notebook`` (new kernel each time), sequentially;
2. **naive loop** — ``papermill.execute_notebook`` of ``diagnostic_territoire`` for each
   territory, sequentially (what a user would write);
3. **planeco reports run --workers 2** — the batch runner as a user runs it (a fresh
   ``python -m planeco_kernel`` process: start-up, planning, kernel factory, HTML export and
   manifest included), per report = wall time / number of reports.

Run ``python -m benchmarks.bench_reports [--quick] [--count N] [--workers W]`` (bundle:
``PLANECO_DATA_DIR``). Default: 20 EPCI spread over France (``--quick``: 6). Not a pytest test.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.timing import Timing, measure, ratio_line

ROOT = Path(__file__).resolve().parent.parent


def _territories(count: int) -> list[str]:
    """``count`` EPCI spread evenly over the sorted list of all EPCI (deterministic)."""
    from planeco_kernel.territory import load_model

    codes = sorted(t.code for t in load_model() if t.level == "epci")
    step = max(1, len(codes) // count)
    return codes[::step][:count]


def _hello(path: Path) -> Path:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell('name = "monde"', metadata={"tags": ["parameters"]}),
                             new_code_cell('print(f"Bonjour {name}")')],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, path)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_reports", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="6 EPCI instead of 20")
    ap.add_argument("--count", type=int, default=None, help="number of EPCI (default 20, quick 6)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    count = args.count or (6 if args.quick else 20)

    import papermill as pm

    codes = _territories(count)
    template = ROOT / "parameterized" / "diagnostic_territoire.ipynb"
    print(f"{count} EPCI : {', '.join(codes)}")
    with tempfile.TemporaryDirectory(prefix="planeco-bench-reports-") as tmp:
        tmpd = Path(tmp)
        hello = _hello(tmpd / "hello.ipynb")

        def floor() -> None:
            pm.execute_notebook(str(hello), str(tmpd / "hello-out.ipynb"), parameters={"name": "planeco"},
                                progress_bar=False)

        t_floor = measure("(1) papermill floor: hello-world notebook", floor, repeat=min(count, 7), warmup=1)

        it = iter(codes)

        def naive() -> None:
            code = next(it)
            pm.execute_notebook(str(template), str(tmpd / f"naive-{code}.ipynb"),
                                parameters={"territory": code, "level": "epci", "output_dir": str(tmpd / f"naive-{code}")},
                                progress_bar=False)

        t_naive = measure("(2) naive loop: papermill diagnostic_territoire", naive, repeat=count, warmup=0)

        out = tmpd / "runner"
        cmd = [sys.executable, "-m", "planeco_kernel", "reports", "run", "--level", "epci", "--workers",
               str(args.workers), "--out", str(out), "--no-progress"]
        for c in codes:
            cmd += ["--territory", c]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            print(proc.stdout, proc.stderr, file=sys.stderr)
            return 1
        import json

        durations = [e["duration"] for e in json.loads((out / "manifest.json").read_text())["reports"]]
        t_runner = Timing(f"(3) planeco reports run --workers {args.workers} (wall/N)", [wall / count])
        t_each = Timing("    one report inside the runner (worker time)", durations)

    print(t_floor.row("s"))
    print(t_naive.row("s"))
    print(t_runner.row("s") + f"   total {wall:.1f} s for {count} reports")
    print(t_each.row("s"))
    print(ratio_line("speed-up of (3) over (2)", t_naive, t_runner))
    print(f"{'cost above the floor, naive (2) - (1)':<48} {t_naive.median - t_floor.median:+10.3f} s per report")
    print(f"{'cost above the floor, runner (3) - (1)':<48} {t_runner.median - t_floor.median:+10.3f} s per report")
    print(f"{'cost above the floor, in-runner report - (1)':<48} {t_each.median - t_floor.median:+10.3f} s per report")
    return 0


if __name__ == "__main__":
    sys.exit(main())
