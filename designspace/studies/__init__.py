"""Studies: a study file run end to end (sweep, then report), budgets, seed replicates.

The top of the library: may import every package below it (:mod:`designspace.sweep`,
:mod:`designspace.reporting`, :mod:`designspace.analysis`, :mod:`designspace.formats`,
:mod:`designspace.training`, :mod:`designspace.core`); only :mod:`designspace.commands` and
:mod:`designspace.cli` import it.
"""
