"""The HTML report of a run directory, built from its ``metrics.json``.

``write_report`` renders ``templates/report.html`` with Jinja2 into
``report.html`` beside ``metrics.json``. The page is self-contained: CSS and
a small table-sorting script are inline and figures are linked relative to
the run folder, so it opens offline. The fields it reads are listed in
``docs/run-directory.md``. Any of them may be missing, as in a run from an
older version, and the page then shows "not recorded" in its place. A value
stored as NaN shows as "not a number".

Published numbers come from L. Thesing, V. Antun, A. C. Hansen, "What do AI
algorithms actually learn? On false structures in deep learning",
arXiv:1906.01478 (2019), as stored in the metrics. A measured number that
differs from its published one by more than the tolerance is flagged in
words as well as in colour.
"""

import dataclasses
import functools
import json
import math
import numbers
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from . import __version__

# Tolerances used when the metrics store none: for the Experiment I agreement
# fractions of the authors' networks, and for the Table 1 accuracies of the
# authors' Experiment II network, which move by about 0.5 points between
# fresh 1000-image test sets.
EXP1_TOLERANCE = 0.005
TABLE1_TOLERANCE = 0.015

# Verdicts in sentences ("learned ...") and as short table labels.
# How the cells of Table 1 over seeds are coloured, shown above each table.
SEED_RANGE_RULE = (
    "Green: the published accuracy lies within the range over seeds (lowest to "
    "highest), or outside it by at most the tolerance. Red: it lies outside "
    "that range by more than the tolerance. The authors published one trained "
    "network, which any seed could have produced, so a published value inside "
    "the range agrees with this run even where the mean over seeds is far from it."
)

VERDICT_NAMES = {
    "false_structure": "the false structure g",
    "original": "the original structure f_a",
    "neither": "neither",
}
VERDICT_LABELS = {
    "false_structure": "false structure g",
    "original": "original f_a",
    "neither": "neither",
}
EXP1_QUANTITIES = {
    "agreement_c0": "agreement on C_0",
    "agreement_c_delta": "agreement on C_δ",
    "ones_share_c0": "share of 1 on C_0",
}
VARIANT_NAMES = {
    "paper": "the training set the paper describes",
    "authors": "the authors' published training set",
}
# Shown for a null `paper_verdict`: the run's parameters (a, K, eps, delta)
# differ from the paper's, so the paper's conclusion does not apply.
NOT_COMPARABLE = "not comparable (parameters differ from the paper's)"
EXP1_FIGURES = {
    "figure2": "Figure 2: f_a and the rounded network output "
    "[σ(Ψ(x))] on C_0 (top) and C_δ (bottom)",
}
EXP2_FIGURES = {
    "figure3_reference": "Figure 3, the authors' network Φ: images of C̃ (top) "
    "and Ĉ (bottom) for b = 0.009, c = 0.010, with Φ's labels",
    "figure4": "Figure 4: the colour codes of M̃ and M̂",
}


class Gap(str):
    """Text shown muted in place of a value, such as "not published"."""


@dataclasses.dataclass
class Cell:
    """One table cell: display text (None shows as "not recorded") and sort key.

    A `Gap` text shows muted. `flag` is the cell's CSS class: "" (plain),
    "differs" or "agrees". `title` is a sentence shown when the pointer rests
    on the cell. `wrap` lets long text break over lines.
    """

    text: str | None
    sort: float | str | None = None
    flag: str = ""
    title: str = ""
    wrap: bool = False


@dataclasses.dataclass
class Table:
    """A sortable table with its caption, an optional description of how its
    cells are coloured, and notes in words below it."""

    id: str
    caption: str
    columns: list[str]
    rows: list[list[Cell]]
    notes: list[str] = dataclasses.field(default_factory=list)
    description: str = ""


@dataclasses.dataclass
class Comparison:
    """A measured value against its published one; `differs` None if unknown.

    `text` is a full sentence for the notes, `short` a few words for a cell.
    """

    differs: bool | None
    text: str
    short: str = ""

    @property
    def flag(self) -> str:
        if self.differs is None:
            return ""
        return "differs" if self.differs else "agrees"


# --- reading and writing files -------------------------------------------


