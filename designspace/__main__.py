"""``python -m designspace`` runs the command line."""

from designspace.cli import entry

entry()
