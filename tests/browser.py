"""The one headless browser of a test session: Debian's chromium, driven by Selenium
through Debian's chromium-driver (test.sh installs both when missing). No test
downloads a browser or a driver.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.ci_skips import server_absent

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


class Browser:
    """A Selenium driver, its download directory, and where its screenshots go."""

    def __init__(self, driver, downloads: Path, shots: Path):
        self.driver = driver
        self.downloads = downloads
        self.shots = shots

    def screenshot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def size(self, width: int, height: int, scale: float = 1.0) -> None:
        """The viewport: `scale` 2 renders as a page zoomed to 200% would."""
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": False},
        )

    def reset(self) -> None:
        """No cookies, the default viewport, an empty download directory."""
        self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        self.driver.delete_all_cookies()
        for path in self.downloads.iterdir():
            path.unlink()


def start_browser(workdir: Path) -> Browser:
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        server_absent(
            "chromium",
            f"{CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium "
            "chromium-driver; ./test.sh does)",
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = workdir / "downloads"
    shots = workdir / "screenshots"
    profile = workdir / "profile"
    for path in (downloads, shots, profile):
        path.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # root in a container has no user namespace for the sandbox
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900",
        f"--user-data-dir={profile}",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
    ):
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,
        },
    )
    driver = webdriver.Chrome(
        options=options, service=Service(CHROMEDRIVER, log_output=str(workdir / "driver.log"))
    )
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    return Browser(driver, downloads, shots)


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """The session's one browser; each test starts it clean with `page`."""
    workdir = Path(tempfile.mkdtemp(prefix="logsvc-browser-", dir=tmp_path_factory.getbasetemp()))
    b = start_browser(workdir)
    yield b
    b.driver.quit()
    shutil.rmtree(workdir / "profile", ignore_errors=True)
