"""A pre-warmed kernel factory: one process that imports everything once, then forks kernels.

``python -m planeco_kernel.reports.zygote`` imports ipykernel, IPython, pandas, matplotlib and
planeco, loads the read-only territory model (:mod:`planeco_kernel.reports.prewarm`), prints
``READY`` and then reads one JSON request per line on stdin::

    {"connection_file": "...", "cwd": "...", "env": {...}}

For each request it forks: the child becomes a brand-new ipykernel (``IPKernelApp`` with that
connection file) whose memory is a copy of the warmed factory — every kernel starts from the
same state, none has ever run user code, so isolation between reports is complete — and the
factory answers with the child's pid. Starting a kernel this way costs a fork and the kernel's
own initialisation (~0.1–0.2 s) instead of a new interpreter plus all imports (~2 s).

The factory never opens a ZeroMQ socket or starts a thread itself (that is what makes fork
safe). When its stdin closes or its parent is gone (the runner ended or was killed), it kills its
kernels and exits.
POSIX only; elsewhere :class:`~planeco_kernel.reports.pool.KernelPool` starts ordinary kernels.
"""

from __future__ import annotations

import json
import os
import signal
import sys


def _child(req: dict) -> None:
    """In the forked child: become an ipykernel and never return."""
    try:
        os.setpgid(0, 0)  # own process group: signals to the kernel never reach the runner
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.environ.update(req.get("env") or {})
        os.environ["JPY_PARENT_PID"] = str(os.getppid())
        os.chdir(req.get("cwd") or os.getcwd())
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        # ipykernel reads JPY_PARENT_PID when it is imported (here: in the factory, before the fork),
        # so the parent to watch is passed explicitly: a kernel whose factory was killed exits.
        app.initialize(["-f", req["connection_file"], f"--IPKernelApp.parent_handle={os.getppid()}"])
        app.start()
    finally:
        os._exit(0)


def _requests(parent: int, every_s: float = 1.0):
    """Lines of stdin until it closes **or the runner is gone** (then the factory is an orphan).

    The end of stdin is not enough: a process forked by the runner (multiprocessing, a worker)
    inherits the write end of the pipe and keeps it open after the runner died, and an orphaned
    factory would hold a whole warmed interpreter (GBs) for ever. The runner writes one request
    and waits for the pid before the next, so no second line is ever buffered behind ``select``.
    """
    import select

    while True:
        ready, _, _ = select.select([sys.stdin], [], [], every_s)
        if not ready:
            if os.getppid() != parent:
                return
            continue
        line = sys.stdin.readline()
        if not line:
            return
        yield line


def main() -> int:
    parent = os.getppid()  # before the slow warm-up, during which the runner may already die
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import ipykernel.ipkernel  # noqa: F401
    import ipykernel.kernelapp  # noqa: F401
    import ipykernel.zmqshell  # noqa: F401
    import matplotlib_inline.backend_inline  # noqa: F401

    from planeco_kernel.reports import prewarm

    prewarm.run()
    out = sys.stdout
    out.write("READY\n")
    out.flush()
    children: list[int] = []
    for line in _requests(parent):
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(req)
        children.append(pid)
        out.write(f"{pid}\n")
        out.flush()
    for pid in children:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
