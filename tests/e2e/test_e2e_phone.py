"""The app on a phone: 390 x 844 CSS pixels with touch and no hover, the screen Chromium's device
mode gives an iPhone 12 Pro (where the issue was seen).

Every page fits the screen (nothing scrolls sideways, nothing passes the right edge except inside
tables, equations and code, which scroll on purpose), no chart toolbar covers a title or legend
until the chart is touched, every tab is on the screen and can be chosen, the Train charts stack,
the scatter matrix's axis titles keep apart, the page links sit at the top of the page and leave
the sidebar closed, and the settings stay in the address from page to page (and so survive a
reload). Wide screens keep the sidebar's links and the charts side by side.

With ``SCREENSHOTS=1`` (or ``--screenshots``) each page is saved to docs/screenshots/phone/:
``<page>.png`` as the screen shows it, ``<page>-tall.png`` on a screen as tall as the page.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import expect

from dashboard.common import page_ui
from tests.e2e.conftest import screenshots_wanted
from tests.e2e.ui import NAV_TOP, PHONE, ROOT, SIDEBAR, App

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

SHOTS = ROOT / "docs" / "screenshots" / "phone"
PAGES = [p.label for p in page_ui.available_pages()]
# a link's settings: one hidden layer of 6 nodes and a short run (both differ from the defaults)
SETTINGS = {"hidden": "6", "epochs": "30"}
CHARTS = "[data-testid='stPlotlyChart']"
TRAIN_CHARTS = ("train-chart", "train-accuracy_chart")  # CSS classes of the keys: loss, accuracy


def address(path: str, settings: dict[str, str]) -> str:
    return path + "?" + "&".join(f"{k}={v}" for k, v in settings.items())


@pytest.fixture
def phone_screenshot(request):
    """``phone_screenshot(app, name)``: docs/screenshots/phone/<name>.png (the screen) and
    <name>-tall.png (a screen as tall as the page), when screenshots are asked for."""
    wanted = screenshots_wanted(request)

    def take(app: App, name: str) -> None:
        if wanted:
            app.rest_pointer()
            app.page.evaluate(
                "() => document.querySelector(\"[data-testid='stMain']\").scrollTo(0, 0)"
            )
            app.viewport_screenshot(SHOTS / f"{name}.png")
            app.screenshot(SHOTS / f"{name}-tall.png", max_height=8000)

    return take


# ---- what every page must do on a phone ----


def fits(app: App, where: str) -> list[str]:
    """Nothing sticks out to the right; no shown chart toolbar covers a title or legend."""
    app.rest_pointer()
    return [f"{where}: {problem}" for problem in app.overflow() + app.covered_titles()]


def toolbars_wait_for_a_touch(app: App, where: str) -> list[str]:
    """The charts show no toolbar until one is touched (hovered); then that one does."""
    app.rest_pointer()
    counts = app.toolbar_buttons()
    if not counts:
        return []
    problems = [f"{where}: toolbars shown untouched: {counts}"] if any(counts) else []
    # the first chart on screen (one in a closed expander, such as the Train page's schedule,
    # is in the page but not on screen)
    chart = next(c for c in app.page.locator(CHARTS).all() if c.is_visible())
    chart.scroll_into_view_if_needed()
    chart.hover()
    app.page.wait_for_timeout(500)
    if not app.toolbar_buttons_of(chart):
        problems.append(f"{where}: the first chart shows no toolbar when touched")
    app.rest_pointer()
    return problems


def tab_off_screen(tab) -> str | None:
    """Why the tab cannot be seen whole where it is (None when it can): off the screen, outside
    its tab bar's box, or partly under something else."""
    return tab.evaluate(
        """(t, width) => {
            const b = t.getBoundingClientRect(), bar = t.closest("[role='tablist']");
            const inside = bar.getBoundingClientRect();
            if (b.left < -1 || b.right > width + 1) return `at ${b.left}..${b.right} px`;
            if (b.left < inside.left - 1 || b.right > inside.right + 1)
                return `outside its tab bar (${b.right} > ${inside.right} px)`;
            const y = (b.top + b.bottom) / 2;
            const hidden = [b.left + 3, (b.left + b.right) / 2, b.right - 3].filter(
                x => !t.contains(document.elementFromPoint(x, y)));
            return hidden.length ? `partly covered (at x = ${hidden.join(', ')})` : null;
        }""",
        PHONE["width"],
    )