def write_report(
    run_dir: str | os.PathLike,
    metrics: dict | None = None,
    *,
    run_name: str | None = None,
) -> Path:
    """Render ``report.html`` in `run_dir` and return its path.

    `metrics` replaces ``run_dir/metrics.json`` when given (the command line
    passes it before that file is written). `run_name` titles the page in
    place of the folder name, for a run still in its temporary folder.
    ``config.json`` and ``command.txt`` are read when present. Raises
    FileNotFoundError if `run_dir` does not exist. Raises ValueError if it
    is a file, if ``metrics.json`` is needed but missing or not a valid JSON
    object, or if ``report.html`` cannot be written.
    """
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(
            f"run directory {str(run_dir)!r} is a file; give the folder that "
            "'falsestruct reproduce' wrote"
        )
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run directory {str(run_dir)!r} not found")
    if metrics is None:
        metrics = read_metrics(run_dir / "metrics.json")
    html = render_report(run_dir, metrics, run_name=run_name)
    path = run_dir / "report.html"
    _write_report_file(path, html)
    return path


def _write_report_file(path: Path, html: str) -> None:
    """Write the page atomically, raising ValueError naming `path` on failure."""
    if path.is_dir():
        raise ValueError(
            f"report file {str(path)!r} cannot be written because it is a "
            "directory. Remove or rename that directory."
        )
    try:
        write_text_atomic(path, html)
    except OSError as error:
        reason = error.strerror or str(error)
        raise ValueError(
            f"report file {str(path)!r} cannot be written: {reason}"
        ) from error


def read_metrics(path: Path) -> dict[str, Any]:
    """Load a run's metrics.json; raise ValueError naming the file if unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(
            f"metrics file {str(path)!r} not found; "
            "is this a run directory written by 'falsestruct reproduce'?"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(
            f"metrics file {str(path)!r} cannot be read: {error}"
        ) from None
    try:
        metrics = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"metrics file {str(path)!r} is not valid JSON: {error}"
        ) from None
    if not isinstance(metrics, dict):
        raise ValueError(
            f"metrics file {str(path)!r} must contain a JSON object, "
            f"got {type(metrics).__name__}"
        )
    return metrics


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` as UTF-8 through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_config(run_dir: Path) -> str | None:
    """Return config.json pretty-printed, or a note when it is missing or invalid."""
    path = run_dir / "config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        return f"config.json could not be read: {error}"
    return json.dumps(config, indent=2)


def _read_command(run_dir: Path, metrics: dict) -> str | None:
    command = _text(metrics.get("command"))
    if command is not None:
        return command
    try:
        return (run_dir / "command.txt").read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


# --- rendering -------------------------------------------------------------


def render_report(run_dir: Path, metrics: dict, *, run_name: str | None = None) -> str:
    """Return the report page for `metrics` of the run in `run_dir` as HTML.

    The page is titled after `run_name`, or after the folder name if None.
    """
    if run_name is None:
        run_name = Path(run_dir).resolve().name
    elif not isinstance(run_name, str) or not run_name.strip():
        raise ValueError(f"run_name must be a non-empty string, got {run_name!r}")
    experiments = _mapping(metrics.get("experiments")) or {}
    exp1 = _mapping(experiments.get("experiment1"))
    exp2 = _mapping(experiments.get("experiment2"))
    page = {
        "title": f"falsestruct report: {run_name}",
        "run": _run_view(run_dir, metrics),
        "exp1": None if exp1 is None else _experiment1_view(exp1, run_dir),
        "exp2": None if exp2 is None else _experiment2_view(exp2, run_dir),
    }
    page["differences"] = _collect_differences(page)
    template = _environment().get_template("report.html")
    return template.render(page=page, css=_css(), report_version=__version__)


@functools.cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("falsestruct", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.tests["gap"] = lambda value: isinstance(value, Gap)
    return environment


def _css() -> str:
    return (Path(__file__).parent / "templates" / "report.css").read_text("utf-8")


def _run_view(run_dir: Path, metrics: dict) -> dict[str, Any]:
    machine = _mapping(metrics.get("machine")) or {}
    return {
        "command": _read_command(run_dir, metrics),
        "config": _read_config(run_dir),
        "version": _text(metrics.get("falsestruct_version")),
        "git_revision": _text(metrics.get("git_revision")),
        "started": _text(metrics.get("started")),
        "cpu": _text(machine.get("cpu")),
        "cores": _integer_cell(machine.get("cores")).text,
        "platform": _text(machine.get("platform")),
        "python": _text(machine.get("python")),
        "wall": _seconds_cell(metrics.get("wall_seconds")).text,
        "stages": _stages_table(metrics.get("stages")),
    }


def _stages_table(stages: Any) -> Table | None:
    if not isinstance(stages, list):
        return None
    rows = []
    for stage in stages:
        stage = _mapping(stage) or {}
        name = Cell(_text(stage.get("name")))
        rows.append([name, _seconds_cell(stage.get("seconds"))])
    return Table("stages", "Wall time per stage", ["stage", "wall time"], rows)


def _figures(figures: Any, captions: dict[str, str], run_dir: Path) -> list[dict]:
    """List each figure with its caption, link and whether its file exists."""
    views = []
    for key, path in (_mapping(figures) or {}).items():
        caption = captions.get(key, key)
        if not isinstance(path, str) or not _inside(run_dir, path):
            views.append({"caption": caption, "src": None, "path": str(path)})
            continue
        found = (run_dir / path).is_file()
        src = quote(Path(path).as_posix()) if found else None
        views.append({"caption": caption, "src": src, "path": path})
    return views


def _inside(run_dir: Path, relative: str) -> bool:
    """Check that `relative` is a relative path that stays inside `run_dir`."""
    if Path(relative).is_absolute():
        return False
    root = run_dir.resolve()
    return (root / relative).resolve().is_relative_to(root)


def _collect_differences(page: dict) -> list[tuple[str, list[str]]]:
    """Gather, per table, the notes that state a difference from the paper."""
    groups = []
    for experiment in (page["exp1"], page["exp2"]):
        if experiment is None:
            continue
        groups += [(t.caption, t.notes) for t in experiment["tables"] if t.notes]
    return groups


# --- comparisons with the paper --------------------------------------------


def _verdict_comparison(entry: dict) -> Comparison:
    """Compare a network's verdict with the paper's conclusion for it."""
    if _paper_not_comparable(entry):
        return Comparison(
            None, f"the paper's conclusion is {NOT_COMPARABLE}", "not comparable"
        )
    verdict, paper = _text(entry.get("verdict")), _text(entry.get("paper_verdict"))
    if verdict is None or paper is None:
        return Comparison(None, "verdict or paper's conclusion not recorded")
    learned = VERDICT_NAMES.get(verdict, verdict)
    reported = VERDICT_NAMES.get(paper, paper)
    if verdict == paper:
        return Comparison(
            False, f"learned {learned}, as the paper reports", "as in paper"
        )
    return Comparison(
        True, f"learned {learned}, but the paper reports {reported}", "differs"
    )


def _paper_not_comparable(entry: dict) -> bool:
    """Check for a stored null `paper_verdict`: the parameters differ from the
    paper's, so its conclusion does not apply."""
    return "paper_verdict" in entry and entry["paper_verdict"] is None


