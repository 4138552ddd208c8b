"""The ingest stage: raw datasets -> sharded WebDataset splits (one module a domain)."""
