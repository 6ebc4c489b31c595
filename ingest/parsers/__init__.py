"""One parser per document kind; :func:`ingest.pipeline.parse` picks the right one from the file's bytes."""
