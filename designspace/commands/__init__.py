"""One module per ``designspace`` sub-command (``add_parser`` + ``run``); see designspace.cli.

The top layer with :mod:`designspace.cli`: may import every package; nothing imports it.
"""
