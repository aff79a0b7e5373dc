"""One module per ``designspace`` sub-command (``add_parser`` + ``run``); see designspace.cli."""
