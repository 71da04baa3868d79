"""The data bundle: tables built from official sources into ``PLANECO_DATA_DIR``.

``schema``       the tables and their columns (the contract with every reader).
``build``        orchestration of ``planeco data build`` (atomic, with a manifest).
``manifest``     ``manifest.json``: sources, checksums, freshness checks (no pandas import).
``crosswalk``    old COG communes → current communes (mergers, splits).
``population``   population series 2018…2023 on the current geography, all levels.
``history``      ``code_history``: every commune code of every vintage and its successor.
``scot``         the SCoT layer (BANATIC structures, or user perimeters).
``territories``  every territory of the current geography with parents and flags.
``geometry``     commune contours and dissolved display shapes (provided separately).

Nothing is imported here, so that ``import planeco_kernel.bundle.manifest`` stays instant.
"""
