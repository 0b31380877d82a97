"""The synthetic sample: eight agencies' extracts about invented families, with the truth.

Behind ``famlink sample-data`` and ``famlink demo``; never read by ``famlink link``.
"""

from famlink.linkage.sample.generate import generate

__all__ = ["generate"]
