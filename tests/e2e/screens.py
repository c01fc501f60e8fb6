"""Screenshots the browser tests leave for a person to look at (git-ignored)."""

from __future__ import annotations

from pathlib import Path

SCREENSHOTS = Path(__file__).parent / "screenshots"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def screenshot(page, name: str) -> Path:
    """Writes `<name>-<width>x<height>.png` of what the viewport shows."""
    size = page.viewport_size or DESKTOP
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}-{size['width']}x{size['height']}.png"
    # Finished transitions, not a frame of a fade (a menu caught half-opaque looks broken).
    page.screenshot(path=str(path), animations="disabled")
    return path
