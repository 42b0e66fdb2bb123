"""Open a page in a real headless Chromium and report what a person (and a screen reader)
would meet: console errors, uncaught exceptions, and basic accessibility facts.

    report = await open_page("http://127.0.0.1:8000/status", screenshot=True)
    assert report.console_errors == [] and report.accessibility_problems() == []

Chromium is driven over its DevTools protocol (a websocket, with aiohttp, which the
project already has): no browser download, no extra driver. The binary is the system's
(`apt-get install chromium`; `.ci/run` installs it). `chromium_or_skip()` skips a test
only when no Chromium binary exists, and says so.

The accessibility checks are scripted (no axe-core: it would need npm in CI): the page
has a language, a title, exactly one h1, headings that do not skip a level, a main
landmark, labelled regions whose labels exist, unique ids, links with text, images with
alt text, and text with at least 4.5:1 contrast against its background (WCAG AA).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

CHECKS = r"""
(() => {
  const lum = (rgb) => {
    const [r, g, b] = rgb.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number).map((v) => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = getComputedStyle(e).backgroundColor;
      if (c && !c.startsWith('rgba(0, 0, 0, 0)') && c !== 'transparent') return c;
    }
    return 'rgb(255, 255, 255)';
  };
  const contrast = [];
  for (const el of document.querySelectorAll('p, li, time, a, h1, h2, h3, span')) {
    if (!el.textContent.trim()) continue;
    const a = lum(getComputedStyle(el).color), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) contrast.push(el.tagName + ': ' + ratio.toFixed(2));
  }
  const ids = [...document.querySelectorAll('[id]')].map((e) => e.id);
  const headings = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')]
    .map((h) => Number(h.tagName[1]));
  const skips = headings.filter((level, i) => i > 0 && level > headings[i - 1] + 1);
  return JSON.stringify({
    lang: document.documentElement.lang,
    title: document.title,
    h1: document.querySelectorAll('h1').length,
    heading_skips: skips.length,
    main: document.querySelectorAll('main, [role=main]').length,
    unlabelled_regions: [...document.querySelectorAll('[aria-labelledby]')]
      .filter((e) => !document.getElementById(e.getAttribute('aria-labelledby'))).length,
    duplicate_ids: ids.filter((id, i) => ids.indexOf(id) !== i),
    links_without_text: [...document.querySelectorAll('a')]
      .filter((a) => !(a.textContent.trim() || a.getAttribute('aria-label'))).length,
    images_without_alt: [...document.querySelectorAll('img')]
      .filter((i) => !i.hasAttribute('alt')).length,
    low_contrast: contrast,
    text: document.body.innerText,
  });
})()
"""


@dataclass
class PageReport:
    console_errors: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    screenshot: bytes | None = None

    @property
    def text(self) -> str:
        return str(self.facts.get("text", ""))

    def accessibility_problems(self) -> list[str]:
        f = self.facts
        problems = []
        if not f.get("lang"):
            problems.append("no lang on <html>")
        if not str(f.get("title", "")).strip():
            problems.append("no <title>")
        if f.get("h1") != 1:
            problems.append(f"{f.get('h1')} h1 elements (want exactly 1)")
        if f.get("heading_skips"):
            problems.append("headings skip a level")
        if f.get("main") != 1:
            problems.append("no single main landmark")
        for key in ("unlabelled_regions", "links_without_text", "images_without_alt"):
            if f.get(key):
                problems.append(f"{key}: {f[key]}")
        if f.get("duplicate_ids"):
            problems.append(f"duplicate ids: {f['duplicate_ids']}")
        if f.get("low_contrast"):
            problems.append(f"low contrast: {f['low_contrast'][:5]}")
        return problems


def chromium_or_skip() -> str:
    """The Chromium binary; skips the test (saying why) only when none is installed."""
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run does it)")


async def open_page(url: str, *, screenshot: bool = False,
                    within: float = 30.0) -> PageReport:
    """Open `url`; with `screenshot`, the report carries a PNG of the page."""
    binary = chromium_or_skip()
    profile = tempfile.mkdtemp(prefix="amends-chromium-")
    process = await asyncio.create_subprocess_exec(
        binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--no-default-browser-check", "--disable-extensions", "--remote-debugging-port=0",
        "--remote-allow-origins=*", f"--user-data-dir={profile}", "about:blank",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "HOME": profile})
    try:
        async with asyncio.timeout(within):
            return await _drive(profile, url, screenshot)
    finally:
        process.kill()
        await process.wait()
        shutil.rmtree(profile, ignore_errors=True)


def _port(profile: str) -> int | None:
    port_file = Path(profile) / "DevToolsActivePort"
    text = port_file.read_text() if port_file.exists() else ""
    return int(text.split()[0]) if text.strip() else None


async def _drive(profile: str, url: str, screenshot: bool) -> PageReport:
    # Chromium writes its port to a file when it is ready; nothing to await but the file.
    while (port := _port(profile)) is None:  # noqa: ASYNC110 - another process writes it
        await asyncio.sleep(0.05)
    report = PageReport()
    async with aiohttp.ClientSession() as http:
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{port}/json/list") as response:
                    pages = [t for t in await response.json() if t.get("type") == "page"]
                if pages:
                    break
            await asyncio.sleep(0.05)
        async with http.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            ids = itertools.count(1)
            loaded = asyncio.Event()
            pending: dict[int, asyncio.Future[dict[str, Any]]] = {}

            async def reader() -> None:
                async for message in ws:
                    data = json.loads(message.data)
                    if "id" in data and data["id"] in pending:
                        pending.pop(data["id"]).set_result(data)
                        continue
                    method, params = data.get("method"), data.get("params", {})
                    if method == "Page.loadEventFired":
                        loaded.set()
                    elif method == "Runtime.consoleAPICalled" and params.get("type") in (
                            "error", "assert"):
                        report.console_errors.append(" ".join(
                            str(a.get("value", a.get("description", "")))
                            for a in params.get("args", [])))
                    elif method == "Runtime.exceptionThrown":
                        details = params.get("exceptionDetails", {})
                        report.console_errors.append(
                            details.get("exception", {}).get("description")
                            or details.get("text", "exception"))
                    elif method == "Log.entryAdded" and params.get("entry", {}).get(
                            "level") == "error":
                        entry = params["entry"]
                        report.console_errors.append(f"{entry.get('text')} {entry.get('url', '')}")

            async def call(method: str, **params: Any) -> dict[str, Any]:
                number = next(ids)
                future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
                pending[number] = future
                await ws.send_str(json.dumps({"id": number, "method": method, "params": params}))
                return await future

            task = asyncio.create_task(reader())
            try:
                for domain in ("Page", "Runtime", "Log"):
                    await call(f"{domain}.enable")
                await call("Page.navigate", url=url)
                await loaded.wait()
                await asyncio.sleep(0.2)  # late console messages
                result = await call("Runtime.evaluate", expression=CHECKS, returnByValue=True)
                report.facts = json.loads(result["result"]["result"]["value"])
                if screenshot:
                    shot = await call("Page.captureScreenshot", format="png")
                    report.screenshot = base64.b64decode(shot["result"]["data"])
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    return report
