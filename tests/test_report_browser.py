"""report.html in a real browser (headless Chromium through Selenium, Debian's chromium and
chromium-driver, installed by `make test`): every image loads, the console stays clean, every
table-of-contents link lands on its section, and the page fits a laptop's width."""

import shutil
from pathlib import Path

import pytest
from selenium import webdriver
from synthetic import make_results

from designspace.reporting.options import AnalysisOptions
from designspace.reporting.report import analyze

DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
LAPTOP = (1280, 800)


@pytest.fixture(scope="module")
def browser():
    if not Path(DRIVER).exists():
        pytest.fail(
            "chromedriver is missing: `make test` installs Debian's chromium and chromium-driver"
        )
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    driver.set_window_size(*LAPTOP)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "analysis"
    data = make_results(("AnyNetXA", "AnyNetXB", "AnyNetXE"), n=24, seed=7)
    analyze(data, out, AnalysisOptions(n_boot=200, formats=("png",)))
    return out / "report.html"


def test_report_in_a_browser(browser, report):
    from selenium.webdriver.common.by import By

    browser.get(report.as_uri())
    images = browser.find_elements(By.TAG_NAME, "img")
    assert len(images) >= 4
    broken = [
        img.get_attribute("alt")
        for img in images
        if not browser.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth > 0", img
        )
    ]
    assert broken == []
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == []

    links = browser.find_elements(By.CSS_SELECTOR, "nav#contents a")
    headings = browser.find_elements(By.TAG_NAME, "h2")
    assert len(links) == len(headings) >= 10
    for link in links:
        target = link.get_attribute("href").split("#", 1)[1]
        section = browser.find_element(By.ID, target)  # raises when the anchor is missing
        assert section.tag_name == "h2" and section.text == link.text
        browser.execute_script("arguments[0].click()", link)
        top = browser.execute_script("return arguments[0].getBoundingClientRect().top", section)
        at_bottom = browser.execute_script(
            "return window.innerHeight + window.scrollY >= document.body.scrollHeight - 2"
        )
        assert abs(top) < 5 or at_bottom, f"{link.text}: section top at {top}px"

    page = browser.execute_script("return document.documentElement.scrollWidth")
    window = browser.execute_script("return window.innerWidth")
    assert page <= window, f"the page is {page}px wide in a {window}px window"
    wide = browser.execute_script(
        "return Array.from(document.querySelectorAll('img')).filter("
        "i => i.getBoundingClientRect().right > window.innerWidth).length"
    )
    assert wide == 0
