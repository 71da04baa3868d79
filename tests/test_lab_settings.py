"""JupyterLab makes no calls home: the setup installed our settings overrides and server config.

``make setup`` copies ``planeco_kernel/share/jupyter/lab/settings/overrides.json`` and
``planeco_kernel/share/etc/jupyter/jupyter_lab_config.json`` into the environment
(see ``planeco_kernel/share/README.md``). These tests check the installed copies, that they
say what they must, and that the setting names still exist in the installed JupyterLab (a
renamed setting would silently stop working).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARE = ROOT / "planeco_kernel" / "share"
OVERRIDES = Path("share/jupyter/lab/settings/overrides.json")
LAB_CONFIG = Path("etc/jupyter/jupyter_lab_config.json")
SOURCES = {OVERRIDES: SHARE / "jupyter/lab/settings/overrides.json", LAB_CONFIG: SHARE / "etc/jupyter/jupyter_lab_config.json"}
"""Installed path (relative to the environment's prefix) -> the file of the repository."""
HINT = "run `make setup` (it installs planeco_kernel/share/ into the environment)"


@pytest.mark.parametrize("rel", [OVERRIDES, LAB_CONFIG], ids=["lab-overrides", "lab-config"])
def test_the_setup_installed_our_file(rel):
    installed = Path(sys.prefix) / rel
    assert installed.is_file(), f"{installed} is missing: {HINT}"
    assert json.loads(installed.read_text()) == json.loads(SOURCES[rel].read_text()), f"{installed} is outdated: {HINT}"


def test_overrides_turn_the_news_feed_and_update_checks_off():
    installed = json.loads((Path(sys.prefix) / OVERRIDES).read_text())
    notif = installed["@jupyterlab/apputils-extension:notification"]
    assert notif["fetchNews"] == "false"     # « Never »: the question is not asked, no feed is fetched
    assert notif["checkForUpdates"] is False


def test_override_names_exist_in_the_installed_jupyterlab_schemas():
    overrides = json.loads(SOURCES[OVERRIDES].read_text())
    schemas = Path(sys.prefix) / "share" / "jupyter" / "lab" / "schemas"
    for plugin, values in overrides.items():
        package, name = plugin.split(":")
        schema = json.loads((schemas / package / f"{name}.json").read_text())
        for key, value in values.items():
            prop = schema["properties"].get(key)
            assert prop is not None, f"{plugin}: JupyterLab has no setting {key!r} any more"
            allowed = [o["const"] for o in prop.get("oneOf", [])]
            assert not allowed or value in allowed, f"{plugin}.{key}: {value!r} not in {allowed}"


def test_lab_config_disables_news_update_checks_and_extension_installs():
    from jupyterlab.handlers.announcements import NeverCheckForUpdate
    from jupyterlab.labapp import LabApp

    # the config file JupyterLab really loads (jupyter_lab_config on the Jupyter config path)
    lab = LabApp()
    lab.load_config_file()
    assert lab.news_url is None
    assert lab.check_for_updates_class is NeverCheckForUpdate
    assert lab.extension_manager == "readonly"
