"""The design-space core: architectures, blocks, spaces, sampling, the RegNet rule, complexity.

Pure: numpy, pandas and scipy at most; never torch, ray or matplotlib. May import only
:mod:`designspace.errors` and its own modules. Everything else in the package builds on it.

* :mod:`~designspace.core.arch`: ``Architecture`` / ``Stage`` (frozen dataclasses);
* :mod:`~designspace.core.layercost`, :mod:`~designspace.core.blocks` (the block registry),
  :mod:`~designspace.core.complexity`: analytic flops / params / acts;
* :mod:`~designspace.core.regnet`: the quantized linear width rule;
* :mod:`~designspace.core.spaces`, :mod:`~designspace.core.sampling`: design spaces and seeded
  sampling into a complexity band; :mod:`~designspace.core.statistics` (statistics of a network
  a space may ``require`` ranges of), :mod:`~designspace.core.support` (a space's support);
* :mod:`~designspace.core.constraints`: constraints as objects (the constraint registry) that
  refine a space, test and grade a network, and describe themselves;
* :mod:`~designspace.core.regimes`, :mod:`~designspace.core.datasets` (the data set registry),
  :mod:`~designspace.core.named` (published RegNets), :mod:`~designspace.core.fieldcheck`.
"""
