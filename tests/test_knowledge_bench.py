"""The knowledge-base benchmark runs (small sizes) and reports its figures."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_kb_small(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("bench_kb", ROOT / "benchmarks" / "bench_kb.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    res = bench.run(n_threads=40, n_posts=6, n_lists=3, workdir=tmp_path)
    assert res["threads"] == 40 and res["post_median_ms"] > 0 and res["list_median_ms"] > 0
    code = bench.main(["--threads", "40", "--posts", "4", "--lists", "2", "--workdir", str(tmp_path), "--json", str(tmp_path / "r.json")])
    assert code in (0, 1) and "post_median_ms" in capsys.readouterr().out and (tmp_path / "r.json").exists()
