"""The training pages in a real browser: Debian's chromium driven through its chromium-driver (selenium, with the
system's browser and driver: nothing is downloaded). The server and the session are started here, on loopback."""
from __future__ import annotations

import os
import shutil
import socket
import threading
import time

import pytest
from conftest import small_scenario

from twin.training.server import serve
from twin.training.session import TrainingSession

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
needs_browser = pytest.mark.skipif(
    not (CHROMIUM and DRIVER) and not os.environ.get("TWIN_REQUIRE_BROWSER"),
    reason="Debian's chromium and chromium-driver are not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live(tmp_path):
    """A session of the small blocked-feeder scenario at x120 served on a free loopback port; the browser on its
    page. Its AE waits 30 plant minutes (15 s) for the automatic quench: time to catch it on a loaded machine."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    session = TrainingSession(small_scenario(speed=120.0, auto_quench_after_s=1800.0), tmp_path / "session.nc")
    port = _free_port()
    server = serve(session, port=port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    browser = webdriver.Chrome(service=Service(DRIVER), options=options)
    browser.set_window_size(1400, 1000)
    session.start()
    try:
        yield session, browser, f"http://127.0.0.1:{port}"
    finally:
        browser.quit()
        session.end()
        server.should_exit = True
        thread.join(10)


def _wait(condition, timeout: float = 90.0, what: str = ""):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@needs_browser
def test_a_trainee_quenches_an_anode_effect_from_the_page(live):
    from selenium.webdriver.common.by import By

    session, browser, url = live
    browser.get(url)
    tile = _wait(lambda: browser.find_elements(By.ID, "tile-16"), 30, "the tiles")[0]
    # the feeders of PL1.P017 block at 00:15; the cell goes on anode effect: its tile is marked
    _wait(lambda: "ae" in tile.get_attribute("class"), 120, "the anode effect on PL1.P017's tile")
    browser.find_element(By.ID, "pause").click()
    _wait(lambda: session.paused, 10, "the pause")
    tile.click()
    _wait(lambda: browser.find_element(By.ID, "cell-name").text == "PL1.P017", 10, "the cell's trends")
    browser.find_element(By.ID, "act-quench").click()
    message = browser.find_element(By.ID, "message")
    _wait(lambda: message.text.startswith("kill the anode effect") and "on PL1.P017" in message.text, 10,
          "the quench's answer")
    # a bad action is refused on the page; nothing reaches the model
    field = browser.find_element(By.ID, "alf3-kg")
    field.clear()
    field.send_keys("-10")
    browser.find_element(By.ID, "act-alf3").click()
    _wait(lambda: "refused" in message.text and message.get_attribute("class") == "error", 10, "the refusal")
    browser.find_element(By.ID, "pause").click()
    # the quench lands; the voltage in the trends falls back from the AE's
    _wait(lambda: "ae" not in tile.get_attribute("class"), 60, "the AE's end")

    def fell_back():
        volts = browser.execute_script("return window.twinTrend.values.voltage")
        return volts and max(volts) > 8.0 and volts[-1] < 5.0
    _wait(fell_back, 60, "the voltage back in the trends")
    assert [a.kind for a in session.driver.applied] == ["quench"]
    # the quench is marked on the cell's trends
    assert browser.execute_script("return window.twinTrend.marks.map(m => m.kind)") == ["quench"]
    browser.find_element(By.ID, "end").click()
    _wait(lambda: browser.find_elements(By.CSS_SELECTOR, "tr.answer"), 60, "the debrief")
    rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "tr.answer")]
    quenched = [r.split() for r in rows if r.startswith("anode_effect PL1.P017") and "quench" in r]
    assert quenched and float(quenched[0][-1]) >= 1.0, rows          # its delay, in minutes
    assert any("quench" in r.text for r in browser.find_elements(By.CSS_SELECTOR, "tr.action"))


@needs_browser
def test_an_instructor_blocks_a_feeder_the_trainee_clears_it(live):
    """The instructor's page injects a fault into the trainee's line; the trainee's page raises its alarm, and the
    trainee clears the feeder from the page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    session, browser, url = live
    session.set_clock(speed=60.0)
    browser.get(url + "/instructor")
    _wait(lambda: browser.find_elements(By.CSS_SELECTOR, "#pot option"), 30, "the instructor's page")
    Select(browser.find_element(By.ID, "pot")).select_by_visible_text("PL1.P005")
    feeder = browser.find_element(By.ID, "feeder")
    feeder.clear()
    feeder.send_keys("2")
    browser.find_element(By.ID, "fault-feeder_block").click()
    message = browser.find_element(By.ID, "message")
    _wait(lambda: "block a feeder on PL1.P005" in message.text, 10, "the instructor's answer")
    browser.get(url)

    def alarms() -> list[str]:
        # read in one script: the list is drawn anew whenever the alarms change, so elements found go stale
        return browser.execute_script("return Array.from(document.querySelectorAll('.alarm'), a => a.textContent)")

    _wait(lambda: "PL1.P005: feeder" in alarms(), 60, "the feeder alarm on the trainee's page")
    browser.find_element(By.ID, "tile-4").click()
    _wait(lambda: browser.find_element(By.ID, "cell-name").text == "PL1.P005", 10, "the cell selected")
    field = browser.find_element(By.ID, "feeder")
    field.clear()
    field.send_keys("2")
    browser.find_element(By.ID, "act-clear_feeder").click()
    _wait(lambda: "clear a choked or blocked feeder on PL1.P005" in browser.find_element(By.ID, "message").text, 10,
          "the clear's answer")
    _wait(lambda: "PL1.P005: feeder" not in alarms(), 60, "the alarm's end")
    assert [(a.kind, a.cell, a.value) for a in session.driver.applied] == [("feeder_block", 4, 2.0),
                                                                           ("clear_feeder", 4, 2.0)]
