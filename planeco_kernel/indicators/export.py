"""Export a level of the cube to CSV, Excel or Parquet, with the sources and definitions.

Columns: ``code``, ``nom``, ``annee``, then one column per indicator (its id). Definitions and
sources go to a second sheet (``.xlsx``), to a ``# `` commented header section followed by
the table (``.csv``: the definitions are written to ``<file>.sources.csv`` beside it so that
the data file stays a plain CSV), or to the Parquet file's metadata and a ``.sources.csv`` file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from planeco_kernel.errors import PlanecoError
from planeco_kernel.indicators.cube import Cube

FORMATS = (".csv", ".xlsx", ".parquet")


def definitions(cube: Cube, ids: list[str]) -> pd.DataFrame:
    """One row per indicator: label, unit, definition, formula, aggregation, source, vintage, years, status."""
    rows = []
    for i in ids:
        ind = cube.catalogue.indicators[i]
        src = cube.catalogue.sources[ind.source]
        st = cube.status[i]
        rows.append({
            "indicateur": i, "libellé": ind.label, "unité": ind.unit, "thème": cube.catalogue.themes[ind.theme],
            "définition": ind.definition, "formule": ind.formula_text(), "agrégation": ind.aggregation,
            "source": src.title, "millésime": src.vintage, "années": ", ".join(map(str, st.years)),
            "statut": "disponible" if st.available else "indisponible", "remarque": st.reason,
            "référence": ind.reference, "url de la source": src.url,
        })
    return pd.DataFrame(rows)


def export(cube: Cube, level: str, out: str | Path, *, within: str | None = None, year: int | None = None,
           indicators: list[str] | None = None) -> Path:
    """Write the table of ``level`` (optionally inside ``within`` and for one ``year``) to ``out``.

    Raises
    ------
    PlanecoError
        Unknown extension or level, or an empty selection (French message saying what to change).
    """
    out = Path(out)
    ext = out.suffix.lower()
    if ext not in FORMATS:
        raise PlanecoError(
            f"Extension « {out.suffix or '(aucune)'} » non prise en charge pour {out.name} : "
            "choisissez .csv, .xlsx ou .parquet."
        )
    if level not in cube.datasets:
        raise PlanecoError(f"Niveau inconnu : « {level} ». Niveaux : {', '.join(cube.datasets)}.")
    ids = indicators or list(cube.catalogue.indicators)
    for i in ids:
        cube.catalogue.get(i)
    table = cube.table(level, year=year, within=within, indicators=ids)
    if table.empty:
        years = [int(y) for y in cube.dataset(level)["year"].values]
        raise PlanecoError(
            f"Aucune valeur à exporter (niveau {level}{f', dans {within}' if within else ''}"
            f"{f', année {year}' if year else ''}). Années présentes : {', '.join(map(str, years))}."
        )
    table = table.rename(columns={"code": "code", "name": "nom", "year": "annee"})
    defs = definitions(cube, ids)
    out.parent.mkdir(parents=True, exist_ok=True)
    if ext == ".xlsx":
        with pd.ExcelWriter(out, engine="openpyxl") as xw:
            table.to_excel(xw, sheet_name="indicateurs", index=False)
            defs.to_excel(xw, sheet_name="sources et définitions", index=False)
    elif ext == ".csv":
        table.to_csv(out, index=False, sep=";", decimal=",", encoding="utf-8-sig")
        defs.to_csv(out.with_name(out.stem + ".sources.csv"), index=False, sep=";", encoding="utf-8-sig")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        t = pa.Table.from_pandas(table, preserve_index=False)
        meta = dict(t.schema.metadata or {})
        meta[b"planeco_definitions"] = json.dumps(defs.to_dict(orient="records"), ensure_ascii=False).encode()
        pq.write_table(t.replace_schema_metadata(meta), out)
        defs.to_csv(out.with_name(out.stem + ".sources.csv"), index=False, sep=";", encoding="utf-8-sig")
    return out
