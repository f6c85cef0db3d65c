"""Tests of the HTML report: content, gaps, comparisons, atomic write, CLI."""

import copy
import html as html_module
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from falsestruct import _report
from falsestruct._report import read_metrics, render_report, write_report
from falsestruct.cli import main


class TableParser(HTMLParser):
    """Collect the text of every cell of every table with an id, row by row."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.images: list[str] = []
        self.links: list[str] = []
        self._table = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "id" in attrs:
            self._table = self.tables.setdefault(attrs["id"], [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []
        elif tag == "img":
            self.images.append(attrs.get("src", ""))
        elif tag in ("link", "script") and ("href" in attrs or "src" in attrs):
            self.links.append(attrs.get("href") or attrs.get("src"))

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._cell is not None:
            self._table[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(html: str) -> TableParser:
    parser = TableParser()
    parser.feed(html)
    return parser


def text_of(html: str) -> str:
    """The page's visible text with tags removed and whitespace collapsed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return html_module.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def row_starting(table: list[list[str]], *first: str) -> list[str]:
    for row in table:
        if tuple(row[: len(first)]) == first:
            return row
    raise AssertionError(f"no row starting with {first} in {table}")


# --- full metrics ------------------------------------------------------------


@pytest.fixture
def full_report(synthetic_run_dir) -> tuple[Path, str]:
    run_dir = synthetic_run_dir()
    path = write_report(run_dir)
    return run_dir, path.read_text(encoding="utf-8")


def test_report_written_in_run_dir(full_report):
    run_dir, html = full_report
    assert (run_dir / "report.html").is_file()
    assert html.startswith("<!DOCTYPE html>")


def test_report_run_facts(full_report):
    _, html = full_report
    text = text_of(html)
    assert "falsestruct reproduce all --protocol quick --seeds 2 --out runs" in text
    assert "0123456789ab" in text
    assert "Synthetic CPU @ 2.0GHz" in text
    assert "54.2 s" in text
    assert '"test_size": 1000' in text
    stages = parse(html).tables["stages"]
    assert row_starting(stages, "experiment1 training") == [
        "experiment1 training",
        "41.2 s",
    ]


def test_report_table1_reference_numbers(full_report):
    _, html = full_report
    table = parse(html).tables["table1-reference"]
    assert table[0][:6] == [
        "b",
        "c",
        "C̃ measured",
        "C̃ published",
        "Ĉ measured",
        "Ĉ published",
    ]
    row = row_starting(table, "0.007", "0.008")
    assert row[2:6] == ["96.2 %", "98.7 %", "0.0 %", "0.0 %"]
    assert "C̃ differs by 2.5 points" in row[6]
    assert row_starting(table, "0.006", "0.007")[2:6] == [
        "98.5 %",
        "98.5 %",
        "0.6 %",
        "0.6 %",
    ]


def test_report_table1_variant_seed_spread(full_report):
    _, html = full_report
    table = parse(html).tables["table1-authors"]
    row = row_starting(table, "0.009", "0.010")
    assert row[2] == "100.0 %"
    assert row[3] == "98.8 ± 1.2 % (97.7–100.0)"
    assert row[4] == "1 of 2"
    assert row[5] == "0.0 %"
    assert row[6] == "15.5 ± 15.5 % (0.0–31.0)"
    assert row[7] == "1 of 2"
    paper_row = row_starting(parse(html).tables["table1-paper"], "0.009", "0.010")
    assert paper_row[3] == "100.0 % (every seed)"


def test_report_verdict_table(full_report):
    _, html = full_report
    table = parse(html).tables["exp1-verdicts"]
    row = row_starting(table, "Psi2", "T^5000_0", "5000", "1")
    assert row[4:7] == ["0.878", "0.888", "0.466"]
    assert row[7:9] == ["false structure g", "neither"]
    assert row[10] == "Psi2-seed1.npz"
    spread = parse(html).tables["exp1-spread"]
    assert row_starting(spread, "Psi1")[2:5] == ["200000", "2", "0.412–0.422"]


def test_report_states_rule_and_note(full_report):
    _, html = full_report
    assert "agreement on C_delta &gt;= 0.99" in html
    assert "Protocol quick: short training, so verdicts may differ." in html


