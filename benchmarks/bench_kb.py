"""Benchmark of the knowledge base: post latency and listing 1,000 threads.

Goals: median post latency < 100 ms; median listing of 1,000 threads < 200 ms.

Usage::

    PYTHONPATH=. python benchmarks/bench_kb.py [--threads 1000] [--posts 60] [--lists 20] [--json out.json]

The knowledge base is seeded in a temporary folder with invented test threads (one bulk
commit, records written exactly as the library writes them), then:

- *post*: ``start_thread``/``reply`` alternately, each a full crash-safe commit (lock, journal,
  objects, ref, working tree, index), from a fresh ``KnowledgeBase`` object as a CLI call would;
- *list*: ``KnowledgeBase(root).threads(viewer)`` from a fresh object (disk cache warm), plus
  the cold case (cache deleted, rebuilt from git) and the incremental case (after one new post).

Exit status 0 when both goals are met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

GOAL_POST_MS = 100.0
GOAL_LIST_MS = 200.0


def _seed(root: Path, n_threads: int) -> None:
    from planeco_kernel.knowledge import KnowledgeBase, Member, frontmatter, model
    from planeco_kernel.knowledge.gitstore import commit_files, locked

    kb = KnowledgeBase.init(root, Member(id="bench-elu", name="Élu (test)", role="elu", territory="69123"))
    kb.add_member(Member(id="bench-agent", name="Agent (test)", role="agent", territory="69266"), actor="bench-elu")
    kinds = list(model.THREAD_KINDS)
    themes = ["mobilité", "énergie", "eau", "alimentation", "biodiversité", "urbanisme"]
    files: dict[str, bytes] = {}
    replies: dict[str, bytes] = {}
    for i in range(n_threads):
        created = model.now_utc()
        tid, pid = model.new_thread_id(created), model.new_record_id(created)
        territory = f"{69 + i % 5}{i % 900 + 1:03d}"
        meta = {
            "id": pid, "thread": tid, "author": "bench-elu", "role": "elu", "territory": territory, "created": created,
            "reply_to": None, "kind": kinds[i % len(kinds)], "audience": "open", "title": f"Fil de test n° {i}",
            "anchor": f"territory:{territory}", "themes": [themes[i % len(themes)]], "addressed_to": [],
            "status": "published", "held_reason": "", "details": {},
        }  # fmt: skip
        body = f"Message de test {i}. " * 20
        files[f"discussions/territory/{territory}/{tid}/{pid}.md"] = frontmatter.dump(meta, body)
        if i % 2:
            rid = model.new_record_id(created)
            reply = {**meta, "id": rid, "reply_to": pid, "kind": "reply", "author": "bench-agent", "role": "agent"}
            replies[f"discussions/territory/{territory}/{tid}/{rid}.md"] = frontmatter.dump(reply, "Réponse de test.")
    # one commit per author, with that author's identity: the integrity rules check it
    with locked(root):
        commit_files(root, files, author=kb.member("bench-elu").git_identity(), message="bench: seed")
        commit_files(root, replies, author=kb.member("bench-agent").git_identity(), message="bench: seed replies")


def run(n_threads: int = 1000, n_posts: int = 60, n_lists: int = 20, workdir: Path | None = None) -> dict[str, float]:
    """Run the benchmark; return timings in milliseconds."""
    from planeco_kernel.knowledge import KnowledgeBase
    from planeco_kernel.knowledge.cache import CACHE_NAME

    tmp = Path(tempfile.mkdtemp(prefix="bench-kb-", dir=workdir))
    root = tmp / "kb"
    try:
        t0 = time.perf_counter()
        _seed(root, n_threads)
        seed_s = time.perf_counter() - t0
        cache_file = root / ".git" / "planeco-kb" / CACHE_NAME
        t0 = time.perf_counter()
        listed = KnowledgeBase(root).threads("bench-elu")
        cold_ms = (time.perf_counter() - t0) * 1000
        assert len(listed) == n_threads, len(listed)

        lists = []
        for _ in range(n_lists):
            t0 = time.perf_counter()
            KnowledgeBase(root).threads("bench-elu")
            lists.append((time.perf_counter() - t0) * 1000)

        posts = []
        thread = listed[0].id
        for i in range(n_posts):
            t0 = time.perf_counter()
            kb = KnowledgeBase(root)
            if i % 2:
                kb.reply("bench-agent", thread, f"Réponse de test {i}")
            else:
                kb.start_thread("bench-elu", kind="rex", title=f"REX de test {i}", body="Corps " * 50, anchor="territory:69123")
            posts.append((time.perf_counter() - t0) * 1000)

        t0 = time.perf_counter()
        KnowledgeBase(root).threads("bench-elu")
        incremental_ms = (time.perf_counter() - t0) * 1000
        cache_file.unlink()
        t0 = time.perf_counter()
        n_final = len(KnowledgeBase(root).threads("bench-elu"))
        rebuild_ms = (time.perf_counter() - t0) * 1000
        assert n_final == n_threads + (n_posts + 1) // 2
        return {
            "threads": n_threads,
            "seed_s": round(seed_s, 2),
            "post_median_ms": round(statistics.median(posts), 2),
            "post_p95_ms": round(sorted(posts)[int(len(posts) * 0.95) - 1], 2),
            "list_median_ms": round(statistics.median(lists), 2),
            "list_cold_ms": round(cold_ms, 2),
            "list_after_post_ms": round(incremental_ms, 2),
            "list_rebuild_ms": round(rebuild_ms, 2),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns 0 when the goals are met."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=1000)
    ap.add_argument("--posts", type=int, default=60)
    ap.add_argument("--lists", type=int, default=20)
    ap.add_argument("--workdir", type=Path, default=None, help="Folder for the temporary knowledge base.")
    ap.add_argument("--json", type=Path, default=None, help="Write the results to this JSON file.")
    args = ap.parse_args(argv)
    res = run(args.threads, args.posts, args.lists, args.workdir)
    ok = res["post_median_ms"] < GOAL_POST_MS and res["list_median_ms"] < GOAL_LIST_MS
    res["goals_met"] = ok
    for k, v in res.items():
        print(f"{k:>20}: {v}")
    print(f"goals: post < {GOAL_POST_MS:.0f} ms, list {args.threads} threads < {GOAL_LIST_MS:.0f} ms -> {'OK' if ok else 'MISSED'}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
