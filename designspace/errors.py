"""The one exception type that the CLI turns into a one-line message and exit code 2."""

from __future__ import annotations

from collections.abc import Iterable


class DesignSpaceError(ValueError):
    """Bad input: the message says what is wrong and what to do about it.

    Library code raises this (or a subclass) for anything a user can fix; the CLI prints
    ``designspace: error: <message>`` on stderr and exits with code 2, without a traceback.
    """


def closest(name: str, choices: Iterable[str]) -> list[str]:
    """Every one of ``choices``, the most similar to ``name`` first: those that contain it
    ("wm" -> "fit_wm"), then by difflib's ratio (ties in the given order). What an "unknown
    name" message lists."""
    listed = list(choices)
    key = str(name).lower()
    import difflib  # here: errors.py loads with every command, before its signal handlers

    score = {c: difflib.SequenceMatcher(None, key, c.lower()).ratio() for c in listed}
    return sorted(listed, key=lambda c: (key not in c.lower(), -score[c]))


def did_you_mean(name: object, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest of ``choices`` to ``name`` (difflib's
    close matches), or ``""`` when none is close: the hint of an "unknown name" message."""
    import difflib

    close = difflib.get_close_matches(str(name), list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
