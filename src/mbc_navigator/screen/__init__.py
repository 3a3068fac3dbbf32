"""Cohort screening: the knowledge base's criteria compiled to SQL, run on DuckDB (default) or Spark."""
