"""The report stage: metrics and samples -> reports/report.md and its figures."""
