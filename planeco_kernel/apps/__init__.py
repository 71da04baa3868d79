"""The Voilà apps of planeco: gallery server pieces and the Python behind each app.

App notebooks (``apps/*.ipynb``) stay thin: they call one function of a module here
(e.g. :func:`planeco_kernel.apps.fiche.show`).
"""
