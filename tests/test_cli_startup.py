"""Start-up of the command line: a command imports only what it uses.

The time itself is measured by ``python -m benchmarks cli`` (issue 10: ``planeco territory show``
< 0.5 s); these tests pin what makes it possible, on the INVENTED bundle of
``tests/fixtures/territory/fake_bundle.py``: ``planeco territory show`` builds only the
``territory`` group, reads no table it does not need, and — reading the bundle's territory index
(:mod:`planeco_kernel.bundle.territory_index`) — imports neither pandas, xarray, pyarrow nor numpy;
without an index (an older bundle) it reads the Parquet tables, still without pandas, xarray,
``pyarrow.dataset`` or ``pyarrow.compute``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.territory.fake_bundle import write_fake_bundle
from planeco_kernel.cli import _GROUPS, _ROOT_COMMANDS, _only, build_app

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys
from planeco_kernel.cli import main
rc = main(sys.argv[1:])
print(json.dumps({"rc": rc, "modules": sorted(m for m in sys.modules if m.split('.')[0] in
      ('pandas', 'xarray', 'pyarrow', 'numpy', 'planeco_kernel', 'ipywidgets', 'shapely', 'rich'))}),
      file=sys.stderr)
"""


@pytest.fixture(scope="module")
def fake_bundle(tmp_path_factory) -> Path:
    """The invented bundle with its territory index, as the build writes it."""
    return write_fake_bundle(tmp_path_factory.mktemp("startup") / "bundle", index=True)


@pytest.fixture(scope="module")
def bundle_without_index(tmp_path_factory) -> Path:
    return write_fake_bundle(tmp_path_factory.mktemp("startup-noindex") / "bundle")


def _probe(bundle: Path, *args: str) -> tuple[int, str, set[str]]:
    env = {**os.environ, "PLANECO_DATA_DIR": str(bundle), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env,
                          timeout=120)
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    return report["rc"], proc.stdout, set(report["modules"])


def test_territory_show_imports_only_what_it_uses(fake_bundle):
    rc, out, modules = _probe(fake_bundle, "territory", "show", "01001")
    assert rc == 0 and "Clé : commune:01001" in out and "Population municipale" in out
    for heavy in ("pandas", "xarray", "pyarrow", "numpy", "ipywidgets", "shapely", "rich"):
        assert heavy not in modules, heavy
    other_groups = {f"planeco_kernel.cli.{m}" for _n, m, _a, _h in _GROUPS} - {"planeco_kernel.cli.territory"}
    assert not (modules & other_groups), modules & other_groups
    # the tables a commune's summary needs, and no other
    assert "planeco_kernel.territory.names" not in modules  # no name index for a code
    assert "planeco_kernel.indicators" not in modules


def test_an_epci_is_shown_from_the_index_alone(fake_bundle):
    rc, out, modules = _probe(fake_bundle, "territory", "show", "200046977", "--json")
    assert rc == 0 and json.loads(out)["key"] == "epci:200046977"
    assert not {"pyarrow", "numpy", "pandas"} & modules


def test_without_an_index_the_tables_are_read(bundle_without_index, fake_bundle):
    rc, out, modules = _probe(bundle_without_index, "territory", "show", "01001")
    assert rc == 0 and "pyarrow" in modules  # the Parquet tables, as before the index
    for heavy in ("pandas", "xarray", "pyarrow.dataset", "pyarrow.compute", "ipywidgets", "shapely"):
        assert heavy not in modules, heavy
    assert out == _probe(fake_bundle, "territory", "show", "01001")[1]  # the same summary


def test_a_name_still_resolves_and_errors_still_exit_2(fake_bundle):
    rc, _out, _mods = _probe(fake_bundle, "territory", "show", "Nulle-Part-Sur-Rien")
    assert rc == 2


def test_only_names_the_group_or_root_command():
    assert _only(["territory", "show", "86194"]) == "territory"
    assert _only(["compare", "86194"]) == "compare"
    assert _only(["--version"]) is None and _only([]) is None and _only(["nonsense"]) is None


def test_a_partial_application_has_just_its_group():
    names = {c.name for c in _typer_groups(build_app("territory"))}
    assert names == {"territory"}
    for cmd, module in _ROOT_COMMANDS.items():
        partial = build_app(cmd)
        assert cmd in {c.name for c in partial.registered_commands}, (cmd, module)


def test_the_whole_application_lists_every_group():
    full = build_app()
    assert {c.name for c in _typer_groups(full)} == {n for n, *_ in _GROUPS if n is not None}
    assert {c.name for c in full.registered_commands} == set(_ROOT_COMMANDS)


def _typer_groups(app):
    return app.registered_groups
