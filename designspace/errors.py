"""The one exception type that the CLI turns into a one-line message and exit code 2."""

from __future__ import annotations


class DesignSpaceError(ValueError):
    """Bad input: the message says what is wrong and what to do about it.

    Library code raises this (or a subclass) for anything a user can fix; the CLI prints
    ``designspace: error: <message>`` on stderr and exits with code 2, without a traceback.
    """
