"""store: writes enriched documents to PostgreSQL or SQLite, idempotently, in batches."""