def tabs_reachable(app: App, where: str, each_tab=None) -> list[str]:
    """Every tab of every tab bar shown is whole on the screen, with its bar as it first appears
    (not scrolled), and can be chosen; ``each_tab(label)`` adds checks with that tab open."""
    problems = []
    bars = app.page.locator("[data-testid='stTabs'] [role='tablist']")
    for i in range(bars.count()):
        bar = bars.nth(i)
        if not bar.is_visible():
            continue  # inside a closed expander
        # the bar to the middle of the screen (its tabs stay where they are along the bar)
        bar.evaluate("b => b.scrollIntoView({block: 'center', behavior: 'instant'})")
        tabs = bar.get_by_role("tab")
        labels = [text.strip() for text in tabs.all_inner_texts()]
        for j, label in enumerate(labels):
            why = tab_off_screen(tabs.nth(j))
            if why:
                problems.append(f"{where}: the tab {label!r} is not whole on the screen: {why}")
        for j, label in enumerate(labels):
            tab = bars.nth(i).get_by_role("tab").nth(j)  # found again: a tab may rerun the page
            tab.click()
            expect(tab).to_have_attribute("aria-selected", "true")
            app.settle()
            app.page.wait_for_timeout(600)  # charts in a tab just shown lay themselves out
            problems += fits(app, f"{where}, tab {label}")
            if each_tab:
                problems += each_tab(label)
    return problems


def data_tabs(app: App, screenshot):
    """With the scatter matrix open: its axis titles keep apart."""

    def check(label: str) -> list[str]:
        if label != "Scatter matrix":
            return []
        screenshot(app, "data-scatter-matrix")
        crowded = app.crowded_axis_titles("data.splom")
        return [f"Data, scatter matrix: {problem}" for problem in crowded]

    return check


def equations_scroll(app: App, screenshot):
    """With the Backprop step open: every equation wider than the screen scrolls sideways and
    its scroll bar is not transparent (Streamlit's default colour for it)."""

    def check(label: str) -> list[str]:
        if label != "Backprop step":
            return []
        screenshot(app, "inside-backprop")
        wide = app.page.evaluate(
            """() => [...document.querySelectorAll('.katex-display')]
                .filter(e => e.scrollWidth > e.clientWidth + 1)
                .map(e => [getComputedStyle(e).overflowX, getComputedStyle(e).scrollbarColor])"""
        )
        if not wide:
            return ["Inside, Backprop step: no equation is wider than a phone (expected some)"]
        return [
            f"Inside, Backprop step: a wide equation (overflow-x {overflow}, scroll bar colours "
            f"{colors}) does not show that it scrolls sideways"
            for overflow, colors in wide
            if overflow not in ("auto", "scroll") or colors.startswith("rgba(0, 0, 0, 0)")
        ]

    return check


def train_charts_stack(app: App) -> list[str]:
    """The loss and accuracy charts one above the other, each as wide as the screen allows."""
    charts = [app.page.locator(f".st-key-{key} {CHARTS}") for key in TRAIN_CHARTS]
    if not all(chart.count() == 1 for chart in charts):
        return ["Train: the loss and accuracy charts are not both there"]
    loss, accuracy = (chart.bounding_box() for chart in charts)
    if accuracy["y"] < loss["y"] + loss["height"] - 1 or min(loss["width"], accuracy["width"]) < (
        0.8 * PHONE["width"]
    ):
        return [f"Train: the charts do not stack: loss {loss}, accuracy {accuracy}"]
    return []


