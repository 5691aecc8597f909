"""GC-Forged-Pylot: a private, local code assistant on llama.cpp."""

__version__ = "0.1.0"
