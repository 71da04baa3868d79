"""planeco benchmarks: ``python -m benchmarks [NAME ...]`` (``make bench``).

Each ``bench_<name>.py`` module exposes ``main(argv=None) -> int`` and prints medians (and ratios
where a naive reference or a floor is measured beside the real thing). Performance targets from the
issues are checked here, not in timed unit tests.
"""
