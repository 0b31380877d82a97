"""Synthetic multi-agency extracts with ground truth, for demos, tests and benchmarks.

:func:`generate` invents families (mothers, babies and older children, twins, birth fathers
who live in or apart, half siblings, new partners — some of them women — men with children in
two families, a son named after his father, grandparents, lodgers, moves of address), writes
what eight agencies would hold about them — each in its own columns, date formats, codes and
mistakes — plus a ``job.toml`` for them and the truth in ``_truth/`` (never read by
``famlink link``).

Size: about 20 people records per family across all agencies (the committed sample: 200
families → about 3,800 records), so **1M people records ≈ 50,000 families**. Families are
built and written one cluster at a time, so memory stays small at any size.

Everything is deterministic: the same ``families``, ``seed`` and ``reference_date`` give
byte-identical files.

>>> import tempfile
>>> summary = generate(tempfile.mkdtemp(), families=3, seed=1)
>>> summary.families, summary.people_records > 0
(3, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from random import Random

from famlink.linkage.sample.cluster import build_cluster
from famlink.linkage.sample.context import Ctx, Evidence
from famlink.linkage.sample.dates import months_before
from famlink.linkage.sample.files import CsvOut
from famlink.linkage.sample.recording import fmt_date
from famlink.linkage.sample.sources import SOURCES, Source
from famlink.linkage.sample.truth import FLAG_COLUMNS, ClusterTruth
from famlink.linkage.sample.world import World

DEFAULT_REFERENCE_DATE = date(2026, 9, 30)
#: a round of deliberately bad rows and values from the first cluster, then every this many
INJECT_EVERY = 97
_FORCED = ("csc:impossible_dob", "police:future_dob", "gp:invalid_nhs", "hv:invalid_nhs",
           "amh:invalid_nhs", "police:invalid_postcode", "housing:impossible_dob")

FLAG_TYPES = ("unrecorded_male_carer", "unrecorded_non_birthing_partner", "father_not_recorded",
              "sibling_safeguarding_history", "adult_risk_history", "non_mobile_injury",
              "neglect_without_gcp2")


@dataclass
class SampleSummary:
    """What :func:`generate` wrote."""

    path: Path
    families: int
    persons: int
    people_records: int
    #: source -> file kind (people / relationships / events) -> data rows written
    rows: dict[str, dict[str, int]] = field(default_factory=dict)
    #: flag type -> expected flags (all) and of those detectable from the extracts
    flags: dict[str, int] = field(default_factory=dict)
    flags_detectable: dict[str, int] = field(default_factory=dict)
    injected_errors: int = 0

    def __str__(self) -> str:
        return (f"{self.families:,} families, {self.persons:,} persons, "
                f"{self.people_records:,} people records in {len(self.rows)} sources")


def generate(out_dir: str | Path, *, families: int, seed: int,
             reference_date: date = DEFAULT_REFERENCE_DATE, messy: bool = False) -> SampleSummary:
    """Write synthetic extracts, ``job.toml`` and ``_truth/`` into ``out_dir``.

    Parameters
    ----------
    out_dir:
        Folder to write into (created if needed; files already there are overwritten).
    families:
        How many families to invent (about 20 people records each; 50,000 ≈ 1M records).
    seed:
        Seeds the one random generator; the same inputs give byte-identical files.
    reference_date:
        The job's "as at" date; ages and the co-residence window count back from it.
    messy:
        Add the messy noise profile (:mod:`famlink.linkage.sample.messy`: names people go by,
        Sikh and patronymic naming, former surnames, identifiers, stale addresses …) and its
        truth (``_truth/name_phenomena.csv``, ``_truth/record_phenomena.csv``). Off, the
        output is exactly the plain sample's.

    Returns
    -------
    SampleSummary
        Counts per source and file, people records, true persons, expected flags.
    """
    if families < 1:
        raise ValueError("families must be at least 1")
    out = Path(out_dir)
    truth = out / "_truth"
    truth.mkdir(parents=True, exist_ok=True)
    rng = Random(seed)
    world = World(rng, reference_date)
    window_start = months_before(reference_date, 12)

    records = CsvOut(truth / "records.csv",
                     ["source", "record_id", "true_person_id", "line_number"])
    errors = CsvOut(truth / "injected_errors.csv",
                    ["source", "file_kind", "file", "line_number", "kind", "expected", "field",
                     "detail"])
    persons_out = CsvOut(truth / "persons.csv",
                         ["true_person_id", "first_name", "middle_names", "surname",
                          "birth_surname", "dob", "sex", "nhs_number", "role", "family_ids"])
    rels_out = CsvOut(truth / "relationships.csv",
                      ["true_person_id", "related_true_person_id", "relationship", "detail",
                       "start_date", "end_date"])
    res_out = CsvOut(truth / "residences.csv",
                     ["true_person_id", "uprn", "address", "postcode", "date_from", "date_to"])
    pairs_out = CsvOut(truth / "special_pairs.csv",
                       ["pair_type", "true_person_id_a", "true_person_id_b"])
    flags_out = CsvOut(truth / "expected_flags.csv", FLAG_COLUMNS)

    ctx = Ctx(rng=rng, ref=reference_date, window_start=window_start, out=out, records=records,
              errors=errors)
    if messy:
        from famlink.linkage.sample.messy import Messy

        ctx.messy = Messy.open(seed, reference_date, truth)
    sources: list[Source] = [cls(ctx) for cls in SOURCES]
    flag_counts = dict.fromkeys(FLAG_TYPES, 0)
    flag_detect = dict.fromkeys(FLAG_TYPES, 0)
    made = index = n_persons = 0
    while made < families:
        cluster = build_cluster(world, index, allow_two=families - made >= 2)
        if ctx.messy is not None:
            ctx.messy.dress(cluster)
        if index % INJECT_EVERY == 0:
            ctx.pending.update(dict.fromkeys(
                (*_FORCED, *(f"{src.name}:rows" for src in sources)), True))
        ctx.ev = Evidence()
        for src in sources:
            src.emit(cluster)
        for row in ClusterTruth(cluster, ctx.ev, reference_date, window_start).flags():
            flags_out.write(row)
            flag_counts[row[0]] += 1
            flag_detect[row[0]] += row[3] == "true"
        _write_world(cluster, persons_out, rels_out, res_out, pairs_out)
        n_persons += len(cluster.persons)
        made += len(cluster.families)
        index += 1

    for src in sources:
        src.close()
    for f in (records, errors, persons_out, rels_out, res_out, pairs_out, flags_out):
        f.close()
    if ctx.messy is not None:
        ctx.messy.close()
    (out / "job.toml").write_text(_job_toml(sources, reference_date, seed, messy),
                                  encoding="utf-8")
    rows = {src.name: src.counts() for src in sources}
    return SampleSummary(
        path=out,
        families=made,
        persons=n_persons,
        people_records=sum(r.get("people", 0) for r in rows.values()),
        rows=rows,
        flags=flag_counts,
        flags_detectable=flag_detect,
        injected_errors=errors.rows,
    )


def _write_world(cluster, persons_out: CsvOut, rels_out: CsvOut, res_out: CsvOut,
                 pairs_out: CsvOut) -> None:
    for p in cluster.persons:
        persons_out.write([p.pid, p.first, p.middle, p.surname, p.birth_surname,
                           p.dob.isoformat(), p.sex, p.nhs, p.role, ";".join(p.families)])
        for r in p.residences:
            a = r.address
            flat = f"Flat {a.flat}, " if a.flat is not None else ""
            res_out.write([p.pid, a.uprn, f"{flat}{a.number} {a.street()}, {a.locality}, "
                           f"{a.town}", a.postcode, r.start.isoformat(),
                           r.end.isoformat() if r.end else ""])
    for rel in cluster.rels:
        rels_out.write([rel.a.pid, rel.b.pid, rel.rel, rel.detail,
                        fmt_date(rel.start, "%Y-%m-%d"), fmt_date(rel.end, "%Y-%m-%d")])
    for kind, a, b in cluster.special_pairs:
        pairs_out.write([kind, a.pid, b.pid])


def _job_toml(sources: list[Source], reference_date: date, seed: int, messy: bool) -> str:
    variant = ("\n# The messy variant (`famlink sample-data --messy`): see docs/sample-data.md."
               if messy else "")
    head = f"""# famlink job file for the synthetic sample (generated by linkage/sample/generate.py).
# Every person, address and number in these extracts is invented.{variant}

[job]
name = "Synthetic sample partnership"
reference_date = "{reference_date.isoformat()}"
seed = {seed}

[linkage]
backend = "duckdb"
match_threshold = 0.9
link_floor = 0.3

[family]
co_residence_window_months = 12
non_mobile_age_months = 6
"""
    return head + "".join("\n" + src.job() for src in sources)
