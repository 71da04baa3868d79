"""Settings are passed explicitly: no step changes the process environment mid-run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from planeco_kernel.reports import executor


@pytest.fixture(scope="module")
def kernels():
    yield
    executor.close_pool()


def test_report_task_data_dir_reaches_its_kernel_only(tmp_path, bundle_dir, kernels, monkeypatch):
    """A task planned on another bundle: its kernel sees that bundle, the worker's environment is unchanged."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[
        new_code_cell('output_dir = ""', metadata={"tags": ["parameters"]}),
        new_code_cell("import os, pathlib\n"
                      "pathlib.Path(output_dir, 'seen.txt').write_text(os.environ.get('PLANECO_DATA_DIR', ''))"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    template = tmp_path / "seen.ipynb"
    nbformat.write(nb, template)
    other = tmp_path / "elsewhere"  # the worker's own setting, deliberately not the task's bundle
    monkeypatch.setenv("PLANECO_DATA_DIR", str(other))
    executor.close_pool()  # a factory started with this environment
    before = dict(os.environ)
    out = tmp_path / "out"
    task = executor.Task(level="commune", code="69123", name="Lyon", template_path=str(template),
                         template_name="seen", parameters={}, out_dir=str(out), inputs_hash="x" * 64,
                         data_dir=str(bundle_dir))
    outcome = executor.execute_task(task)
    assert outcome["status"] == "ok", outcome
    seen = Path(executor.report_dir(out, "commune", "69123"), "seen.txt").read_text()
    assert seen == str(bundle_dir)
    assert dict(os.environ) == before  # nothing set or left behind in this process


def test_build_does_not_touch_the_environment():
    """The build gets `offline` from its options; it never sets PLANECO_OFFLINE in os.environ."""
    import inspect

    from planeco_kernel.bundle import build

    src = inspect.getsource(build)
    assert "os.environ[" not in src and "environ.pop" not in src and "putenv" not in src


def test_using_settings_is_local_and_leaves_the_environment(tmp_path, monkeypatch):
    """`config.using` makes a run offline for its own thread only; os.environ is never written."""
    import threading

    from planeco_kernel import config
    from planeco_kernel.errors import SourceUnavailableError
    from planeco_kernel.sources.fetch import Cache, fetch_url

    monkeypatch.delenv("PLANECO_OFFLINE", raising=False)
    monkeypatch.setenv("PLANECO_DATA_DIR", str(tmp_path / "bundle"))
    before = dict(os.environ)
    settings = config.Settings.from_env(offline=True)
    assert settings.data_dir == (tmp_path / "bundle").resolve() and settings.offline
    with pytest.raises(AttributeError):
        settings.offline = False  # type: ignore[misc]  # frozen
    seen_elsewhere: list[bool] = []
    with config.using(settings):
        assert config.offline() and config.current() is settings
        with pytest.raises(SourceUnavailableError, match="hors ligne"):
            fetch_url("https://example.invalid/fichier.csv", cache=Cache(tmp_path / "cache"), retries=1)
        t = threading.Thread(target=lambda: seen_elsewhere.append(config.offline()))
        t.start()
        t.join()
        assert dict(os.environ) == before
    assert seen_elsewhere == [False]  # another thread (another kernel request) is not affected
    assert not config.offline()
    assert dict(os.environ) == before