def test_report_differences_in_words(full_report):
    _, html = full_report
    text = text_of(html)
    assert (
        "C̃: 96.2 % differs from the published 98.7 % by 2.5 points, "
        "more than the 1.5-point tolerance" in text
    )
    assert (
        "0.870 differs from the published 0.888 by 0.018, more than the 0.005 "
        "tolerance" in text
    )
    assert (
        "Psi2 seed 1 learned the false structure g, but the paper reports neither"
        in text
    )
    assert (
        "Ĉ: the published 0.0 % lies outside the range over seeds (98.2 % to "
        "99.5 %) by 98.2 points, more than the 1.5-point tolerance. The mean over "
        "seeds is 98.8 %." in text
    )


def test_report_seed_range_within_tolerance(full_report):
    _, html = full_report
    text = html_module.unescape(html)
    assert (
        "Ĉ: the published 0.0 % lies outside the range over seeds (0.2 % to "
        "31.2 %) by 0.2 points, within the 1.5-point tolerance" in text
    )
    assert (
        "C̃: the published 100.0 % lies 0.4 points from the accuracy of every seed "
        "(99.6 %), within the 1.5-point tolerance" in text
    )
    assert (
        "C̃: the published 100.0 % lies within the range over seeds (97.7 % to "
        "100.0 %)" in text
    )
    listed = "[0.008, 0.009]: Ĉ: the published 0.0 % lies outside the range over "
    assert listed + "seeds (0.2 %" not in text_of(html)


def test_report_agreement_not_listed_as_difference(full_report):
    _, html = full_report
    text = text_of(html)
    assert "Psi1 agreement on C_0" not in text
    assert "Psi4 seed" not in text


def test_report_images_relative_and_present(full_report):
    run_dir, html = full_report
    images = parse(html).images
    assert sorted(images) == [
        "experiment1/figure2.png",
        "experiment2/figure3-authors.png",
        "experiment2/figure3-paper.png",
        "experiment2/figure4.png",
    ]
    for src in images:
        assert (run_dir / src).is_file()


def test_report_needs_no_network(full_report):
    _, html = full_report
    assert parse(html).links == []
    assert "http://" not in html
    assert "https://" not in html


def test_report_escapes_html(synthetic_run_dir, synthetic_metrics):
    synthetic_metrics["command"] = "falsestruct reproduce --out '<script>x</script>'"
    html = write_report(synthetic_run_dir(synthetic_metrics)).read_text()
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html


def test_report_variant_comparison_column(full_report):
    _, html = full_report
    table = parse(html).tables["table1-authors"]
    assert table[0][-1] == "comparison"
    row = row_starting(table, "0.009", "0.010")
    assert row[-1] == "C̃ within seed range; Ĉ within seed range"
    paper_row = row_starting(parse(html).tables["table1-paper"], "0.009", "0.010")
    assert "Ĉ 98.2 points outside seed range" in paper_row[-1]


def test_report_legend_states_both_rules(full_report):
    _, html = full_report
    legend = text_of(html.split('<div class="legend">')[1].split("</div>")[0])
    assert "further from the published one than the tolerance" in legend
    assert "within the range over seeds (lowest to highest)" in legend
    assert "outside that range by more than the tolerance" in legend
    assert "any seed could have produced" in legend


def test_report_variant_table_states_rule(full_report):
    _, html = full_report
    after_caption = html.split('id="table1-paper-caption">', 1)[1]
    caption, rest = after_caption.split("</p>", 1)
    assert (
        caption == "Table 1, networks trained on the training set the paper describes"
    )
    assert text_of(rest).lstrip().startswith("Green: the published accuracy lies")


def test_report_note_at_section_top(full_report):
    _, html = full_report
    section = html.split('<section id="experiment1">')[1]
    note = section.index('<aside class="note" role="note">')
    assert note < section.index('<dl class="facts">')
    assert "Protocol quick: short training" in section[note : section.index("</aside>")]


def test_report_experiment2_note_shown(synthetic_run_dir, synthetic_metrics):
    exp2 = synthetic_metrics["experiments"]["experiment2"]
    exp2["note"] = "Epochs set to 5 with --exp2-epochs; the paper trains 10."
    html = write_report(synthetic_run_dir(synthetic_metrics, figures=False)).read_text()
    section = html.split('<section id="experiment2">')[1]
    assert '<aside class="note" role="note">' in section
    assert "Epochs set to 5 with --exp2-epochs" in section


