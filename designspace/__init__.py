"""designspace: design network design spaces (NDS 2019, DDS/RegNet 2020)."""

__version__ = "0.1.0"
