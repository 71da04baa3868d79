"""Export an executed report: self-contained HTML with the code hidden, and PDF when possible.

HTML: nbconvert's ``HTMLExporter`` (``basic`` template: content only) with ``exclude_input``
(no code, no prompts), in a page with a small stylesheet of ours (the ``lab`` template would
add ~250 kB of CSS to every report); images are embedded (base64), so one file is the whole
report. Error outputs are removed too (a
report that failed is never exported; a warning on stderr is not part of the report).

PDF: headless Chromium printing the HTML (``chromium --headless --print-to-pdf``), when a
``chromium``/``chromium-browser``/``google-chrome`` executable is on the PATH (Debian:
``apt-get install chromium``). nbconvert's ``webpdf`` exporter does the same through
Playwright but needs a browser download; LaTeX (``pdf`` exporter) is not required.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

TEMPLATE_TITLES: dict[str, str] = {"diagnostic_territoire": "Diagnostic territorial",
                                   "dossier_logement_energie": "Dossier logement et énergie"}
"""French titles of the report templates (page titles); other templates: their name, spaced and capitalised."""


def page_title(territory_name: str, template_name: str) -> str:
    """The report's page title: ``"Diagnostic territorial — Saint-Étienne"``."""
    label = TEMPLATE_TITLES.get(template_name) or template_name.replace("_", " ").strip().capitalize()
    return f"{label} — {territory_name}"


PDF_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

@lru_cache(maxsize=1)
def _exporter():
    from nbconvert import HTMLExporter

    exp = HTMLExporter(template_name="basic")  # the content only: the page and its small stylesheet are ours
    exp.exclude_input = True
    exp.exclude_input_prompt = True
    exp.exclude_output_prompt = True
    exp.exclude_raw = True
    return exp


def strip_for_report(nb) -> None:
    """Remove what must not reach readers: error outputs, stderr streams, the injected-parameters cell."""
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        cell["outputs"] = [o for o in cell.get("outputs", [])
                           if o.get("output_type") != "error"
                           and not (o.get("output_type") == "stream" and o.get("name") == "stderr")]


def to_html(nb, title: str) -> str:
    """The report as one self-contained HTML page (code hidden)."""
    import copy

    nb = copy.deepcopy(nb)
    strip_for_report(nb)
    nb.metadata["title"] = title
    body, _resources = _exporter().from_notebook_node(nb)
    from planeco_kernel.apps import templates

    # nbconvert renders the executed notebook (Markdown already escaped by our templates): inserted as is.
    return templates.render("report_page.html", title=title, body=templates.safe(body)) + "\n"


def pdf_converter() -> str | None:
    """Path of the browser used for PDF export, or ``None`` when none is installed."""
    for name in PDF_BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def html_to_pdf(html_path: str | Path, pdf_path: str | Path, *, timeout: float = 60.0) -> Path:
    """Print an HTML report to PDF with headless Chromium.

    Raises
    ------
    RuntimeError
        No browser installed (the message says how to install one) or the conversion failed.
    """
    browser = pdf_converter()
    if browser is None:
        raise RuntimeError("Export PDF impossible : aucun navigateur Chromium trouvé. Installez-le "
                           "(`apt-get install chromium`) ou exportez en HTML seulement.")
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path).resolve()
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
           f"--print-to-pdf={pdf_path}", html_path.as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or not pdf_path.is_file():
        raise RuntimeError(f"Export PDF en échec ({browser}) : {proc.stderr.strip()[-300:]}")
    return pdf_path
