"""``python -m alvh_core``: the JSON command line (see :mod:`alvh_core.cli`)."""

import sys

from .cli import main

sys.exit(main())
