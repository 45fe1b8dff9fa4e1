"""Chromium, driven by Playwright, on the sandbox's hosted pages.

Playwright comes from pip (the `test` extra) and drives the system's Chromium (Debian's `chromium`
package) through `executable_path`: `playwright install` is never run, it downloads browsers and fails
offline. Where either cannot start, the tests skip loudly, or fail under SARAPAY_REQUIRE_COMPONENTS=1
(tests/components.py), which .ci/run sets after installing Chromium.

Every page is opened in a fresh context that lets nothing leave the sandbox: any request to another
origin is aborted and recorded, and the test fails if there was one (a font, a CDN, Stripe's dashboard).
Screenshots go to tests/artifacts/screenshots/ (or $SARAPAY_TEST_ARTIFACTS/screenshots), kept out of git.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.components import missing_component

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-proxy-server",  # the sandbox is on 127.0.0.1: never through a proxy from the environment
]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}


def artifacts_dir() -> Path:
    base = os.environ.get("SARAPAY_TEST_ARTIFACTS") or Path(__file__).resolve().parents[1] / "artifacts"
    path = Path(base) / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="package")
def browser(tmp_path_factory) -> Iterator[Any]:
    """One Chromium for the browser tests (package scope: closed before the rest of the suite goes on)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        missing_component("playwright", f"the Python package cannot be imported ({exc}): pip install -e '.[test]'")
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(executable):
        missing_component("chromium", f"{executable} not found (apt-get install chromium; .ci/run installs it)")
    home = tmp_path_factory.mktemp("chromium-home")
    # Chromium sees a throwaway home and nothing of the test's environment (no key, no proxy).
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
           "XDG_CONFIG_HOME": str(home / ".config"), "XDG_CACHE_HOME": str(home / ".cache"), "TMPDIR": str(home)}
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, env=env)
    except Exception as exc:  # a broken install, missing libraries...: say what Chromium said
        playwright.stop()
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        missing_component("chromium", f"{executable} does not start: {first}")
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


@dataclass
class Pages:
    """Opens pages on the sandbox, keeps them inside it, and takes screenshots."""

    browser: Any
    sandbox_url: str
    test_name: str
    outside: list[str] = field(default_factory=list)  # requests aborted because they left the sandbox
    documents: list[tuple[str, str]] = field(default_factory=list)  # (url, content-type) of each page shown
    contexts: list[Any] = field(default_factory=list)

    def open(self, kind: str = "phone", *, javascript: bool = True) -> Any:
        options = dict(PHONE if kind == "phone" else DESKTOP)
        context = self.browser.new_context(**options, java_script_enabled=javascript, locale="fr-FR",
                                           timezone_id="Europe/Paris")
        context.set_default_timeout(15_000)
        context.route("**/*", self._only_the_sandbox)
        self.contexts.append(context)
        page = context.new_page()
        page.on("response", self._record_document)
        return page

    def _only_the_sandbox(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(self.sandbox_url + "/") or url == self.sandbox_url:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def _record_document(self, response: Any) -> None:
        if response.request.resource_type == "document" and response.status < 300:
            self.documents.append((response.url, response.headers.get("content-type", "")))

    def shot(self, page: Any, step: str, *, full_page: bool = True) -> Path:
        """The whole page, or (full_page=False) what the screen shows, scrolled where the browser put it."""
        path = artifacts_dir() / f"{self.test_name}-{step}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser, sandbox, request) -> Iterator[Pages]:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name.removeprefix("test_"))
    opened = Pages(browser, sandbox.url, name)
    try:
        yield opened
    finally:
        opened.close()
    assert opened.outside == [], f"pages asked for something outside the sandbox: {opened.outside}"
    not_html = [(url, kind) for url, kind in opened.documents if not kind.startswith("text/html")]
    assert not_html == [], f"a person was shown something other than a page: {not_html}"


def text(page: Any) -> str:
    """The page's visible words, spaces folded (no-break spaces included)."""
    raw = page.locator("body").inner_text()
    return " ".join(raw.replace("\u00a0", " ").replace("\u202f", " ").split())

