"""Scores of a clustering against FEBRL's truth, the same code for every system.

Every system's output is reduced to one cluster per record (famlink's ``person_id``, bare
Splink's ``cluster_id``, the connected components of ECM's links), and scored two ways:

- **pairwise** (precision, recall, F1): over record pairs put in the same cluster, against
  the pairs of the same true person. Within a cluster every pair counts, so a pair the
  clustering joins transitively (A~B, B~C gives A~C) counts as found.
- **exact clusters** (precision, recall, F1): a found cluster is right when it holds exactly
  the records of one true person, no more and no fewer; precision = right clusters / found
  clusters, recall = right clusters / true persons. Every record is in one cluster, so
  singletons count (a person with one record is found when that record is left alone).

Only records the system used are scored (famlink scores every FEBRL record: none is
quarantined).
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _pairs(sizes: pd.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def score(clusters: pd.DataFrame, truth: pd.DataFrame) -> dict[str, Any]:
    """Score ``clusters`` (source, record_id, cluster) against ``truth`` (source, record_id,
    true_entity).

    >>> t = pd.DataFrame({"source": "s", "record_id": list("abcd"), "true_entity": list("1122")})
    >>> c = pd.DataFrame({"source": "s", "record_id": list("abcd"), "cluster": list("xxxy")})
    >>> s = score(c, t)
    >>> s["pairwise_precision"], s["pairwise_recall"], s["cluster_precision"], s["cluster_recall"]
    (0.3333, 0.5, 0.0, 0.0)
    """
    merged = truth.merge(clusters, on=["source", "record_id"], how="inner", validate="one_to_one")
    found = merged.groupby("cluster").size()
    true = merged.groupby("true_entity").size()
    both = merged.groupby(["cluster", "true_entity"]).size()
    found_pairs, true_pairs, right_pairs = _pairs(found), _pairs(true), _pairs(both)
    precision = right_pairs / found_pairs if found_pairs else 1.0
    recall = right_pairs / true_pairs if true_pairs else 1.0

    members = merged.assign(key=merged["source"] + "\x1f" + merged["record_id"])
    found_sets = set(members.groupby("cluster")["key"].agg(frozenset))
    true_sets = set(members.groupby("true_entity")["key"].agg(frozenset))
    right = len(found_sets & true_sets)
    c_precision, c_recall = right / len(found_sets), right / len(true_sets)
    return {
        "records_scored": len(merged),
        "records_in_truth": len(truth),
        "true_persons": len(true),
        "found_clusters": len(found),
        "true_pairs": true_pairs,
        "found_pairs": found_pairs,
        "right_pairs": right_pairs,
        "pairwise_precision": round(precision, 4),
        "pairwise_recall": round(recall, 4),
        "pairwise_f1": round(f1(precision, recall), 4),
        "right_clusters": right,
        "cluster_precision": round(c_precision, 4),
        "cluster_recall": round(c_recall, 4),
        "cluster_f1": round(f1(c_precision, c_recall), 4),
    }


def read_truth(path: str) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)[["source", "record_id", "true_entity"]]
