"""File formats: the results data set, architecture and sample files, NDS's released populations.

Pure (pandas and pyarrow, no torch or ray). May import :mod:`designspace.core` and
:mod:`designspace.errors`.

* :mod:`~designspace.formats.results`: the results schema, atomic per-model parquet files,
  ``load_results``;
* :mod:`~designspace.formats.archfile`: architectures and sample tables on disk;
* :mod:`~designspace.formats.nds`: the populations NDS released -> the results schema.
"""
