"""``python -m designspace`` runs the command line."""

import sys

from designspace.cli import main

sys.exit(main())
