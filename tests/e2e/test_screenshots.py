"""The docs' screenshots come from this run: `UPDATE_SCREENSHOTS=1` writes them to docs/img."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.settings import ROOT
from scripts.screenshots import capture

pytestmark = pytest.mark.e2e


def test_screenshots(browser, base_url, tmp_path):
    out = ROOT / "docs" / "img" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    paths = capture(browser, base_url, Path(out))
    assert [path.name for path in paths] == ["widget-phone.png", "widget.png", "console.png"]
    for path in paths:
        assert path.stat().st_size > 10_000, f"{path} looks empty"