def test_report_without_note_has_no_aside(synthetic_run_dir, synthetic_metrics):
    del synthetic_metrics["experiments"]["experiment1"]["note"]
    html = write_report(synthetic_run_dir(synthetic_metrics, figures=False)).read_text()
    assert '<aside class="note"' not in html


def test_report_paper_verdict_null(synthetic_run_dir, synthetic_metrics):
    exp1 = synthetic_metrics["experiments"]["experiment1"]
    for net in exp1["networks"]:
        if net["net"] == "Psi2":
            net["paper_verdict"] = None
    html = write_report(synthetic_run_dir(synthetic_metrics, figures=False)).read_text()
    tables = parse(html).tables
    not_comparable = "not comparable (parameters differ from the paper's)"
    row = row_starting(tables["exp1-verdicts"], "Psi2", "T^5000_0", "5000", "1")
    assert row[8] == not_comparable
    spread = row_starting(tables["exp1-spread"], "Psi2")
    assert spread[-2] == not_comparable
    assert spread[-1] == "not comparable"
    assert "Psi2 seed 1 learned" not in text_of(html)


def test_report_paper_verdict_missing(synthetic_run_dir, synthetic_metrics):
    del synthetic_metrics["experiments"]["experiment1"]["networks"][0]["paper_verdict"]
    html = write_report(synthetic_run_dir(synthetic_metrics, figures=False)).read_text()
    row = row_starting(parse(html).tables["exp1-verdicts"], "Psi1", "T^7_delta")
    assert row[8] == "not recorded"


@pytest.mark.parametrize(
    ("seeds", "expected", "wrong"),
    [
        (1, "1 seed per training set", "1 seeds"),
        (2, "2 seeds per training set", "2 seed per"),
    ],
)
def test_report_plural_seeds(
    synthetic_run_dir, synthetic_metrics, seeds, expected, wrong
):
    experiments = synthetic_metrics["experiments"]
    experiments["experiment1"]["seeds"] = seeds
    experiments["experiment2"]["seeds"] = seeds
    experiments["experiment2"]["test_size"] = seeds
    html = write_report(synthetic_run_dir(synthetic_metrics, figures=False)).read_text()
    text = text_of(html)
    assert expected in text
    assert wrong not in text
    noun = "seed" if seeds == 1 else "seeds"
    image = "image" if seeds == 1 else "images"
    assert f"{seeds} {noun} per network" in text
    assert f"{seeds} {image} per test set" in text


def test_report_single_seed_wording(synthetic_run_dir, synthetic_metrics):
    experiments = synthetic_metrics["experiments"]
    experiments["experiment1"]["networks"] = [
        n for n in experiments["experiment1"]["networks"] if n["seed"] == 0
    ]
    del experiments["experiment1"]["verdict_counts"]
    experiments["experiment2"]["seeds"] = 1
    for variant in experiments["experiment2"]["variants"].values():
        for row in variant["table1"]:
            for key in ("tilde", "hat"):
                value = row["per_seed"][0][f"accuracy_{key}"]
                row[key] = {"mean": value, "std": 0.0, "min": value, "max": value}
    html = write_report(synthetic_run_dir(synthetic_metrics, figures=False)).read_text()
    text = text_of(html)
    assert "1 seeds" not in text
    assert "1 of 1 seed as in paper" in text
    row = row_starting(parse(html).tables["table1-paper"], "0.009", "0.010")
    assert row[3] == "100.0 % (1 seed)"
    assert (
        "Ĉ: the published 0.0 % lies 98.2 points from the accuracy of the single "
        "seed (98.2 %), more than the 1.5-point tolerance." in text
    )


# --- gaps --------------------------------------------------------------------


def test_report_empty_metrics(synthetic_run_dir):
    run_dir = synthetic_run_dir({}, figures=False)
    text = text_of(write_report(run_dir).read_text())
    assert "Experiment I was not run or not recorded" in text
    assert "Experiment II was not run or not recorded" in text
    assert "git revision not recorded" in text
    assert "wall time not recorded" in text


def test_report_command_from_command_txt(synthetic_run_dir):
    run_dir = synthetic_run_dir({}, figures=False)
    (run_dir / "command.txt").write_text("falsestruct reproduce experiment2\n")
    text = text_of(write_report(run_dir).read_text())
    assert "command falsestruct reproduce experiment2" in text


def test_report_without_config_and_command(synthetic_run_dir):
    run_dir = synthetic_run_dir({}, figures=False)
    (run_dir / "config.json").unlink()
    (run_dir / "command.txt").unlink()
    text = text_of(write_report(run_dir).read_text())
    assert "command not recorded" in text
    assert "Configuration not recorded" in text