def test_every_page_fits_a_phone(new_phone, phone_screenshot):
    app = new_phone(address("/Train", SETTINGS))
    app.start_training()
    app.expect(app.epoch, (30, 30), timeout=120, what="the 30-epoch run to finish")
    app.settle()
    problems = []
    for page in PAGES:
        app.nav_top(page)
        assert app.heading() == (page if page != "Home" else "Neural network lab")
        problems += fits(app, page)
        problems += toolbars_wait_for_a_touch(app, page)
        if page == "Train":
            problems += train_charts_stack(app)
        phone_screenshot(app, page.lower())
        each_tab = {"Data": data_tabs, "Inside": equations_scroll}.get(page)
        each_tab = each_tab and each_tab(app, phone_screenshot)
        problems += tabs_reachable(app, page, each_tab)
    assert not problems, "\n".join(problems)


# ---- getting around ----


def link_settings(link) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(link.get_attribute("href") or "").query))


def test_phone_page_links_keep_the_sidebar_closed_and_the_settings(new_phone):
    settings = {"hidden": "7", "lr": "0.2"}
    app = new_phone(address("/Architecture", settings))
    assert settings.items() <= app.query().items(), app.page.url
    assert not app.sidebar_open(), "the sidebar starts open over the page"

    # the page links are at the top of the page, carrying the settings in their addresses
    expect(app.page.locator(NAV_TOP).get_by_role("link")).to_have_count(len(PAGES))
    for page in PAGES:
        link = app.nav_top_link(page)
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        assert settings.items() <= link_settings(link).items(), link.get_attribute("href")

    # the sidebar (opened by hand) tells where the session stands, without page links that
    # would leave it open over the next page
    app.page.get_by_test_id("stExpandSidebarButton").click()
    app.wait_until(app.sidebar_open, timeout=10, what="the sidebar to open")
    sidebar = app.page.locator(SIDEBAR)
    expect(sidebar).to_contain_text("Training: not started")
    shown = [link for link in sidebar.get_by_role("link").all() if link.is_visible()]
    assert not shown, [link.get_attribute("href") for link in shown]
    sidebar.get_by_role("button", name="Collapse sidebar").click()
    app.wait_until(lambda: not app.sidebar_open(), timeout=10, what="the sidebar to close")

    for page in ("Train", "Data", "Home", "Inside", "Compare", "Architecture"):
        app.nav_top(page)
        assert not app.sidebar_open(), f"the sidebar is open on {page}"
        assert settings.items() <= app.query().items(), (page, app.page.url)

    # a reload is a new session: it reads the experiment from the address
    app.page.reload()
    app.page.wait_for_selector("h1")
    app.settle()
    assert settings.items() <= app.query().items(), app.page.url
    assert app.metric("Parameters (weights and biases)") == "59"  # 4-7-3: 5*7 + 8*3


def test_wide_screens_keep_the_sidebar_links_and_the_charts_side_by_side(new_app):
    settings = {"hidden": "7", "epochs": "5"}
    app = new_app(address("/Train", settings))
    assert app.sidebar_open()
    expect(app.page.locator(NAV_TOP)).to_be_hidden()
    for page in PAGES:
        expect(app.page.locator(SIDEBAR).get_by_role("link", name=page, exact=True)).to_be_visible()

    app.start_training()
    app.expect(app.epoch, (5, 5), timeout=60, what="the 5-epoch run to finish")
    app.settle()
    loss, accuracy = (
        app.page.locator(f".st-key-{key} {CHARTS}").bounding_box() for key in TRAIN_CHARTS
    )
    assert loss and accuracy
    assert abs(loss["y"] - accuracy["y"]) < 2 and loss["x"] + loss["width"] <= accuracy["x"]

    app.nav("Compare")
    assert settings.items() <= app.query().items(), app.page.url
    app.nav("Home")
    assert settings.items() <= app.query().items(), app.page.url
