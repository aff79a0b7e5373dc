"""Reporting: the registry of analyses and plots, their figures, ``report.md`` / ``report.html``.

May import :mod:`designspace.analysis`, :mod:`designspace.formats`, :mod:`designspace.core` and
:mod:`designspace.errors` (matplotlib lives here); never torch, ray, sweeps or studies.

* :mod:`~designspace.reporting.sections`: ``SECTIONS`` and ``PLOT_KINDS`` (the registries),
  ``AnalysisOptions``, ``prepare``;
* :mod:`~designspace.reporting.report_sections`: the run function of each section;
* :mod:`~designspace.reporting.plots`: matplotlib figures, ``f(data, ..., hue=, ax=) -> Axes``;
* :mod:`~designspace.reporting.report`: a report from the sections, written atomically.
"""
