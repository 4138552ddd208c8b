"""Embedded default generators: each writes raw data in a real dataset's own format."""
