# JupyterHub configuration of planeco: `make hub` / `planeco hub` (see README « Plusieurs personnes »).
#
# Everything lives in planeco_kernel/hub/config.py (documented and tested); this file applies it,
# then loads your own settings (an OAuth authenticator for your territory's SSO, for example) from
# PLANECO_HUB_EXTRA_CONFIG if set. Settings: the PLANECO_HUB_* environment variables.
# Run directly: PLANECO_KB=... jupyterhub -f jupyterhub_config.py
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from planeco_kernel.hub.config import configure  # noqa: E402

c = get_config()  # noqa: F821 (provided by JupyterHub)
settings = configure(c)
if settings.extra_config is not None:
    load_subconfig(str(settings.extra_config))  # noqa: F821 (provided by JupyterHub)
