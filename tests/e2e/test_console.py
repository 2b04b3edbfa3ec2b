"""The web console in a real browser (headless chromium), against real processes:
logsvc-api, a logsvc-guestagent, a real Swift.

One browser for the session (tests/browser.py), one API stack for this module.
Screenshots of the main pages go to the module's temporary directory
(``console-screenshots*`` under pytest's basetemp), and, when
LOGSVC_CONSOLE_SHOTS names a directory, there too (docs/console.md's images).
"""

import os
import shutil
import subprocess

import pytest
import requests
from selenium.common.exceptions import (
    NoAlertPresentException,
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from api.console.text import show_lines
from tests.apistack import INSTANCE, OTHER_TENANT, Stack

OTHER = "inst-other"
HOSTILE = [
    b"<script>alert(1)</script>",
    b'<img src=x onerror="alert(2)">',
    b"\x1b[31mred\x1b[0m and \x1b]52;c;Y2xpcA==\x07 clipboard",
    b"bad utf-8: \xff\xfe\xc3(",
    b"tab\tseparated\r",
]
LONG_LINE = b"L" * (300 * 1024)
SMALL = b"".join(f"line {i}\n".encode() for i in range(1, 201))


def published(stack, log: str, content: bytes) -> None:
    """The log holds `content`, published (each test stands on its own)."""
    if stack.paths[log].read_bytes() != content:
        stack.paths[log].write_bytes(content)
    answer = stack.post(stack.alice, {"name": log, "publish": True})
    assert answer.status_code == 200, answer.text


@pytest.fixture(scope="module")
def stack(tmp_path_factory, devswift):
    s = Stack(tmp_path_factory.mktemp("console-stack"), devswift).start()
    s.register(OTHER, OTHER_TENANT, s.agent.url, name="not-yours")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    return tmp_path_factory.mktemp("console-screenshots")


@pytest.fixture
def b(browser, shots):
    browser.reset()
    browser.shots = shots
    yield browser
    extra = os.environ.get("LOGSVC_CONSOLE_SHOTS")
    if extra:
        os.makedirs(extra, exist_ok=True)
        for png in shots.glob("*.png"):
            shutil.copy(png, extra)


def wait(b, condition, timeout: float = 60):
    # a row is replaced as the answer arrives: an element found a moment ago may be gone
    ignored = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(b.driver, timeout, 0.05, ignored_exceptions=ignored).until(condition)


def sign_in(b, stack, token: str, path: str = "/console/") -> None:
    d = b.driver
    d.get(stack.api.url + path)
    wait(b, lambda d: d.find_elements(By.ID, "token"))
    d.find_element(By.ID, "token").send_keys(token)
    d.find_element(By.CSS_SELECTOR, "form.signin button[type=submit]").click()
    wait(b, lambda d: d.find_elements(By.CSS_SELECTOR, "form.who"))


def open_viewer(b, stack, log: str, content: bytes, lines: int):
    """The viewer of `log`, published with `content`, showing `lines` lines: its text."""
    published(stack, log, content)
    sign_in(b, stack, stack.alice, f"/console/instances/{INSTANCE}/logs/{log}/view?lines={lines}")
    return wait(b, lambda d: d.find_element(By.ID, "log-text"))


def no_dialog(b) -> None:
    with pytest.raises(NoAlertPresentException):
        b.driver.switch_to.alert  # noqa: B018 - raises when no dialog is open


def cookie_session(b) -> requests.Session:
    """A requests session holding the browser's cookies (for status codes)."""
    s = requests.Session()
    for c in b.driver.get_cookies():
        s.cookies.set(c["name"], c["value"], path=c.get("path", "/"))
    return s


def row(b, log: str):
    return b.driver.find_element(By.ID, f"log-{log}")


def status_of(b, log: str) -> str:
    return row(b, log).find_element(By.CSS_SELECTOR, "td.status .badge").text


def cells(b, log: str) -> list[str]:
    return [c.text for c in row(b, log).find_elements(By.CSS_SELECTOR, "th, td")]


def click_action(b, log: str, action: str) -> None:
    row(b, log).find_element(By.CSS_SELECTOR, f"button[value={action}]").click()


# --- the tests ----------------------------------------------------------------------


def test_sign_in_refuses_a_bad_token_then_lists_the_instances(b, stack):
    d = b.driver
    d.get(stack.api.url + "/console/instances")
    wait(b, lambda d: "/console/sign-in" in d.current_url)
    d.find_element(By.ID, "token").send_keys("lsv_not-a-token")
    d.find_element(By.CSS_SELECTOR, "form.signin button[type=submit]").click()
    wait(b, lambda d: d.find_elements(By.CSS_SELECTOR, "p.error"))
    assert "not valid" in d.find_element(By.CSS_SELECTOR, "p.error").text
    b.screenshot("sign-in")

    sign_in(b, stack, stack.alice)
    # the sign-in went back where it was asked for
    assert d.current_url.endswith("/console/instances")
    table = d.find_element(By.ID, "instances").text
    assert "db-one" in table and INSTANCE in table
    assert "not-yours" not in table and OTHER not in table
    cookie = next(c for c in d.get_cookies() if c["name"] == "logsvc_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert cookie["value"] not in stack.alice and stack.alice not in str(d.get_cookies())
    stack.wait_for_heartbeat()
    d.refresh()
    assert "never" not in d.find_element(By.ID, "instances").text  # the last heartbeat
    b.screenshot("instances")


def test_enable_and_publish_answer_in_place(b, stack):
    path = stack.paths["small"]
    path.write_bytes(SMALL)
    sign_in(b, stack, stack.alice)
    d = b.driver
    d.find_element(By.LINK_TEXT, "db-one").click()
    wait(b, lambda d: d.find_elements(By.ID, "log-small"))
    names = [
        r.get_attribute("data-log") for r in d.find_elements(By.CSS_SELECTOR, "#logs tbody tr")
    ]
    assert "small" in names and "hidden" not in names  # not exposed to the project
    assert status_of(b, "small") == "Disabled"
    url = d.current_url

    click_action(b, "small", "enable")
    wait(b, lambda d: status_of(b, "small") == "Ready")
    assert d.current_url == url  # in place: no navigation
    click_action(b, "small", "publish")
    wait(b, lambda d: status_of(b, "small") == "Published")
    size = path.stat().st_size
    assert cells(b, "small")[1:5] == ["USER", cells(b, "small")[2], str(size), "0"]
    assert stack.container in cells(b, "small")[5]
    assert stack.published("small") == path.read_bytes()
    assert d.current_url == url
    b.screenshot("instance")


def test_view_the_tail_and_load_earlier(b, stack):
    path = stack.paths["small"]
    pre = open_viewer(b, stack, "small", SMALL, 25)
    d = b.driver

    def tail(n: int) -> str:
        out = subprocess.run(["tail", "-n", str(n), str(path)], capture_output=True, check=True)
        return "\n".join(show_lines(out.stdout))

    assert pre.get_property("textContent") == tail(25)
    d.find_element(By.ID, "earlier").click()
    wait(b, lambda d: pre.get_property("textContent") == tail(50))

    # the search marks what it finds in the lines shown
    search = d.find_element(By.ID, "search")
    search.send_keys("line 17")
    wait(b, lambda d: d.find_elements(By.CSS_SELECTOR, "#log-text mark"))
    marks = d.find_elements(By.CSS_SELECTOR, "#log-text mark")
    assert {m.text for m in marks} == {"line 17"}
    assert len(marks) == sum(1 for line in tail(50).split("\n") if "line 17" in line)
    assert "match" in d.find_element(By.ID, "search-count").text
    search.send_keys(Keys.ENTER)
    # the text itself is unchanged by the marks
    assert pre.get_property("textContent") == tail(50)

    wrap = d.find_element(By.ID, "wrap")
    assert "wrap" not in pre.get_attribute("class")
    wrap.click()
    assert "wrap" in pre.get_attribute("class")
    d.execute_script("window.scrollTo(0, 0)")
    b.screenshot("viewer")


def test_the_viewer_follows_the_log_live(b, stack):
    path = stack.paths["small"]
    pre = open_viewer(b, stack, "small", SMALL, 5)
    d = b.driver
    shown = "\n".join(show_lines(SMALL)[-5:])
    assert pre.get_property("textContent") == shown
    live = d.find_element(By.ID, "live")
    assert live.find_element(By.XPATH, "..").text == "Follow live"  # its label
    status = d.find_element(By.ID, "live-status")
    assert status.get_attribute("aria-live") == "polite"
    live.send_keys(Keys.SPACE)  # from the keyboard
    wait(b, lambda d: status.text.startswith("following — last update"))
    search = d.find_element(By.ID, "search")
    search.send_keys("appended")

    # Lines appended to the file after the viewer opened, published: shown as text.
    added = b"appended after the viewer opened\n<script>alert(3)</script> appended too\n"
    with path.open("ab") as f:
        f.write(added)
    published(stack, "small", SMALL + added)
    shown += "\n" + "\n".join(show_lines(added))
    wait(b, lambda d: pre.get_property("textContent") == shown)
    no_dialog(b)
    assert [m.text for m in d.find_elements(By.CSS_SELECTOR, "#log-text mark")] == ["appended"] * 2
    assert "2 matches" in d.find_element(By.ID, "search-count").text
    b.screenshot("viewer-live")

    # A rotation (a new file, published): told, then the new file's lines.
    search.send_keys(Keys.BACKSPACE * len("appended"))  # as a user empties it
    wait(b, lambda d: not d.find_elements(By.CSS_SELECTOR, "#log-text mark"))
    path.write_bytes(b"a new file\n")
    published(stack, "small", b"a new file\n")
    wait(b, lambda d: pre.get_property("textContent").endswith("--\na new file"))
    told = pre.get_property("textContent").split("\n")[-2]
    assert told.startswith("-- the log rotated: generation ")
    assert pre.get_property("textContent") == shown + "\n" + told + "\na new file"
    assert d.find_elements(By.CSS_SELECTOR, "#log-text *") == []

    # Hidden (another tab in front), it pauses; shown again, it goes on.
    d.execute_script(
        "window.liveStates = [];"
        "new MutationObserver(function () {"
        "  liveStates.push(document.getElementById('live-status').textContent);"
        "}).observe(document.getElementById('live-status'), {childList: true});"
    )
    viewer = d.current_window_handle
    d.switch_to.new_window("tab")
    d.close()
    d.switch_to.window(viewer)
    paused = "following paused while the page is hidden"

    def states(d):
        seen = d.execute_script("return liveStates")
        return paused in seen and seen[-1].startswith("following — last update") and seen

    seen = wait(b, states)
    after = seen[seen.index(paused) + 1 :]  # the looks once shown again, with no error
    assert all(state.startswith("following — last update") for state in after), seen
    # The API (which serves the console) away: the error, while it lasts; then on again.
    stack.api.stop()
    wait(b, lambda d: "no answer from the console" in status.text)
    assert "trying again" in status.text
    b.screenshot("viewer-live-error")
    stack.api.start()
    wait(b, lambda d: status.text.startswith("following — last update"))

    live.click()
    wait(b, lambda d: status.text == "not following")
    no_dialog(b)


def test_download_is_the_whole_log(b, stack):
    path = stack.paths["small"]
    published(stack, "small", SMALL)
    sign_in(b, stack, stack.alice, f"/console/instances/{INSTANCE}")
    row(b, "small").find_element(By.LINK_TEXT, "Download").click()
    target = b.downloads / "small.log"
    wait(b, lambda d: target.exists() and not list(b.downloads.glob("*.crdownload")))
    assert target.read_bytes() == path.read_bytes()


def test_hostile_lines_are_shown_as_text(b, stack):
    pre = open_viewer(b, stack, "big", b"\n".join([*HOSTILE, LONG_LINE, b"the end"]) + b"\n", 10)
    d = b.driver
    no_dialog(b)
    shown = pre.get_property("textContent").split("\n")
    assert shown[0] == "<script>alert(1)</script>"
    assert shown[1] == '<img src=x onerror="alert(2)">'
    assert shown[2] == "\\x1b[31mred\\x1b[0m and \\x1b]52;c;Y2xpcA==\\x07 clipboard"
    assert shown[3] == "bad utf-8: \\xff\\xfe\\xc3("
    assert shown[4] == "tab\tseparated\\r"
    assert shown[5].startswith("L" * 1000) and "more characters" in shown[5]
    assert shown[6] == "the end"
    # nothing of the log became an element
    assert d.find_elements(By.CSS_SELECTOR, "#log-text *") == []
    assert d.find_elements(By.CSS_SELECTOR, "img") == []
    no_dialog(b)
    b.screenshot("viewer-hostile")


def test_discard_asks_first(b, stack):
    published(stack, "small", SMALL)
    sign_in(b, stack, stack.alice, f"/console/instances/{INSTANCE}")
    d = b.driver
    assert status_of(b, "small") == "Published"
    click_action(b, "small", "discard")
    box = wait(b, lambda d: d.find_element(By.CSS_SELECTOR, "#log-small .confirm"))
    assert "Discard what was published of small?" in box.text
    b.screenshot("discard-confirm")
    box.find_element(By.CSS_SELECTOR, "button.confirm-no").click()
    assert status_of(b, "small") == "Published"
    assert stack.published("small")

    click_action(b, "small", "discard")
    wait(b, lambda d: d.find_element(By.CSS_SELECTOR, "#log-small .confirm-yes")).click()
    wait(b, lambda d: cells(b, "small")[3] == "0")
    assert stack.published("small") == b""

    # without the script: a page of its own asks
    d.get(stack.api.url + f"/console/instances/{INSTANCE}/logs/small/discard")
    assert d.find_element(By.TAG_NAME, "h1").text == "Discard small?"


def test_another_projects_instance_is_not_there(b, stack):
    sign_in(b, stack, stack.alice)
    d = b.driver
    assert OTHER not in d.find_element(By.TAG_NAME, "main").text
    d.get(stack.api.url + f"/console/instances/{OTHER}")
    assert d.find_element(By.TAG_NAME, "h1").text == "404"
    http = cookie_session(b)
    for path in (f"/console/instances/{OTHER}", f"/console/instances/{OTHER}/logs/big/view"):
        assert http.get(stack.api.url + path, allow_redirects=False).status_code == 404
    # the same answer as for an instance that does not exist
    assert http.get(stack.api.url + "/console/instances/nope").status_code == 404


def test_a_form_without_its_csrf_token_is_refused(b, stack):
    sign_in(b, stack, stack.alice, f"/console/instances/{INSTANCE}")
    d = b.driver
    # A forged form: the page's own, stripped of its token, sent without the script.
    d.execute_script(
        "const f = document.querySelector('#log-small form.act');"
        "f.querySelector('input[name=csrf_token]').remove();"
        "HTMLFormElement.prototype.submit.call(f);"
    )
    wait(b, lambda d: d.find_element(By.TAG_NAME, "h1").text == "403")
    assert "CSRF" in d.find_element(By.CSS_SELECTOR, "p.error").text
    http = cookie_session(b)
    url = stack.api.url + f"/console/instances/{INSTANCE}/logs/small/disable"
    assert http.post(url, data={}, allow_redirects=False).status_code == 403
    assert http.post(url, data={"csrf_token": "guess"}, allow_redirects=False).status_code == 403
    assert stack.logs(stack.alice).json()["logs"][-1]["name"]  # the API still answers
    # from another site, even with the token
    page = http.get(stack.api.url + f"/console/instances/{INSTANCE}").text
    token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    other = http.post(
        url,
        data={"csrf_token": token},
        headers={"Origin": "http://evil.example"},
        allow_redirects=False,
    )
    assert other.status_code == 403


def test_security_headers(stack):
    resp = requests.get(stack.api.url + "/console/sign-in", timeout=30)
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    js = requests.get(stack.api.url + "/console/static/console.js", timeout=30)
    assert js.status_code == 200 and "textContent" in js.text


def test_admin_sees_every_instance_unexposed_logs_and_the_status(b, stack):
    sign_in(b, stack, stack.admin)
    d = b.driver
    table = d.find_element(By.ID, "instances").text
    assert "db-one" in table and "not-yours" in table
    d.find_element(By.LINK_TEXT, "db-one").click()
    wait(b, lambda d: d.find_elements(By.ID, "log-hidden"))
    d.find_element(By.LINK_TEXT, "Status").click()
    cards = wait(b, lambda d: d.find_elements(By.CSS_SELECTOR, "li.card"))
    names = {c.find_element(By.TAG_NAME, "h2").text for c in cards}
    assert {"database", "api-instances"} <= names
    raw = cards[0].find_element(By.TAG_NAME, "pre")
    assert not raw.is_displayed()
    cards[0].find_element(By.TAG_NAME, "summary").click()
    assert raw.is_displayed() and '"format_version"' in raw.text
    b.screenshot("status")


def test_readable_on_a_phone_and_at_200_percent(b, stack):
    sign_in(b, stack, stack.alice, f"/console/instances/{INSTANCE}")
    d = b.driver
    for name, (width, scale) in {"phone": (390, 1), "zoom-200": (640, 2)}.items():
        b.size(width, 900, scale)
        d.refresh()
        wait(b, lambda d: d.find_elements(By.ID, "log-small"))
        overflow = d.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name}: the page is {overflow}px wider than the screen"
        b.screenshot(f"instance-{name}")
    # every action is reachable from the keyboard, in order
    b.size(1280, 900)
    d.refresh()
    body = d.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    reached = []
    for _ in range(60):
        el = d.switch_to.active_element
        reached.append((el.tag_name, el.text or el.get_attribute("value")))
        el.send_keys(Keys.TAB)
    assert ("a", "Skip to content") in reached
    assert ("button", "Publish") in reached and ("a", "View") in reached


def test_sign_out_forgets_the_session(b, stack):
    sign_in(b, stack, stack.alice)
    d = b.driver
    http = cookie_session(b)
    assert http.get(stack.api.url + "/console/instances", allow_redirects=False).status_code == 200
    d.find_element(By.CSS_SELECTOR, "form.who button").click()
    wait(b, lambda d: "signed_out" in d.current_url)
    assert "You are signed out" in d.find_element(By.TAG_NAME, "main").text
    # the old cookie, replayed, opens nothing: the server forgot the session
    again = http.get(stack.api.url + "/console/instances", allow_redirects=False)
    assert again.status_code == 303 and "/console/sign-in" in again.headers["Location"]