def _absence(measured: Any, published: float | Gap, label: str) -> Comparison | None:
    """Say which of the two values is missing, or return None if both are numbers.

    `label` (may be empty) names the quantity at the start of each text.
    """
    prefix = f"{label}: " if label else ""
    if _number(measured) is None:
        reason = _missing_reason(measured)
        return Comparison(
            None, f"{prefix}measured value {reason}", f"{label} {reason}".strip()
        )
    if published == "not published":
        return Comparison(
            None, f"{prefix}the paper gives no value", f"{label} not published".strip()
        )
    if isinstance(published, Gap):
        return Comparison(
            None,
            f"{prefix}published value {published}",
            f"{label} published value {published}".strip(),
        )
    return None


def _compare_fraction(
    measured: Any, published: float | Gap, tolerance: float
) -> Comparison:
    """Compare agreement fractions against an absolute tolerance."""
    absent = _absence(measured, published, "")
    if absent is not None:
        return absent
    measured = _number(measured)
    difference = abs(measured - published)
    if round(difference, 12) > tolerance:
        return Comparison(
            True,
            f"{measured:.3f} differs from the published {published:.3f} by "
            f"{difference:.3f}, more than the {tolerance:.3f} tolerance",
            f"differs by {difference:.3f}",
        )
    return Comparison(
        False,
        f"{measured:.3f} is within the {tolerance:.3f} tolerance of the "
        f"published {published:.3f}",
        "within tolerance",
    )


