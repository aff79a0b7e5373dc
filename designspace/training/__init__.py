"""Training: build a model from an architecture, count it, load data, train it briefly.

The torch layer. :mod:`~designspace.training.models`, :mod:`~designspace.training.counting`,
:mod:`~designspace.training.data` and the trainer import torch (and fvcore): its entry point
:mod:`~designspace.training.train` and its pieces, one concept each (``precision``,
``batches``, ``optim``, ``step``, ``evaluate``, ``checkpoint``, ``loop``).
:mod:`~designspace.training.trainconfig` (the ``TrainConfig`` dataclass),
:mod:`~designspace.training.schedule` (learning rates and step counts),
:mod:`~designspace.training.result` (``TrainResult``) and :mod:`~designspace.training.machine`
(the CPU a figure was measured on) do not, so sweep planning can read a configuration without
loading torch. May import :mod:`designspace.core` and :mod:`designspace.errors`; never ray, the
formats, sweeps, analysis or reporting. This ``__init__`` imports nothing, so ``import
designspace.training.trainconfig`` stays light.
"""
