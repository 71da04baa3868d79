"""Scheduling report batches: a cron entry or a systemd user timer from a French schedule.

``planeco reports schedule --level scot --all --at "lundi 06:00"`` prints the cron line (or,
with ``--systemd``, the two unit files) and, with ``--install``, installs it for the current
user: the crontab gets one line tagged ``# planeco-reports:<name>`` (replaced, never
duplicated, on a new install); systemd units go to ``~/.config/systemd/user`` and the timer
is enabled. The scheduled command is the same ``run`` command, so a weekly batch only redoes
the reports whose inputs changed.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from planeco_kernel.errors import ConfigError

DAYS = {"lundi": 1, "mardi": 2, "mercredi": 3, "jeudi": 4, "vendredi": 5, "samedi": 6, "dimanche": 0}
DAYS_SYSTEMD = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 0: "Sun"}
EVERY_DAY = ("tous les jours", "chaque jour", "quotidien", "quotidiennement")
TAG = "# planeco-reports:"
ENV_KEYS = ("PLANECO_DATA_DIR", "PLANECO_MIRROR", "PLANECO_CACHE", "PLANECO_OFFLINE", "PLANECO_TEMPLATES", "PYTHONPATH")


@dataclass(frozen=True)
class When:
    """A weekly or daily time: ``weekday`` 0 (dimanche) … 6, or ``None`` for every day."""

    weekday: int | None
    hour: int
    minute: int

    def cron(self) -> str:
        return f"{self.minute} {self.hour} * * {'*' if self.weekday is None else self.weekday}"

    def on_calendar(self) -> str:
        day = "" if self.weekday is None else DAYS_SYSTEMD[self.weekday] + " "
        return f"{day}*-*-* {self.hour:02d}:{self.minute:02d}:00"

    def describe(self) -> str:
        names = {v: k for k, v in DAYS.items()}
        day = "tous les jours" if self.weekday is None else f"chaque {names[self.weekday]}"
        return f"{day} à {self.hour:02d}:{self.minute:02d}"


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")


def parse_when(text: str) -> When:
    """``"lundi 06:00"``, ``"lundi 6h"``, ``"tous les jours 22h30"`` → :class:`When`.

    Raises
    ------
    ConfigError
        Unreadable schedule (the message gives examples).
    """
    s = " ".join(_plain(text).split())
    s = re.sub(r"\ba\b", " ", s)
    m = re.search(r"(\d{1,2})\s*(?:h|:)\s*(\d{2})?\s*$", s)
    hint = ("Exemples : « lundi 06:00 », « vendredi 18h30 », « tous les jours 6h ».")
    if not m:
        raise ConfigError(f"Horaire illisible : « {text} ». {hint}")
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if hour > 23 or minute > 59:
        raise ConfigError(f"Heure impossible : « {text} ». {hint}")
    day_part = " ".join(s[: m.start()].split())
    if day_part in ("",) or any(day_part == _plain(e) for e in EVERY_DAY):
        return When(None, hour, minute)
    day_part = day_part.removeprefix("chaque ").removeprefix("le ").rstrip("s")
    if day_part not in DAYS:
        raise ConfigError(f"Jour inconnu : « {day_part} » dans « {text} ». Jours : {', '.join(DAYS)}. {hint}")
    return When(DAYS[day_part], hour, minute)


def run_command(run_args: list[str], out: str | Path) -> str:
    """The shell command the schedule runs: ``planeco reports run …`` with the current settings."""
    env = " ".join(f"{k}={shlex.quote(os.environ[k])}" for k in ENV_KEYS if os.environ.get(k))
    cmd = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "planeco_kernel", "reports", "run", *run_args,
                                            "--no-progress"])
    folder = Path(out).resolve()
    log = shlex.quote(str(folder / "planeco-reports.log"))
    return f"mkdir -p {shlex.quote(str(folder))} && {env + ' ' if env else ''}{cmd} >> {log} 2>&1"


def cron_line(when: When, command: str, name: str) -> str:
    """One crontab line, tagged with ``name`` so that reinstalling replaces it."""
    return f"{when.cron()} {command.replace('%', chr(92) + '%')} {TAG}{name}"


def systemd_units(when: When, command: str, name: str) -> dict[str, str]:
    """``{file name: content}`` of the service and timer units (user units)."""
    unit = f"planeco-reports-{name}"
    service = (f"[Unit]\nDescription=planeco : rapports territoriaux ({name})\n\n[Service]\nType=oneshot\n"
               f"ExecStart=/bin/sh -c {shlex.quote(command)}\n")
    timer = (f"[Unit]\nDescription=planeco : rapports territoriaux ({name}), {when.describe()}\n\n[Timer]\n"
             f"OnCalendar={when.on_calendar()}\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n")
    return {f"{unit}.service": service, f"{unit}.timer": timer}


def install_cron(line: str, name: str) -> str:
    """Add (or replace) the tagged line in the user's crontab; return the new crontab."""
    try:
        cur = subprocess.run(["crontab", "-l"], capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise ConfigError("La commande crontab est introuvable : installez cron (`apt-get install cron`) ou utilisez "
                          "--systemd.") from exc
    lines = cur.stdout.splitlines() if cur.returncode == 0 else []
    kept = [ln for ln in lines if not ln.rstrip().endswith(f"{TAG}{name}")]
    new = "\n".join([*kept, line]) + "\n"
    proc = subprocess.run(["crontab", "-"], input=new, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ConfigError(f"Installation dans la crontab refusée : {proc.stderr.strip()}")
    return new


def install_systemd(units: dict[str, str], directory: Path | None = None, enable: bool = True) -> list[Path]:
    """Write the units in ``~/.config/systemd/user`` and enable the timer."""
    d = directory or Path.home() / ".config" / "systemd" / "user"
    d.mkdir(parents=True, exist_ok=True)
    paths = []
    for fname, text in units.items():
        p = d / fname
        p.write_text(text, encoding="utf-8")
        paths.append(p)
    if enable:
        timer = next(n for n in units if n.endswith(".timer"))
        for cmd in (["systemctl", "--user", "daemon-reload"], ["systemctl", "--user", "enable", "--now", timer]):
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise ConfigError(f"`{' '.join(cmd)}` a échoué : {proc.stderr.strip()} — les fichiers sont écrits dans "
                                  f"{d} ; activez le minuteur à la main.")
    return paths
