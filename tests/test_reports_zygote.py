"""The kernel factory never outlives its runner, even when the runner's pipe stays open elsewhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# A runner that starts the factory, forks a child that inherits (and keeps) the write end of the
# factory's stdin, prints the factory's pid, and dies.
RUNNER = textwrap.dedent(
    """
    import os, subprocess, sys, time
    z = subprocess.Popen([sys.executable, "-m", "planeco_kernel.reports.zygote"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    assert z.stdout.readline().strip() == "READY"
    if os.fork() == 0:  # like a multiprocessing worker: holds every inherited descriptor but our output
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        time.sleep(20)
        os._exit(0)
    print(z.pid, flush=True)
    os._exit(0)
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for init to reap it is gone for our purpose
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _gone_within(pid: int, seconds: float, kill) -> bool:
    """Whether ``pid`` ends within ``seconds``; if not, ``kill(pid, 9)`` so that no test leaves it behind."""
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(pid):
        kill(pid, 9)
        return False
    return True


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the factory is POSIX only; /proc for the check")
def test_orphaned_factory_exits_although_its_stdin_is_still_open(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # stderr to a file: the factory inherits it, and a pipe would make `run` wait for the factory
    # itself. The warm-up takes seconds on a quiet machine, a minute or more on a loaded one: the
    # timeout is generous, and on expiry the whole session (runner, factory) is killed.
    with open(tmp_path / "runner.err", "w") as err:
        runner = subprocess.Popen([sys.executable, "-c", RUNNER], env=env, stdout=subprocess.PIPE, stderr=err,
                                  text=True, start_new_session=True)
        try:
            out, _ = runner.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            os.killpg(runner.pid, 9)
            runner.wait()
            raise
    assert runner.returncode == 0, (tmp_path / "runner.err").read_text()
    pid = int(out.split()[0])
    assert _gone_within(pid, 30, os.kill), "the orphaned kernel factory kept running (it holds a warmed interpreter)"


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the factory is POSIX only; /proc for the check")
def test_kernels_exit_when_their_factory_is_killed(tmp_path):
    """`kill -9` of the factory (a killed batch) must not leave its forked kernels running."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    z = subprocess.Popen([sys.executable, "-m", "planeco_kernel.reports.zygote"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert z.stdout.readline().strip() == "READY"
        z.stdin.write(json.dumps({"connection_file": str(tmp_path / "k.json"), "cwd": str(tmp_path), "env": {}}) + "\n")
        z.stdin.flush()
        kernel = int(z.stdout.readline())
        deadline = time.monotonic() + 30
        while not (tmp_path / "k.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)  # the kernel is up once it wrote its connection file
        assert _alive(kernel)
    finally:
        z.kill()
        z.wait()
    assert _gone_within(kernel, 15, os.killpg), "a kernel forked by the factory outlived it"