def test_report_invalid_config_noted(synthetic_run_dir):
    run_dir = synthetic_run_dir({}, figures=False)
    (run_dir / "config.json").write_text("{broken")
    text = text_of(write_report(run_dir).read_text())
    assert "config.json could not be read" in text


def drop(metrics: dict, dotted: str) -> dict:
    metrics = copy.deepcopy(metrics)
    *parents, last = dotted.split(".")
    node = metrics
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        del node[int(last)]
    else:
        del node[last]
    return metrics


@pytest.mark.parametrize(
    "dotted",
    [
        "falsestruct_version",
        "git_revision",
        "machine",
        "machine.cores",
        "stages",
        "wall_seconds",
        "experiments.experiment1.rule",
        "experiments.experiment1.networks",
        "experiments.experiment1.reference",
        "experiments.experiment1.figures",
        "experiments.experiment1.networks.0.agreement_c0",
        "experiments.experiment1.networks.3.verdict",
        "experiments.experiment1.reference.1.published",
        "experiments.experiment2.seeds",
        "experiments.experiment2.variants",
        "experiments.experiment2.reference",
        "experiments.experiment2.variants.paper.table1",
        "experiments.experiment2.variants.authors.table1.0.tilde",
        "experiments.experiment2.variants.authors.table1.1.published_tilde",
        "experiments.experiment2.reference.table1.2.accuracy_tilde",
    ],
)
def test_report_marks_missing_field(synthetic_run_dir, synthetic_metrics, dotted):
    run_dir = synthetic_run_dir(drop(synthetic_metrics, dotted), figures=False)
    html = write_report(run_dir).read_text()
    assert "not recorded" in html


def test_report_missing_table1_value_marked(synthetic_run_dir, synthetic_metrics):
    dotted = "experiments.experiment2.reference.table1.2.accuracy_tilde"
    run_dir = synthetic_run_dir(drop(synthetic_metrics, dotted), figures=False)
    table = parse(write_report(run_dir).read_text()).tables["table1-reference"]
    row = row_starting(table, "0.007", "0.008")
    assert row[2] == "not recorded"
    assert "C̃ not recorded" in row[6]


def test_report_counts_verdicts_when_counts_missing(
    synthetic_run_dir, synthetic_metrics
):
    del synthetic_metrics["experiments"]["experiment1"]["verdict_counts"]
    run_dir = synthetic_run_dir(synthetic_metrics, figures=False)
    spread = parse(write_report(run_dir).read_text()).tables["exp1-spread"]
    assert row_starting(spread, "Psi2")[7:10] == ["1", "0", "1"]


def test_report_wrong_types_marked(synthetic_run_dir, synthetic_metrics):
    exp1 = synthetic_metrics["experiments"]["experiment1"]
    exp1["networks"][0]["agreement_c0"] = "high"
    exp1["networks"][1]["seed"] = True
    exp1["networks"][2] = "not a network"
    synthetic_metrics["machine"] = ["not", "a", "mapping"]
    synthetic_metrics["wall_seconds"] = float("nan")
    run_dir = synthetic_run_dir(synthetic_metrics, figures=False)
    table = parse(write_report(run_dir).read_text()).tables["exp1-verdicts"]
    assert table[1][4] == "not recorded"
    assert table[2][3] == "not recorded"


def test_report_reference_null_published(synthetic_run_dir, synthetic_metrics):
    reference = synthetic_metrics["experiments"]["experiment2"]["reference"]
    extra = dict(reference["table1"][0], b=0.005, c=0.006)
    extra.update(published_tilde=None, published_hat=None)
    reference["table1"].append(extra)
    del reference["table1"][1]["published_hat"]
    html = write_report(synthetic_run_dir(synthetic_metrics, figures=False)).read_text()
    table = parse(html).tables["table1-reference"]
    off_paper = row_starting(table, "0.005", "0.006")
    assert off_paper[3] == "not published"
    assert off_paper[5] == "not published"
    assert off_paper[6] == "C̃ not published; Ĉ not published"
    unrecorded = row_starting(table, "0.008", "0.009")
    assert unrecorded[5] == "not recorded"
    assert "Ĉ published value not recorded" in unrecorded[6]


