"""Shared test helpers: sample generators, params writers and the CI skip guard."""
