"""``planeco serve``: options, Voilà settings, gallery metadata and page (no server started)."""

from __future__ import annotations

import json
import re
import shutil
import socket
from pathlib import Path

import pytest

from planeco_kernel import serve as S
from planeco_kernel.apps.gallery import load_gallery, render_gallery
from planeco_kernel.errors import BundleError, ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_real_gallery_is_valid_and_lists_the_fiche():
    entries = load_gallery(ROOT / "apps")
    assert [e.notebook for e in entries][0] == "fiche_territoire.ipynb"
    for e in entries:
        assert (ROOT / "apps" / e.notebook).is_file() and (ROOT / "apps" / e.thumbnail).is_file()
        assert len(e.description) > 40  # a real sentence, in French


def test_every_app_notebook_is_in_the_gallery_and_thin():
    listed = {e.notebook for e in load_gallery(ROOT / "apps")}
    notebooks = {p.name for p in (ROOT / "apps").glob("*.ipynb")}
    assert notebooks == listed
    for name in notebooks:
        nb = json.loads((ROOT / "apps" / name).read_text(encoding="utf-8"))
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert len(code) <= 2, f"{name}: apps stay thin (logic lives in planeco_kernel.apps)"
        assert all(not c.get("outputs") for c in code), f"{name}: outputs must be stripped"


def _apps(tmp_path: Path, yaml_text: str, files=("a.ipynb", "t.svg")) -> Path:
    for f in files:
        (tmp_path / f).write_text("{}", encoding="utf-8")
    (tmp_path / "gallery.yaml").write_text(yaml_text, encoding="utf-8")
    return tmp_path


GOOD = "apps:\n  - {notebook: a.ipynb, title: A, description: Une application, thumbnail: t.svg}\n"


@pytest.mark.parametrize(("yaml_text", "files", "match"), [
    ("apps: []\n", (), "liste non vide"),
    ("apps: [1]\n", (), "dictionnaire"),
    ("apps:\n  - {notebook: a.ipynb, title: A, thumbnail: t.svg}\n", ("a.ipynb", "t.svg"), r"champs manquants.*description"),
    (GOOD, ("t.svg",), "notebook introuvable « a.ipynb »"),
    (GOOD, ("a.ipynb",), "vignette introuvable « t.svg »"),
    ("apps:\n  - {notebook: ../x.ipynb, title: A, description: d, thumbnail: t.svg}\n", ("t.svg",), "introuvable"),
    ("apps: [\n", (), "YAML invalide"),
])
def test_gallery_errors_say_what_to_fix(tmp_path, yaml_text, files, match):
    with pytest.raises(ConfigError, match=match):
        load_gallery(_apps(tmp_path, yaml_text, files))


def test_gallery_page_escapes_and_links(tmp_path):
    entries = load_gallery(_apps(tmp_path, GOOD.replace("title: A", "title: 'A <b>'")))
    html = render_gallery(entries, base_url="/")
    assert 'href="/voila/render/a.ipynb"' in html
    assert 'src="/voila/files/t.svg"' in html
    assert "A &lt;b&gt;" in html and "<b>" not in html
    assert 'lang="fr"' in html
    assert "http://" not in html and "https://" not in html  # nothing from the network


def test_voila_argv_settings():
    argv = S.voila_argv(S.ServeOptions(port=9999, pool_size=2, cull_idle_s=120, open_browser=False))
    assert "--port=9999" in argv and "--template=planeco" in argv
    assert "--preheat_kernel=True" in argv and "--pool_size=2" in argv
    assert "--MappingKernelManager.cull_idle_timeout=120" in argv
    assert "--strip_sources=True" in argv and "--Voila.open_browser=False" in argv
    allowed = [a.split("=", 1)[1] for a in argv if a.startswith("--VoilaConfiguration.extension_allowlist=")]
    assert set(allowed) == set(S.FRONTEND_EXTENSIONS)
    assert "--preheat_kernel=True" not in S.voila_argv(S.ServeOptions(pool_size=0))


def test_template_is_installed_and_has_no_cdn():
    tpl = S.SHARE_DIR / "voila" / "templates" / S.TEMPLATE_NAME
    assert json.loads((tpl / "conf.json").read_text())["base_template"] == "lab"
    text = (tpl / "index.html.j2").read_text(encoding="utf-8")
    assert re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text) is None  # nothing loaded from a CDN
    css = (tpl / "static" / "planeco.css").read_text(encoding="utf-8")
    assert "#000091" in css and "focus-visible" in css and "@import" not in css


@pytest.mark.parametrize(("kw", "match"), [
    ({"port": 0}, "Port invalide"),
    ({"port": 70000}, "Port invalide"),
    ({"pool_size": -1}, "pool-size"),
    ({"cull_idle_s": -5}, "cull-idle"),
    ({"apps_dir": Path("/nonexistent/apps")}, "--apps-dir"),
])
def test_options_errors(kw, match):
    with pytest.raises(ConfigError, match=match):
        S.ServeOptions(**kw).check()


def test_serve_without_bundle_says_how_to_build(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANECO_DATA_DIR", str(tmp_path / "nothing"))
    with pytest.raises(BundleError, match="make data"):
        S.serve(S.ServeOptions(open_browser=False))


def test_serve_on_a_busy_port_says_so(tmp_path, monkeypatch):
    (tmp_path / "manifest.json").write_text("{}")
    monkeypatch.setenv("PLANECO_DATA_DIR", str(tmp_path))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(ConfigError, match=f"port {port} est déjà utilisé"):
            S.serve(S.ServeOptions(port=port, open_browser=False))


def test_cli_serve_help_and_error(tmp_path, monkeypatch, capsys):
    from planeco_kernel.cli import main

    assert main(["serve", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--port" in out and "--no-browser" in out
    monkeypatch.setenv("PLANECO_DATA_DIR", str(tmp_path / "nothing"))
    assert main(["serve", "--no-browser", "--port", "18999"]) == 2
    assert "make data" in capsys.readouterr().err


def test_make_app_configures_voila(tmp_path, monkeypatch):
    """The Voilà application is built with our template, paths and gallery (not started)."""
    apps = tmp_path / "apps"
    shutil.copytree(ROOT / "apps", apps)
    monkeypatch.setenv("JUPYTER_PATH", "")
    monkeypatch.setattr("os.environ", dict(__import__("os").environ))  # make_app updates os.environ
    app = S.make_app(S.ServeOptions(port=18998, open_browser=False, apps_dir=apps))
    assert app.voila_configuration.template == "planeco"
    assert any(str(S.SHARE_DIR) in p for p in app.template_paths)
    assert app.voila_configuration.preheat_kernel is True
    assert list(app.voila_configuration.extension_allowlist) == list(S.FRONTEND_EXTENSIONS)