def test_report_nan_shown_as_not_a_number(synthetic_run_dir, synthetic_metrics):
    nan = float("nan")
    synthetic_metrics["wall_seconds"] = nan
    exp1 = synthetic_metrics["experiments"]["experiment1"]
    exp1["networks"][0]["agreement_c0"] = nan
    exp1["reference"][0]["agreement_c0"] = nan
    exp2 = synthetic_metrics["experiments"]["experiment2"]
    exp2["reference"]["table1"][0]["accuracy_hat"] = nan
    exp2["variants"]["paper"]["table1"][0]["tilde"]["mean"] = nan
    run_dir = synthetic_run_dir(synthetic_metrics, figures=False)
    assert "NaN" in (run_dir / "metrics.json").read_text()
    html = write_report(run_dir).read_text()
    tables = parse(html).tables
    assert "wall time not a number" in text_of(html)
    assert tables["exp1-verdicts"][1][4] == "not a number"
    c0 = row_starting(
        tables["exp1-reference"], "Psi1", "exp1_psi1.npz", "agreement on C_0"
    )
    assert c0[3] == "not a number"
    assert c0[5] == "not a number"
    reference = row_starting(tables["table1-reference"], "0.009", "0.010")
    assert reference[4] == "not a number"
    assert "Ĉ not a number" in reference[6]
    assert row_starting(tables["table1-paper"], "0.009", "0.010")[3] == "not a number"


def test_report_reference_not_found(synthetic_run_dir, synthetic_metrics):
    synthetic_metrics["experiments"]["experiment1"]["reference"] = None
    synthetic_metrics["experiments"]["experiment2"]["reference"] = None
    html = write_report(synthetic_run_dir(synthetic_metrics)).read_text()
    text = text_of(html)
    assert (
        "networks were not evaluated because their weight files were not found" in text
    )
    assert "network was not evaluated because its weight file was not found" in text
    assert "exp1-reference" not in parse(html).tables
    assert "table1-reference" not in parse(html).tables


def test_report_missing_figure_file(synthetic_run_dir):
    run_dir = synthetic_run_dir(figures=False)
    html = write_report(run_dir).read_text()
    assert parse(html).images == []
    assert "Figure file experiment1/figure2.png not found" in text_of(html)


def test_report_figure_outside_run_not_linked(synthetic_run_dir, synthetic_metrics):
    figures = synthetic_metrics["experiments"]["experiment1"]["figures"]
    figures["figure2"] = "../outside.png"
    run_dir = synthetic_run_dir(synthetic_metrics)
    (run_dir.parent / "outside.png").write_bytes(b"\x89PNG")
    html = write_report(run_dir).read_text()
    assert "../outside.png" not in parse(html).images


def test_report_variant_without_published_row(synthetic_run_dir, synthetic_metrics):
    rows = synthetic_metrics["experiments"]["experiment2"]["variants"]["paper"][
        "table1"
    ]
    extra = copy.deepcopy(rows[0])
    extra.update(b=0.005, c=0.006, published_tilde=None, published_hat=None)
    rows.append(extra)
    run_dir = synthetic_run_dir(synthetic_metrics, figures=False)
    table = parse(write_report(run_dir).read_text()).tables["table1-paper"]
    row = row_starting(table, "0.005", "0.006")
    assert row[2] == "not published"
    assert row[5] == "not published"


# --- metrics argument, errors, atomic write ----------------------------------


def test_report_uses_given_metrics(tmp_path, synthetic_metrics):
    run_dir = tmp_path / "partial-run"
    run_dir.mkdir()
    synthetic_metrics["git_revision"] = "feedfacecafe"
    html = write_report(run_dir, metrics=synthetic_metrics).read_text()
    assert "feedfacecafe" in html
    assert not (run_dir / "metrics.json").exists()


def test_report_run_name_titles_page(synthetic_run_dir):
    run_dir = synthetic_run_dir(figures=False, name=".run-partial-92mmkfzt")
    html = write_report(run_dir, None, run_name="run-20261204-165900").read_text()
    title = "falsestruct report: run-20261204-165900"
    assert f"<title>{title}</title>" in html
    assert f"<h1>{title}</h1>" in html
    assert ".run-partial" not in html


def test_report_title_defaults_to_folder(synthetic_run_dir):
    run_dir = synthetic_run_dir(figures=False, name="run-20261204-170000")
    html = write_report(run_dir).read_text()
    assert "<h1>falsestruct report: run-20261204-170000</h1>" in html