def _compare_percent(
    measured: Any, published: float | Gap, tolerance: float, label: str
) -> Comparison:
    """Compare accuracies (fractions) and state the difference in points."""
    absent = _absence(measured, published, label)
    if absent is not None:
        return absent
    measured = _number(measured)
    difference = abs(measured - published)
    if round(difference, 12) > tolerance:
        return Comparison(
            True,
            f"{label}: {_pct(measured)} % differs from the published "
            f"{_pct(published)} % by {_points(difference)} points, more than the "
            f"{_points(tolerance)}-point tolerance",
            f"{label} differs by {_points(difference)} points",
        )
    return Comparison(
        False,
        f"{label}: {_pct(measured)} % is within the {_points(tolerance)}-point "
        f"tolerance of the published {_pct(published)} %",
        f"{label} within tolerance",
    )


def _compare_spread(
    stats: dict, published: float | Gap, tolerance: float, label: str, seeds: int
) -> Comparison:
    """Compare a published accuracy with the range of the seeds' accuracies.

    The authors published one trained network, and any seed of a reproduction
    could have produced it, so the reproduction is consistent with the paper
    when the published value lies inside the range (min to max) over seeds.
    The range is widened by `tolerance` for the sampling noise of the test
    sets. `seeds` is the number of seeds, or 0 if unknown.
    """
    values = [stats.get(key) for key in ("min", "max", "mean")]
    # The first unusable statistic, or 0.0 (any number) when all are numbers.
    missing = next((v for v in values if _number(v) is None), 0.0)
    absent = _absence(missing, published, label)
    if absent is not None:
        return absent
    low, high, mean = (_number(v) for v in values)
    distance = max(low - published, published - high, 0.0)
    single = seeds == 1 or _pct(low) == _pct(high)
    where = f"{label}: the published {_pct(published)} %"
    seed_values = _seed_range_phrase(low, high, seeds)
    tolerance_text = f"the {_points(tolerance)}-point tolerance"
    if round(distance, 12) == 0:
        verb = "equals" if single else "lies within"
        return Comparison(
            False, f"{where} {verb} {seed_values}", f"{label} within seed range"
        )
    if single:
        gap = f"{where} lies {_points(distance)} points from {seed_values}"
    else:
        gap = f"{where} lies outside {seed_values} by {_points(distance)} points"
    if round(distance, 12) <= tolerance:
        return Comparison(
            False,
            f"{gap}, within {tolerance_text}",
            f"{label} within tolerance of seed range",
        )
    mean_text = "" if single else f". The mean over seeds is {_pct(mean)} %"
    return Comparison(
        True,
        f"{gap}, more than {tolerance_text}{mean_text}",
        f"{label} {_points(distance)} points outside seed range",
    )


def _seed_range_phrase(low: float, high: float, seeds: int) -> str:
    if seeds == 1:
        return f"the accuracy of the single seed ({_pct(low)} %)"
    if _pct(low) == _pct(high):
        return f"the accuracy of every seed ({_pct(low)} %)"
    return f"the range over seeds ({_pct(low)} % to {_pct(high)} %)"


def _majority_comparison(counts: dict, paper: str | None) -> Comparison:
    """Say how many seeds reached the paper's conclusion, in words."""
    tally = {key: _integer(counts.get(key)) or 0 for key in VERDICT_NAMES}
    total = sum(tally.values())
    if total == 0 or paper not in tally:
        return Comparison(None, "verdicts or the paper's conclusion not recorded")
    agreeing = tally[paper]
    of_total = f"{agreeing} of {_count(total, 'seed')}"
    text = f"{of_total} learned {VERDICT_NAMES[paper]}"
    short = f"{of_total} as in paper"
    if agreeing * 2 > total:
        return Comparison(False, f"{text}, as the paper reports", short)
    majority = max(tally, key=tally.get)
    return Comparison(
        True,
        f"{text}, the paper's conclusion, while {tally[majority]} of {total} "
        f"learned {VERDICT_NAMES[majority]}",
        short,
    )


def _comparison_cell(comparisons: list[Comparison]) -> Cell:
    """Build a cell with the short words of each comparison and a combined flag.

    The cell is flagged "differs" if any comparison differs and "agrees" only
    if all agree.
    """
    shorts = [c.short or c.text for c in comparisons]
    flags = {c.flag for c in comparisons}
    flag = ""
    if "differs" in flags:
        flag = "differs"
    elif flags == {"agrees"}:
        flag = "agrees"
    title = "; ".join(c.text for c in comparisons)
    return Cell("; ".join(shorts), flag=flag, title=title, wrap=True)


# --- Experiment I ----------------------------------------------------------


