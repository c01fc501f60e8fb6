"""What a session's user agent says in words a person knows: «Chrome, Linux», «Safari, iOS».

ua-parser (the maintained port of uap-core's rules, with its Rust matcher) reads the string; we
only shorten its names to what people call the browser or system."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.utils.translation import gettext, gettext_noop
from ua_parser import parse

# uap-core's family → the name people know; a family not listed is shown as uap-core spells it.
BROWSERS = {
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Android WebView",
    "Mobile Safari": "Safari",
    "Mobile Safari UI/WKWebView": "Safari",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Edge Mobile": "Edge",
    "Opera Mobile": "Opera",
    "Yandex Browser": gettext_noop("Яндекс Браузер"),
    "Samsung Internet": "Samsung Internet",
    "HeadlessChrome": "Chrome",
}
SYSTEMS = {"Mac OS X": "macOS", "Chrome OS": "ChromeOS"}
MOBILE_SYSTEMS = {"iOS", "iPadOS", "Android"}


@dataclass(frozen=True)
class Device:
    label: str  # «Chrome, Linux»; empty when nothing could be read
    mobile: bool


@lru_cache(maxsize=512)
def _families(user_agent: str) -> tuple[str, str]:
    """The browser's and the system's names, parsed once per distinct string."""
    result = parse(user_agent)
    browser = result.user_agent.family if result.user_agent and result.user_agent.family != "Other" else ""
    system = result.os.family if result.os and result.os.family != "Other" else ""
    return BROWSERS.get(browser, browser), SYSTEMS.get(system, system)


def device_of(user_agent: str) -> Device:
    """The browser and system `user_agent` names, as «Browser, System» (either may be missing)."""
    browser, system = _families(user_agent or "")
    label = ", ".join(gettext(part) for part in (browser, system) if part)
    return Device(label=label, mobile=system in MOBILE_SYSTEMS)
