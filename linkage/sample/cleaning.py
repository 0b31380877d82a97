"""The cleaning famlink applies to addresses and postcodes, mirrored (``docs/tables.md``).

The ground truth uses it to decide what an address record proves, the way famlink will read it.
"""

from __future__ import annotations

from famlink.linkage.sample.names import POSTCODE_UNIT_LETTERS
from famlink.linkage.sample.recording import fold_accents

_ABBREV = {"rd": "road", "st": "street", "ave": "avenue", "ln": "lane", "cl": "close",
           "cres": "crescent", "dr": "drive", "gr": "grove", "terr": "terrace", "gdns": "gardens",
           "pl": "place", "ct": "court", "mt": "mount"}


def clean_address(text: str) -> str | None:
    s = fold_accents(text).lower().replace("'", "")
    words = "".join(c if c.isalnum() else " " for c in s).split()
    out = " ".join(_ABBREV.get(w, w) for w in words)
    return out or None


def clean_postcode(text: str) -> str | None:
    s = text.replace(" ", "").upper()
    if len(s) < 5:
        return None
    inward, outward = s[-3:], s[:-3]
    ok = (inward[0].isdigit() and all(c in POSTCODE_UNIT_LETTERS for c in inward[1:])
          and 2 <= len(outward) <= 4 and outward[0].isalpha() and outward[-1].isalnum()
          and any(c.isdigit() for c in outward))
    return f"{outward} {inward}" if ok else None