def _experiment1_view(exp: dict, run_dir: Path) -> dict[str, Any]:
    networks = [_mapping(n) or {} for n in _list(exp.get("networks")) or []]
    tables = [_exp1_networks_table(networks), _exp1_spread_table(exp, networks)]
    if isinstance(exp.get("reference"), list):
        tables.append(_exp1_reference_table(exp["reference"]))
    return {
        "protocol": _text(exp.get("protocol")),
        "seeds": _count_text(exp.get("seeds"), "seed", " per network"),
        "note": _text(exp.get("note")),
        "rule": _text(exp.get("rule")),
        "figures": _figures(exp.get("figures"), EXP1_FIGURES, run_dir),
        "tables": tables,
        "reference_state": _reference_state(exp, "reference"),
    }


def _reference_state(exp: dict, key: str) -> str:
    """Return "recorded", "not found" (stored as null) or "not recorded"."""
    if key not in exp:
        return "not recorded"
    return "not found" if exp[key] is None else "recorded"


def _exp1_networks_table(networks: list[dict]) -> Table:
    columns = ["net", "training set", "r", "seed", *EXP1_QUANTITIES.values()]
    columns += ["verdict", "paper's conclusion", "final loss", "weights"]
    table = Table("exp1-verdicts", "Verdict per trained network", columns, [])
    for net in networks:
        verdict = _verdict_comparison(net)
        table.rows.append(_exp1_network_row(net, verdict))
        if verdict.differs:
            table.notes.append(f"{_net_label(net)} {verdict.text}.")
    return table


def _exp1_network_row(net: dict, verdict: Comparison) -> list[Cell]:
    row = [
        Cell(_text(net.get("net"))),
        Cell(_text(net.get("training_set"))),
        _integer_cell(net.get("r")),
        _integer_cell(net.get("seed")),
    ]
    row += [_fraction_cell(net.get(key)) for key in EXP1_QUANTITIES]
    row += [
        Cell(_verdict_label(net.get("verdict")), flag=verdict.flag, title=verdict.text),
        Cell(_paper_verdict_label(net)),
        _number_cell(net.get("final_loss"), lambda loss: f"{loss:.3g}"),
        _file_name_cell(net.get("weights")),
    ]
    return row


def _net_label(net: dict) -> str:
    seed = _integer(net.get("seed"))
    name = _text(net.get("net")) or "network"
    return name if seed is None else f"{name} seed {seed}"


def _exp1_spread_table(exp: dict, networks: list[dict]) -> Table:
    columns = ["net", "training set", "epochs", "seeds", *EXP1_QUANTITIES.values()]
    columns += [*VERDICT_LABELS.values(), "paper's conclusion", "comparison"]
    table = Table("exp1-spread", "Spread over seeds per network", columns, [])
    counts = _mapping(exp.get("verdict_counts")) or {}
    epochs = _mapping(exp.get("epochs")) or {}
    for name in _net_names(networks, counts):
        group = [n for n in networks if n.get("net") == name]
        net_counts = _mapping(counts.get(name)) or _count_verdicts(group)
        row, comparison = _exp1_spread_row(name, group, net_counts)
        net_epochs = epochs.get(name, next((n.get("epochs") for n in group), None))
        row.insert(2, _integer_cell(net_epochs))
        table.rows.append(row)
        if comparison.differs:
            table.notes.append(f"{name}: {comparison.text}.")
    return table


def _net_names(networks: list[dict], counts: dict) -> list[str]:
    names = [n["net"] for n in networks if isinstance(n.get("net"), str)]
    return list(dict.fromkeys(names + list(counts)))


def _count_verdicts(group: list[dict]) -> dict[str, int]:
    counts = dict.fromkeys(VERDICT_NAMES, 0)
    for net in group:
        if net.get("verdict") in counts:
            counts[net["verdict"]] += 1
    return counts


def _exp1_spread_row(
    name: str, group: list[dict], counts: dict
) -> tuple[list[Cell], Comparison]:
    first = group[0] if group else {}
    paper = _text(first.get("paper_verdict"))
    if _paper_not_comparable(first):
        comparison = _verdict_comparison(first)
    else:
        comparison = _majority_comparison(counts, paper)
    row = [
        Cell(name),
        Cell(_text(first.get("training_set"))),
        Cell(str(len(group)) if group else None, len(group)),
    ]
    row += [_range_cell([n.get(key) for n in group]) for key in EXP1_QUANTITIES]
    row += [_integer_cell(counts.get(key)) for key in VERDICT_NAMES]
    row.append(Cell(_paper_verdict_label(first)))
    row.append(_comparison_cell([comparison]))
    return row, comparison


