"""famlink linkage stage: read agency extracts, standardise, link with Splink 5."""

__version__ = "0.1.0"
