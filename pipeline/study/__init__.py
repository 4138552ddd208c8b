"""The paper's visual Turing test as a local web page: people are shown real and refined
images one at a time and asked "real or synthetic?" (SimGAN: 517/1000 correct, chance 50 %).

images.py  the two image pools (real split, refined split) and the display rendering
draw.py    which image a trial shows (equal odds, seeded, no repeats per participant)
store.py   answers in sqlite: a trial id is issued once and answered once
stats.py   accuracy, confusion table, binomial test against 50 %
results.py CSV export, MLflow metrics on the refiner's run, the report's markdown section
pages.py   HTML templates;  server.py  the FastAPI app;  cli.py  the `study` command
browser.py headless Chromium helpers (tests, screenshots.py)
"""
LABELS = ("real", "synthetic")