def _exp1_reference_table(reference: list) -> Table:
    columns = ["net", "file", "quantity", "measured", "published", "comparison"]
    caption = "The authors' networks: measured beside published"
    table = Table("exp1-reference", caption, columns, [])
    for entry in reference:
        entry = _mapping(entry) or {}
        published = _mapping(entry.get("published")) or {}
        tolerance = _number(published.get("tolerance")) or EXP1_TOLERANCE
        net = _text(entry.get("net"))
        for key, label in EXP1_QUANTITIES.items():
            expected = _published_value(published, key)
            comparison = _compare_fraction(entry.get(key), expected, tolerance)
            measured_cell = _fraction_cell(entry.get(key), comparison.flag)
            table.rows.append(
                [Cell(net), Cell(_text(entry.get("file"))), Cell(label), measured_cell]
                + [_published_cell(published, key, _fraction)]
                + [_comparison_cell([comparison])]
            )
            if comparison.differs:
                table.notes.append(f"{net} {label}: {comparison.text}.")
        _add_reference_verdict(table, entry)
    return table


def _add_reference_verdict(table: Table, entry: dict) -> None:
    net = _text(entry.get("net"))
    verdict = _verdict_comparison(entry)
    table.rows.append(
        [Cell(net), Cell(_text(entry.get("file"))), Cell("verdict")]
        + [Cell(_verdict_label(entry.get("verdict")), flag=verdict.flag)]
        + [Cell(_paper_verdict_label(entry))]
        + [_comparison_cell([verdict])]
    )
    if verdict.differs:
        table.notes.append(f"{net} {verdict.text}.")


# --- Experiment II ---------------------------------------------------------


def _experiment2_view(exp: dict, run_dir: Path) -> dict[str, Any]:
    seeds = _integer(exp.get("seeds")) or 0
    variants = {
        name: _mapping(variant) or {}
        for name, variant in (_mapping(exp.get("variants")) or {}).items()
    }
    tables = [_table1_variant_table(n, v, seeds) for n, v in variants.items()]
    reference = _mapping(exp.get("reference"))
    if reference is not None:
        tables.append(_table1_reference_table(reference))
    captions = dict(EXP2_FIGURES)
    captions.update({f"figure3_{name}": _figure3_caption(name) for name in variants})
    return {
        "protocol": _text(exp.get("protocol")),
        "note": _text(exp.get("note")),
        "seeds": _count_text(exp.get("seeds"), "seed", " per training set"),
        "test_size": _count_text(exp.get("test_size"), "image", " per test set"),
        "descriptions": {
            _variant_name(n): _text(v.get("description")) for n, v in variants.items()
        },
        "figures": _figures(exp.get("figures"), captions, run_dir),
        "tables": tables,
        "per_seed": [_per_seed_table(n, v) for n, v in variants.items()],
        "reference_state": _reference_state(exp, "reference"),
        "reference_file": _text((reference or {}).get("file")),
    }


def _variant_name(name: str) -> str:
    return VARIANT_NAMES.get(name, f"the {name} training set")


def _figure3_caption(variant: str) -> str:
    return (
        f"Figure 3, {_variant_name(variant)}: images of C̃ (top) and Ĉ (bottom) "
        "for b = 0.009, c = 0.010, labelled by a trained network"
    )


def _table1_variant_table(name: str, variant: dict, seeds: int) -> Table:
    """Build Table 1 over seeds for one training set (`seeds` is 0 if unknown)."""
    columns = ["b", "c"]
    for label, share in (("C̃", "at 100 %"), ("Ĉ", "at 0 %")):
        columns += [f"{label} published", f"{label} mean ± std (min–max)"]
        columns.append(f"seeds {share} on {label}")
    caption = f"Table 1, networks trained on {_variant_name(name)}"
    table = Table(f"table1-{name}", caption, [*columns, "comparison"], [])
    table.description = SEED_RANGE_RULE
    for row in _list(variant.get("table1")) or []:
        row = _mapping(row) or {}
        cells, comparisons = _table1_variant_row(row, seeds)
        table.rows.append([*cells, _comparison_cell(comparisons)])
        interval = _interval(row)
        table.notes += [f"{interval} {c.text}." for c in comparisons if c.differs]
    return table


