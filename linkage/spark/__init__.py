"""famlink on Apache Spark: the session, the SQL stand-in and its dialect, ingest and training."""
