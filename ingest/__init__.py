"""The ingest service: verifies signed agent batches, stores them, serves the portal."""
