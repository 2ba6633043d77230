"""Every page of the customer and promoter systems on a phone (375×667) and a desktop (1366×900),
in German and English, in a real browser.

Per page: no horizontal scrolling; the heading, the flash message and the main action are not
under the menu (``elementFromPoint`` at their centre hits them); the main action can be
clicked; touch targets are at least 44 px; the menu marks the current page. The menu itself
folds behind its button on a phone. The pages come from tests/pages.py; each size and language
is one test with one logged-in browser context per role, and reports every failure at once.

``SCREENSHOTS=<folder>`` (``make screenshots``) also saves each page to <folder>/gallery/ and
the README's selection to <folder>/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser import open_as
from tests.pages import CUSTOMER_PAGES, PROMOTER_PAGES, Page

pytestmark = pytest.mark.browser

#: Why an element's centre does not hit the element itself (None: it does).
NOT_HIT = """el => {
  const r = el.getBoundingClientRect();
  if (!r.width || !r.height) return "is not displayed";
  const x = r.left + r.width / 2, y = r.top + r.height / 2;
  if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) {
    return `is outside the window (centre at ${Math.round(x)},${Math.round(y)})`;
  }
  const hit = document.elementFromPoint(x, y);
  if (hit === el || el.contains(hit)) return null;
  if (!hit) return "is hit by nothing";
  const classes = typeof hit.className === "string" ? hit.className.trim().split(/\\s+/) : [];
  const name = hit.tagName.toLowerCase() + (hit.id ? "#" + hit.id : "") + classes.map(c => "." + c).join("");
  return `is covered by <${name}>`;
}"""

#: Visible controls smaller than 44×44 px (a checkbox or radio button counts with its label).
SMALL_TARGETS = """() => {
  const controls = document.querySelectorAll(
    "a.btn, button, input:not([type=hidden]), select, textarea, .site-menu a");
  const small = [];
  for (const el of controls) {
    if (!el.getClientRects().length) continue;
    if (el.closest('[aria-hidden="true"]') && el.tabIndex < 0) continue;  // neither seen, heard nor focused
    const box = (el.type === "checkbox" || el.type === "radio") ? (el.closest("label") || el) : el;
    const r = box.getBoundingClientRect();
    if (r.width < 44 || r.height < 44) {
      const text = (el.innerText || el.value || el.name || "").trim().slice(0, 30);
      small.push(`<${el.tagName.toLowerCase()}> "${text}" ${Math.round(r.width)}×${Math.round(r.height)} px`);
    }
  }
  return small;
}"""


def _shot(page, spec: Page, size: str, lang: str) -> None:
    folder = os.environ.get("SCREENSHOTS")
    if not folder:
        return
    gallery = Path(folder) / "gallery"
    gallery.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(gallery / f"{spec.name}-{size}-{lang}.png"))
    if spec.readme and lang == "de":
        page.screenshot(path=str(Path(folder) / f"{spec.name}-{size}.png"))


def _not_hit(page, locator, what: str, where: str) -> list[str]:
    reason = locator.evaluate(NOT_HIT)
    return [f"{where}: {what} {reason}"] if reason else []


def check_page(page, base: str, spec: Page, places: dict, size: str, lang: str) -> list[str]:
    """Everything wrong with one page, as sentences."""
    where = f"{spec.name} ({size}, {lang})"
    response = page.goto(base + spec.path.format(**places))
    if response is None or response.status >= 400:
        return [f"{where}: HTTP {response.status if response else 'no answer'}"]
    _shot(page, spec, size, lang)
    problems = []
    if page.get_attribute("html", "lang") != lang:
        problems.append(f"{where}: <html lang> is {page.get_attribute('html', 'lang')!r}")
    width, window = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    if width > window:
        problems.append(f"{where}: the page is {width} px wide in a {window} px window")
    headings = page.locator("main h1")
    if headings.count() != 1:
        problems.append(f"{where}: {headings.count()} <h1> in <main> instead of one")
    else:
        problems += _not_hit(page, headings, "the heading", where)
    if spec.flash:
        flash = page.locator(".flash-messages .alert")
        if flash.count() == 0:
            problems.append(f"{where}: no flash message")
        else:
            problems += _not_hit(page, flash.first, "the flash message", where)
    if spec.logged_in:
        current = page.locator(".site-main a[aria-current=page]")
        if current.count() != 1:
            problems.append(f"{where}: {current.count()} menu entries are marked as the current page")
    problems += [f"{where}: touch target {target}" for target in page.evaluate(SMALL_TARGETS)]
    if spec.primary:
        problems += _check_primary(page, spec, where)
    return problems


def _check_primary(page, spec: Page, where: str) -> list[str]:
    button = page.locator(spec.primary).first
    if button.count() == 0:
        return [f"{where}: no main action {spec.primary!r}"]
    button.scroll_into_view_if_needed()
    problems = _not_hit(page, button, "the main action", where)
    try:
        button.click(trial=True, timeout=3000)
    except Exception as error:  # Playwright says why (covered, disabled, moving)
        problems.append(f"{where}: the main action cannot be clicked: {str(error).splitlines()[0]}")
        return problems
    if spec.primary_flashes:
        with page.expect_navigation():
            button.click()
        flash = page.locator(".flash-messages .alert")
        if flash.count() == 0:
            problems.append(f"{where}: no flash message after the main action")
        else:
            problems += _not_hit(page, flash.first, "the flash message after the main action", where)
    return problems


def check_menu(page, size: str, where: str) -> list[str]:
    """On a phone the menu folds behind its button (mouse and keyboard); on a desktop it is open."""
    toggle = page.locator(".menu-toggle")
    menu = page.locator("#site-menu")
    first_entry = menu.locator(".site-main a").first
    if size == "desktop":
        problems = [f"{where}: the menu button shows on a desktop"] if toggle.is_visible() else []
        return problems + ([] if first_entry.is_visible() else [f"{where}: the menu is hidden on a desktop"])
    problems = []
    if not toggle.is_visible() or menu.is_visible():
        return [f"{where}: the menu is not folded behind its button on a phone"]
    if toggle.get_attribute("aria-expanded") != "false":
        problems.append(
            f"{where}: the closed menu's button says aria-expanded={toggle.get_attribute('aria-expanded')}"
        )
    toggle.click()
    if toggle.get_attribute("aria-expanded") != "true" or not first_entry.is_visible():
        return problems + [f"{where}: the menu button does not open the menu"]
    heading = page.locator("main h1")
    heading.scroll_into_view_if_needed()
    problems += _not_hit(page, heading, "the heading (menu open)", where)
    page.keyboard.press("Escape")
    if menu.is_visible() or toggle.get_attribute("aria-expanded") != "false":
        problems.append(f"{where}: Escape does not close the menu")
    if not toggle.evaluate("el => el === document.activeElement"):
        problems.append(f"{where}: after Escape the focus is not back on the menu button")
    page.keyboard.press("Enter")
    if not first_entry.is_visible():
        problems.append(f"{where}: Enter on the menu button does not open the menu")
    page.keyboard.press("Enter")
    return problems


def _check_system(
    browser, base: str, pages: tuple[Page, ...], places: dict, size: str, lang: str
) -> list[str]:
    role = pages[0].role
    context, page = open_as(browser, base, role, lang, size, logged_in=False)
    try:
        problems = []
        for spec in (p for p in pages if not p.logged_in):
            problems += check_page(page, base, spec, places, size, lang)
        context.close()
        context, page = open_as(browser, base, role, lang, size)
        start = next(p for p in pages if p.logged_in)
        page.goto(base + start.path)
        problems += check_menu(page, size, f"{start.name} menu ({size}, {lang})")
        for spec in (p for p in pages if p.logged_in):
            problems += check_page(page, base, spec, places, size, lang)
        return problems
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_every_page_fits_the_window_and_nothing_hides_under_the_menu(
    browser, live_server, page_places, size, lang
):
    problems = []
    for pages in (CUSTOMER_PAGES, PROMOTER_PAGES):
        problems += _check_system(browser, live_server, pages, page_places, size, lang)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


def test_lists_become_cards_with_their_column_names_on_a_phone(browser, live_server):
    context, page = open_as(browser, live_server, "customer", "en", "phone")
    try:
        page.goto(live_server + "/portal/stores")
        first = page.locator("#stores tbody tr").first
        cells = first.locator("td")
        assert page.locator("#stores thead").evaluate("el => el.getBoundingClientRect().height") <= 1
        assert cells.first.get_attribute("data-label") == "Store"
        assert cells.first.evaluate("el => getComputedStyle(el, '::before').content") == '"Store"'
        # One card: the cells stack inside the window instead of standing side by side.
        boxes = [cells.nth(i).bounding_box() for i in range(3)]
        assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"]
        assert all(box["x"] + box["width"] <= 375 for box in boxes)
        page.set_viewport_size({"width": 1366, "height": 900})
        boxes = [cells.nth(i).bounding_box() for i in range(3)]
        assert boxes[0]["y"] == boxes[1]["y"] == boxes[2]["y"], "a table row on a desktop"
    finally:
        context.close()


#: Widths from the smallest phone to a wide desktop, with both sides of every breakpoint.
WIDTHS = (320, 360, 414, 767, 768, 991, 992, 1024, 1199, 1200, 1440, 1920)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_at_no_width_from_320_to_1920_px_the_menu_hides_content(browser, live_server, lang):
    problems = []
    for role, path in (("customer", "/portal/proposals/"), ("promoter", "/promoter/")):
        context, page = open_as(browser, live_server, role, lang, "phone")
        try:
            page.goto(live_server + path)
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 800})
                where = f"{path} at {width} px ({lang})"
                scroll_width = page.evaluate("document.documentElement.scrollWidth")
                if scroll_width > width:
                    problems.append(f"{where}: the page is {scroll_width} px wide")
                problems += _not_hit(page, page.locator("main h1"), "the heading", where)
                menu_bottom = page.locator(".site-header").evaluate("el => el.getBoundingClientRect().bottom")
                top = page.locator("main").evaluate("el => el.getBoundingClientRect().top")
                if top < menu_bottom:
                    problems.append(
                        f"{where}: the content starts at {top} px, under the menu ending at {menu_bottom}"
                    )
        finally:
            context.close()
    assert not problems, "\n".join(problems)
