"""Headless Debian Chromium driven by Playwright (no browser downloads): the study's tests and
screenshots. Install the browser with `apt-get install -y --no-install-recommends chromium`."""
from __future__ import annotations

import contextlib
from pathlib import Path

from pipeline.errors import PipelineError

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@contextlib.contextmanager
def chromium_page(width: int = 900, height: int = 700):
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise PipelineError(f"{CHROMIUM}: missing (apt-get install -y --no-install-recommends chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


def start_session(page, base_url: str, participant: str) -> None:
    page.goto(f"{base_url}/")
    page.fill("input[name=participant]", participant)
    with page.expect_navigation():
        page.click("button[type=submit]")


def trial_id(page) -> str:
    """The open trial's id, read from the image URL (the page's only reference to it)."""
    page.wait_for_function("() => { const i = document.getElementById('stimulus'); "
                           "return i && i.complete && i.naturalWidth > 0; }")
    return page.get_attribute("#stimulus", "src").rsplit("/", 1)[1]


def progress(page) -> str:
    return page.inner_text("#progress")


def answer(page, choice: str, double_click: bool = False) -> None:
    button = f"button[value={choice}]"
    with page.expect_navigation():
        page.dblclick(button) if double_click else page.click(button)
