"""Open a run's report.html in headless Chromium and check the rendered page.

Needs Debian's /usr/bin/chromium and Python Playwright; screenshots at 1280
and 390 px width go to ``test-artifacts/`` at the repository root.
"""

import json
import os
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
WIDTHS = (1280, 390)
SMALL_RUN = [
    "reproduce",
    "all",
    "--protocol",
    "quick",
    "--quiet",
    "--exp1-epochs",
    "200",
    "--exp2-seeds",
    "1",
    "--exp2-test-size",
    "50",
    "--exp2-rows",
    "paper",
]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A run directory from a real, shortened ``falsestruct reproduce all``.

    Every stage runs (training, diagnosis, figures, report) with fewer epochs,
    seeds and test images than ``--protocol quick``: about 45 s on 2 cores,
    against about 160 s for the quick protocol itself.
    """
    from falsestruct.cli import main

    out = tmp_path_factory.mktemp("browser-runs")
    assert main([*SMALL_RUN, "--out", str(out)]) == 0
    (folder,) = out.glob("run-*")
    return folder


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        reason = f"{CHROMIUM} not found; install Debian's chromium package"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true, where .ci/run installs it)")
        pytest.skip(reason)
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module", params=WIDTHS, ids=lambda width: f"{width}px")
def loaded(request, browser, run_dir):
    """The report opened at one width, with the console errors it logged."""
    width = request.param
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto((run_dir / "report.html").as_uri(), wait_until="load")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"report-{width}px.png", full_page=True)
    yield width, page, errors
    page.close()


def metrics_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "metrics.json").read_text())


def table_rows(page, table_id: str) -> list[list[str]]:
    return page.eval_on_selector(
        f"#{table_id}",
        "t => Array.from(t.tBodies[0].rows, r => Array.from(r.cells, c => "
        "c.textContent.trim()))",
    )


def test_page_has_no_console_errors(loaded):
    _, _, errors = loaded
    assert errors == []


def test_every_image_decoded(loaded):
    _, page, _ = loaded
    images = page.eval_on_selector_all(
        "img",
        "imgs => imgs.map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])",
    )
    assert len(images) >= 1
    for src, complete, natural_width in images:
        assert complete, src
        assert natural_width > 0, src


def test_no_horizontal_page_overflow(loaded):
    width, page, _ = loaded
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width


def test_table1_reference_numbers(loaded, run_dir):
    _, page, _ = loaded
    reference = metrics_of(run_dir)["experiments"]["experiment2"]["reference"]
    if reference is None:
        text = page.inner_text("#experiment2")
        assert "its weight file was not found" in text
        return
    rows = table_rows(page, "table1-reference")
    assert len(rows) == len(reference["table1"])
    for row, expected in zip(rows, reference["table1"], strict=True):
        assert row[2] == f"{100 * expected['accuracy_tilde']:.1f} %"
        assert row[3] == f"{100 * expected['published_tilde']:.1f} %"
        assert row[4] == f"{100 * expected['accuracy_hat']:.1f} %"
        assert row[5] == f"{100 * expected['published_hat']:.1f} %"


def test_table1_variant_published_column(loaded, run_dir):
    _, page, _ = loaded
    variants = metrics_of(run_dir)["experiments"]["experiment2"]["variants"]
    for name, variant in variants.items():
        rows = table_rows(page, f"table1-{name}")
        published = [row[2] for row in rows]
        assert published == [
            f"{100 * r['published_tilde']:.1f} %" for r in variant["table1"]
        ]


def test_verdict_table_numbers(loaded, run_dir):
    _, page, _ = loaded
    networks = metrics_of(run_dir)["experiments"]["experiment1"]["networks"]
    rows = table_rows(page, "exp1-verdicts")
    assert len(rows) == len(networks)
    for row, net in zip(rows, networks, strict=True):
        assert row[0] == net["net"]
        assert row[3] == str(net["seed"])
        assert row[4] == f"{net['agreement_c0']:.3f}"
        assert row[5] == f"{net['agreement_c_delta']:.3f}"


def test_differences_stated_in_words(loaded):
    _, page, _ = loaded
    text = page.inner_text("#differences")
    assert "more than the" in text


def test_title_names_final_folder(loaded, run_dir):
    _, page, _ = loaded
    title = f"falsestruct report: {run_dir.name}"
    assert page.title() == title
    assert page.inner_text("h1") == title


def test_notes_shown_above_tables(loaded, run_dir):
    _, page, _ = loaded
    experiments = metrics_of(run_dir)["experiments"]
    notes = {name: exp.get("note") for name, exp in experiments.items()}
    assert any(notes.values())
    for name, note in notes.items():
        if not note:
            continue
        aside = page.locator(f"#{name} aside.note")
        assert aside.is_visible()
        assert note in aside.inner_text()
        table_top = page.locator(f"#{name} table").first.bounding_box()["y"]
        assert aside.bounding_box()["y"] < table_top


def test_no_plural_slips(loaded):
    _, page, _ = loaded
    text = page.inner_text("body")
    assert re.findall(r"\b1 (?:seeds|images|networks)\b", text) == []


def test_legend_states_both_rules(loaded):
    _, page, _ = loaded
    legend = page.inner_text("#differences .legend")
    assert "than the tolerance stated beside it" in legend
    assert "within the range over seeds" in legend


def test_sorting_by_column(loaded):
    _, page, _ = loaded
    header = page.locator("#exp1-verdicts th", has_text="agreement on C_0")
    header.click()
    ascending = [row[4] for row in table_rows(page, "exp1-verdicts")]
    assert ascending == sorted(ascending, key=float)
    header.click()
    descending = [row[4] for row in table_rows(page, "exp1-verdicts")]
    assert descending == sorted(ascending, key=float, reverse=True)
    page.reload(wait_until="load")


def test_screenshot_saved(loaded):
    width, _, _ = loaded
    assert (ARTIFACTS / f"report-{width}px.png").stat().st_size > 0
