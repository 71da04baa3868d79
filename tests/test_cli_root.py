"""The root command: version, help, and usage errors turned into messages (never tracebacks)."""

from __future__ import annotations

import pytest

from planeco_kernel import __version__
from planeco_kernel.cli import main


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"planeco {__version__}"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["territory", "show"], "Missing"),
        (["commande-inconnue"], "No such command"),
        (["territory", "search", "lyon", "--level", "canton"], ""),
        (["data", "build", "--option-inconnue"], "No such option"),
    ],
)
def test_usage_errors_are_messages_not_tracebacks(argv, expected, capsys):
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2
    assert "Traceback" not in err
    assert expected in err


@pytest.mark.parametrize("group", ["data", "territory", "indicators", "kb", "reports"])
def test_every_command_group_has_help(group, capsys):
    assert main([group, "--help"]) == 0
    assert "Usage" in capsys.readouterr().out
