"""``python -m planeco_kernel`` is the ``planeco`` command."""

import sys

from planeco_kernel.cli import main

sys.exit(main())
