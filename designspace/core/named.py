"""Named models: the 24 published RegNetX/RegNetY models and the chapter's RegNetX32."""

from __future__ import annotations

import difflib
import json
from functools import cache
from importlib import resources

from designspace.core.arch import Architecture, Stage
from designspace.core.regnet import regnet_architecture
from designspace.errors import DesignSpaceError

CHAPTER_MODEL = "RegNetX32"


@cache
def _published() -> dict[str, dict]:
    text = resources.files("designspace").joinpath("data/regnet_models.json").read_text()
    return {entry["name"]: entry for entry in json.loads(text)}


def list_models() -> list[str]:
    """Names accepted by :func:`get_model`: RegNetX-200MF .. RegNetY-32GF and RegNetX32."""

    def flops_key(name: str) -> tuple[str, float]:
        family, size = name.split("-")
        scale = 1.0 if size.endswith("MF") else 1000.0
        return family, float(size[:-2]) * scale

    return sorted(_published(), key=flops_key) + [CHAPTER_MODEL]


def get_model(name: str) -> Architecture:
    """The architecture of a named model (224 px / 3 channels / 1000 classes for RegNets).

    RegNet models use b = 1 and stem width 32 (DDS); ``RegNetX32`` is the d2l chapter's model:
    simple stem of 32, stages (d, w, g, b) = (4, 32, 16, 1), (6, 80, 16, 1), for 1-channel,
    10-class Fashion-MNIST. Use :meth:`Architecture.with_io` for another regime.
    """
    if name == CHAPTER_MODEL:
        return Architecture(
            stages=(Stage(4, 32, 1, 16, 2), Stage(6, 80, 1, 16, 2)),
            block="x",
            stem="simple",
            stem_width=32,
            in_channels=1,
            num_classes=10,
            name=CHAPTER_MODEL,
        )
    entry = _published().get(name)
    if entry is None:
        close = difflib.get_close_matches(name, list_models(), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise DesignSpaceError(
            f"unknown model {name!r}{hint}; run 'designspace describe --list' to see the "
            f"{len(list_models())} named models"
        )
    return regnet_architecture(
        d=entry["depth"],
        w0=entry["w0"],
        wa=entry["wa"],
        wm=entry["wm"],
        g=entry["group_w"],
        b=1,
        se_ratio=entry["se_ratio"],
        name=name,
    )
