"""Headless Chromium for the UI tests: Debian's ``chromium`` and ``chromedriver``
(``make browser`` installs them), driven by Selenium; no browser is downloaded.

With ``CI`` set, a missing browser or driver fails the test; elsewhere it skips.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
)


def need(program: str, *candidates: str) -> str:
    for name in (program, *candidates):
        path = shutil.which(name)
        if path:
            return path
    message = f"{program} is not installed (make test installs Debian's chromium and chromium-driver)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def start_chromium() -> Any:
    """A Selenium driver for headless Chromium with a fresh profile; ``quit()`` it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser = need("chromium", "chromium-browser")
    driver_path = need("chromedriver")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-profile-')}")
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    return driver


def save_page(driver: Any, folder: Path, name: str) -> Path:
    """Save a screenshot and the page's HTML as ``folder/name.png`` and ``.html``."""
    folder.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(folder / f"{name}.png"))
    (folder / f"{name}.html").write_text(driver.page_source, encoding="utf-8")
    return folder / f"{name}.png"


def wait(what: str, check: Callable[[], Any], seconds: float = 30) -> Any:
    """``check()``'s first truthy value; exceptions count as not yet (the page is
    still rendering)."""
    deadline = time.monotonic() + seconds
    error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as exc:  # a stale or missing element while React renders
            error = exc
        time.sleep(0.25)
    raise AssertionError(
        f"timed out after {seconds}s waiting for {what}" + (f" (last: {error!r})" if error else "")
    )


def click(driver: Any, xpath: str, what: str, seconds: float = 30) -> None:
    """Click the element at ``xpath`` once it is there and clickable (React may
    replace it while rendering, so it is looked up again on each try)."""
    from selenium.webdriver.common.by import By

    def clicked() -> bool:
        driver.find_element(By.XPATH, xpath).click()
        return True

    wait(what, clicked, seconds)


def toasts(driver: Any) -> list[str]:
    """The texts of the notifications on screen."""
    from selenium.webdriver.common.by import By

    texts = []
    for toast in driver.find_elements(By.CSS_SELECTOR, "[data-scope=toast][data-part=root]"):
        try:
            texts.append(toast.text)
        except Exception:  # gone while read
            continue
    return texts


def replace_text(driver: Any, element_id: str, text: str) -> None:
    """Select all in the input ``element_id`` and type ``text`` over it (nothing: clear it)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    field = wait(element_id, lambda: driver.find_element(By.ID, element_id))
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.DELETE)
    if text:
        field.send_keys(text)


def report_page(driver: Any, folder: Path, what: str) -> str:
    """Save the page (:func:`save_page`) and say where, for the test output."""
    shot = save_page(driver, folder, "failure")
    return f"\n{what} on {driver.current_url}; screenshot and HTML: {shot}, {shot.with_suffix('.html')}"