def _table1_variant_row(row: dict, seeds: int) -> tuple[list[Cell], list[Comparison]]:
    cells = [_bound_cell(row.get("b")), _bound_cell(row.get("c"))]
    tolerance = _number(row.get("tolerance")) or TABLE1_TOLERANCE
    comparisons = []
    for key, share_key, label in (
        ("tilde", "share_tilde_100", "C̃"),
        ("hat", "share_hat_0", "Ĉ"),
    ):
        stats = _mapping(row.get(key)) or {}
        published = _published_value(row, f"published_{key}")
        comparison = _compare_spread(stats, published, tolerance, label, seeds)
        comparisons.append(comparison)
        cells += [
            _published_cell(row, f"published_{key}"),
            _seed_stats_cell(stats, comparison, seeds),
            _share_cell(row.get(share_key), seeds),
        ]
    return cells, comparisons


def _table1_reference_table(reference: dict) -> Table:
    columns = ["b", "c", "C̃ measured", "C̃ published", "Ĉ measured", "Ĉ published"]
    caption = "Table 1, the authors' network Φ: measured beside published"
    table = Table("table1-reference", caption, [*columns, "comparison"], [])
    for row in _list(reference.get("table1")) or []:
        row = _mapping(row) or {}
        tolerance = _number(row.get("tolerance")) or TABLE1_TOLERANCE
        cells = [_bound_cell(row.get("b")), _bound_cell(row.get("c"))]
        comparisons = []
        for key, label in (("tilde", "C̃"), ("hat", "Ĉ")):
            measured = row.get(f"accuracy_{key}")
            published = _published_value(row, f"published_{key}")
            comparison = _compare_percent(measured, published, tolerance, label)
            comparisons.append(comparison)
            cells.append(_percent_cell(measured, comparison.flag))
            cells.append(_published_cell(row, f"published_{key}"))
        table.rows.append([*cells, _comparison_cell(comparisons)])
        interval = _interval(row)
        table.notes += [f"{interval} {c.text}." for c in comparisons if c.differs]
    return table


def _per_seed_table(name: str, variant: dict) -> Table:
    columns = ["b", "c", "seed", "accuracy on C̃", "accuracy on Ĉ"]
    caption = f"Accuracy per seed, {_variant_name(name)}"
    table = Table(f"per-seed-{name}", caption, columns, [])
    for row in _list(variant.get("table1")) or []:
        row = _mapping(row) or {}
        interval = [_bound_cell(row.get("b")), _bound_cell(row.get("c"))]
        for entry in _list(row.get("per_seed")) or []:
            entry = _mapping(entry) or {}
            table.rows.append(
                interval
                + [_integer_cell(entry.get("seed"))]
                + [_percent_cell(entry.get("accuracy_tilde"))]
                + [_percent_cell(entry.get("accuracy_hat"))]
            )
    return table


def _interval(row: dict) -> str:
    b, c = _number(row.get("b")), _number(row.get("c"))
    if b is None or c is None:
        return "[b, c] not recorded:"
    return f"[{_bound(b)}, {_bound(c)}]:"


def _bound(value: float) -> str:
    """Format an interval end b or c with 3 decimals, as Table 1 prints them."""
    return f"{value:.3f}" if round(value, 3) == value else f"{value:g}"


# --- values and formatting -------------------------------------------------


def _mapping(value: Any) -> dict | None:
    return value if isinstance(value, dict) else None


def _list(value: Any) -> list | None:
    return value if isinstance(value, list) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: Any) -> float | None:
    """Return `value` as a finite float, or None for anything else (bools too)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _integer(value: Any) -> int | None:
    number = _number(value)
    if number is None or not number.is_integer():
        return None
    return int(number)


def _gap(value: Any) -> Gap | None:
    """Name a stored NaN or infinity, or return None (shown as "not recorded")."""
    if isinstance(value, float) and math.isnan(value):
        return Gap("not a number")
    if isinstance(value, float) and math.isinf(value):
        return Gap("infinite")
    return None


def _missing_reason(value: Any) -> str:
    """Say why `value` is no number: "not a number", "infinite" or "not recorded"."""
    return _gap(value) or "not recorded"


def _published_value(row: dict, key: str) -> float | Gap:
    """Return a published number, or a Gap saying why there is none.

    A stored null means the paper gives no value ("not published"), and a
    missing key means the run did not record it.
    """
    value = row.get(key)
    number = _number(value)
    if number is not None:
        return number
    if key in row and value is None:
        return Gap("not published")
    return Gap(_missing_reason(value))


def _count(count: int, noun: str) -> str:
    """Return "1 seed" or "2 seeds": `count` with `noun` in singular or plural."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _count_text(value: Any, noun: str, suffix: str = "") -> str | None:
    """Return e.g. "2 seeds per network", or a Gap/None if `value` is no integer."""
    count = _integer(value)
    if count is None:
        return _gap(value)
    return _count(count, noun) + suffix


