"""famlink linkage stage: read agency extracts, standardise, link with Splink 5.

Writes the tables the models stage reads (docs/tables.md, "Written by linkage").
"""
