"""``python -m alvh_core``: the JSON command line (see :mod:`alvh_core.cli.commands`)."""

import sys

from alvh_core.cli.commands import main

sys.exit(main())