def _verdict_label(value: Any) -> str | None:
    text = _text(value)
    return VERDICT_LABELS.get(text, text)


def _paper_verdict_label(entry: dict) -> str | None:
    if _paper_not_comparable(entry):
        return Gap(NOT_COMPARABLE)
    return _verdict_label(entry.get("paper_verdict"))


def _pct(fraction: float) -> str:
    return f"{100 * fraction:.1f}"


def _points(fraction: float) -> str:
    return f"{100 * abs(fraction):.1f}"


def _percent(fraction: float) -> str:
    return f"{_pct(fraction)} %"


def _fraction(value: float) -> str:
    return f"{value:.3f}"


def _number_cell(
    value: Any, format_number: Callable[[float], str], flag: str = ""
) -> Cell:
    """Show a finite number formatted, or why it is missing ("not a number")."""
    number = _number(value)
    if number is None:
        return Cell(_gap(value), flag=flag)
    return Cell(format_number(number), number, flag)


def _percent_cell(value: Any, flag: str = "") -> Cell:
    return _number_cell(value, _percent, flag)


def _fraction_cell(value: Any, flag: str = "") -> Cell:
    return _number_cell(value, _fraction, flag)


def _seconds_cell(value: Any) -> Cell:
    return _number_cell(value, lambda seconds: f"{seconds:.1f} s")


def _integer_cell(value: Any) -> Cell:
    number = _integer(value)
    if number is None:
        return Cell(_gap(value))
    return Cell(str(number), number)


def _bound_cell(value: Any) -> Cell:
    return _number_cell(value, _bound)


def _file_name_cell(value: Any) -> Cell:
    """Show the file name of a path inside the run, with the whole path as title."""
    path = _text(value)
    if path is None:
        return Cell(None)
    return Cell(Path(path).name, path, title=path)


def _range_cell(values: list) -> Cell:
    found = [v for v in (_number(value) for value in values) if v is not None]
    if not found:
        return Cell(next((_gap(v) for v in values if _gap(v)), None))
    low, high = min(found), max(found)
    if low == high:
        return Cell(f"{low:.3f}", low)
    return Cell(f"{low:.3f}–{high:.3f}", low)


def _published_cell(
    row: dict, key: str, format_number: Callable[[float], str] = _percent
) -> Cell:
    """Show a published value, or "not published" where the paper gives none."""
    value = _published_value(row, key)
    if isinstance(value, Gap):
        return Cell(None if value == "not recorded" else value)
    return Cell(format_number(value), value)


def _seed_stats_cell(stats: dict, comparison: Comparison, seeds: int) -> Cell:
    """Show "mean ± std % (min–max)" of accuracies over seeds, or one value."""
    mean, std = _number(stats.get("mean")), _number(stats.get("std"))
    low, high = _number(stats.get("min")), _number(stats.get("max"))
    if mean is None:
        text = _gap(stats.get("mean"))
        return Cell(text, flag=comparison.flag, title=comparison.text)
    text = f"{_pct(mean)} %" if std is None else f"{_pct(mean)} ± {_pct(std)} %"
    if low is not None and high is not None:
        text += f" ({_pct(low)}–{_pct(high)})"
    if seeds == 1:
        text = f"{_pct(mean)} % (1 seed)"
    elif low is not None and high is not None and _pct(low) == _pct(high):
        text = f"{_pct(mean)} % (every seed)"
    return Cell(text, mean, comparison.flag, comparison.text)


def _share_cell(share: Any, seeds: int) -> Cell:
    """Show a share of seeds as "k of n" when the seed count is known."""
    fraction = _number(share)
    if fraction is None:
        return Cell(_gap(share))
    if seeds:
        return Cell(f"{round(fraction * seeds)} of {seeds}", fraction)
    return Cell(_percent(fraction), fraction)