@pytest.mark.parametrize("run_name", ["", "   "])
def test_report_empty_run_name(synthetic_run_dir, run_name):
    run_dir = synthetic_run_dir(figures=False)
    with pytest.raises(ValueError, match="run_name must be a non-empty string"):
        write_report(run_dir, run_name=run_name)


def test_report_path_is_directory(synthetic_run_dir):
    run_dir = synthetic_run_dir(figures=False)
    (run_dir / "report.html").mkdir()
    with pytest.raises(ValueError, match=r"report\.html.* because it is a directory"):
        write_report(run_dir)
    assert (run_dir / "report.html").is_dir()
    assert [p.name for p in run_dir.iterdir() if p.name.endswith(".tmp")] == []


def test_report_unwritable_folder(synthetic_run_dir, monkeypatch):
    run_dir = synthetic_run_dir(figures=False)

    def failing_mkstemp(**kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(_report.tempfile, "mkstemp", failing_mkstemp)
    with pytest.raises(ValueError, match="cannot be written: Permission denied"):
        write_report(run_dir)
    assert not (run_dir / "report.html").exists()


def test_report_missing_run_dir(tmp_path):
    missing = tmp_path / "no-such-run"
    with pytest.raises(FileNotFoundError, match="no-such-run"):
        write_report(missing)


def test_report_missing_metrics(tmp_path):
    with pytest.raises(ValueError, match=r"metrics file .*metrics\.json.* not found"):
        write_report(tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "must contain a JSON object, got list"),
        ("", "is not valid JSON"),
    ],
)
def test_report_bad_metrics(tmp_path, content, message):
    (tmp_path / "metrics.json").write_text(content)
    with pytest.raises(ValueError, match=message) as error:
        write_report(tmp_path)
    assert "metrics.json" in str(error.value)
    assert not (tmp_path / "report.html").exists()


def test_read_metrics_returns_dict(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"schema_version": 1}))
    assert read_metrics(path) == {"schema_version": 1}


def test_report_write_is_atomic(synthetic_run_dir, monkeypatch):
    run_dir = synthetic_run_dir(figures=False)
    (run_dir / "report.html").write_text("old report")

    def failing_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(_report.os, "replace", failing_replace)
    with pytest.raises(
        ValueError, match=r"report\.html.* cannot be written: disk full"
    ):
        write_report(run_dir)
    assert (run_dir / "report.html").read_text() == "old report"
    assert [p.name for p in run_dir.iterdir() if p.name.endswith(".tmp")] == []


def test_report_overwrites_and_leaves_no_temp(synthetic_run_dir):
    run_dir = synthetic_run_dir(figures=False)
    (run_dir / "report.html").write_text("old report")
    write_report(run_dir)
    assert (run_dir / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in run_dir.iterdir() if p.is_file()) == [
        "command.txt",
        "config.json",
        "metrics.json",
        "report.html",
    ]
    assert oct(os.stat(run_dir / "report.html").st_mode & 0o777) == "0o644"


def test_render_report_returns_html(tmp_path, synthetic_metrics):
    html = render_report(tmp_path, synthetic_metrics)
    assert "<title>falsestruct report: " in html


# --- command line --------------------------------------------------------------


def test_cli_report_rebuilds_page(synthetic_run_dir, capsys):
    run_dir = synthetic_run_dir()
    assert main(["report", str(run_dir)]) == 0
    assert (run_dir / "report.html").is_file()
    assert capsys.readouterr().out.strip() == f"report: {run_dir / 'report.html'}"


def test_cli_report_missing_dir(tmp_path, capsys):
    missing = tmp_path / "no-such-run"
    assert main(["report", str(missing)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("falsestruct: error: run directory")
    assert "no-such-run" in err
    assert "\n" not in err


def test_cli_report_path_is_directory(synthetic_run_dir, capsys):
    run_dir = synthetic_run_dir(figures=False)
    (run_dir / "report.html").mkdir()
    assert main(["report", str(run_dir)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("falsestruct: error: report file")
    assert "is a directory" in err
    assert "\n" not in err


@pytest.mark.parametrize("content", [None, "{broken"])
def test_cli_report_bad_metrics(tmp_path, capsys, content):
    if content is not None:
        (tmp_path / "metrics.json").write_text(content)
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("falsestruct: error: metrics file")
    assert "metrics.json" in err
    assert "\n" not in err
