"""ingest: watches the inbox, claims complete files, publishes them, files them away when done."""
