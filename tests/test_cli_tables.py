"""Every table of the CLI shows its values whole: on an 80-column terminal, and as text through a pipe.

A terminal is simulated by rich's own switches (``TTY_COMPATIBLE=1`` and ``COLUMNS=80`` for the
commands, ``force_terminal`` and ``width`` for a console); typer's CliRunner captures stdout, which
is not a terminal, so the same commands show the piped output.
"""

import csv
import io
import json
import re

import cv2
import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

from irestore.cli.tables import Column, Format, Layout, Table, fit, render, resolve_format, to_csv, to_json, to_markdown, to_rich

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
TERMINAL = {"COLUMNS": "80", "TTY_COMPATIBLE": "1", "NO_COLOR": "1"}
PIPE = {"COLUMNS": "80", "TTY_COMPATIBLE": None, "FORCE_COLOR": None}
runner = CliRunner()


def terminal(width: int = 80) -> Console:
    return Console(file=io.StringIO(), force_terminal=True, width=width, no_color=True, color_system=None)


def shown(table: Table, fmt: str | None, console: Console) -> str:
    render(table, fmt, console)
    return ANSI.sub("", console.file.getvalue())


def assert_whole(table: Table, text: str, width: int | None = None) -> None:
    """Each value of each column shown appears unbroken on one line; nothing is ellipsised.

    ``width``: a terminal that wide, where the columns :func:`fit` hides are absent (and named).
    """
    assert "…" not in text
    lines = text.splitlines()
    layout = fit(table, width) if width else None
    shown_columns = layout.shown if layout else range(len(table.columns))
    for i, column in enumerate(table.columns):
        for value in table.column_values(i):
            if i in shown_columns and value:
                # folded cells wrap between words, so then each word is checked
                for part in value.split() if layout and layout.fold else [value]:
                    assert any(part in line for line in lines), (column.header, part, text)
    if width is not None:
        assert max(len(line) for line in lines) <= width, text
        if len(shown_columns) < len(table.columns):
            assert "hidden at this width" in text


def wide_table() -> Table:
    table = Table(
        [Column("name"), Column("task", drop=1), Column("PSNR (dB) on the benchmark", key="psnr", numeric=True, short="PSNR"),
         Column("description", drop=2)],
        title="demo",
        notes=["a note under the table"],
    )
    table.add_row("denoise-gaussian-gray", "denoise", "31.25", "x" * 40)
    table.add_row("sr-x4", "sr", "-", "y" * 38)
    return table


# -- the shared module -----------------------------------------------------------------------------


def test_a_narrow_terminal_abbreviates_then_hides_columns_and_never_cuts_values():
    table = wide_table()
    assert (fit(table, 200).short, fit(table, 200).gap) == (False, 3)
    assert fit(table, 80) == Layout((0, 1, 2, 3), short=True, gap=2, fold=False)  # short header, narrower gap
    assert fit(table, 60) == Layout((0, 1, 2), short=False, gap=3, fold=False)  # the description goes first
    assert fit(table, 30).shown == (0, 2) and not fit(table, 30).fold  # then the task
    assert fit(table, 20).fold  # only essential columns left, and they are wider
    for width in (200, 80, 60, 30):
        assert_whole(table, shown(table, None, terminal(width)), width)
    assert "hidden at this width: description" in shown(table, None, terminal(60))


def test_only_essential_columns_left_fold_rather_than_cut():
    table = Table([Column("path")])
    path = "a/" * 60 + "image.png"
    table.add_row(path)
    text = shown(table, "table", terminal(40))
    assert fit(table, 40).fold and "…" not in text
    body = [line.strip() for line in text.splitlines()[2:] if line.strip()]
    assert "".join(body) == path


def test_plain_formats_are_whole_and_parse_back():
    table = wide_table()
    md = to_markdown(table)
    rows = [line for line in md.splitlines() if line.startswith("| ")]
    assert rows[0] == "| name | task | PSNR (dB) on the benchmark | description |"
    assert rows[1] == "| denoise-gaussian-gray | denoise | 31.25 | " + "x" * 40 + " |"
    assert "|---|---|---:|---|" in md and md.rstrip().endswith("a note under the table")
    assert list(csv.reader(io.StringIO(to_csv(table))))[0] == ["name", "task", "psnr", "description"]
    records = json.loads(to_json(table))
    assert records[0]["psnr"] == 31.25 and records[1]["psnr"] is None and records[1]["name"] == "sr-x4"
    piped = Table([Column("a|b")])
    piped.add_row("x|y")
    assert "| x\\|y |" in to_markdown(piped)


def test_terminal_gets_a_table_and_anything_else_markdown():
    assert resolve_format(None, terminal()) is Format.table
    assert resolve_format(None, Console(file=io.StringIO())) is Format.markdown
    assert resolve_format("csv", terminal()) is Format.csv
    rich_table = to_rich(wide_table(), 80)
    assert all(c.overflow == "fold" for c in rich_table.columns)


# -- each command's table --------------------------------------------------------------------------


def fake_model_rows(folder=None):
    def row(name, task, params, gflops, headline):
        return {"name": name, "task": task, "file": f"{name}.safetensors", "sha256": "ab" * 32, "metrics": {}, "headline": headline,
                "config": "conv/ln/skip 1, width 16", "params": params, "gflops_per_mp": gflops}

    return [
        row("denoise-gaussian-gray", "denoise", 742457, 64.95, {"benchmark": "CBSD68/sigma=25", "psnr": 29.0778, "baseline": "identity", "baseline_psnr": 20.4979}),
        row("sr-x4", "sr", 749560, 79.06, {"benchmark": "Set5/x4", "psnr": 30.4274, "baseline": "bicubic", "baseline_psnr": 28.4176}),
        row("derain", "derain", None, None, None),
    ]


@pytest.fixture
def fake_models(monkeypatch):
    import irestore.cli.models_cmd as models_cmd

    monkeypatch.setattr(models_cmd, "model_rows", fake_model_rows)
    return models_cmd


def test_models_fit_one_line_each_at_80_columns(fake_models):
    from irestore.cli.main import app

    result = runner.invoke(app, ["models"], env=TERMINAL)
    assert result.exit_code == 0, result.output
    text = ANSI.sub("", result.output)
    assert "hidden at this width" not in text
    table = fake_models.models_table(fake_model_rows(), fake_models.weights_dir())
    assert_whole(table, text.split("GFLOPs/MP:")[0], 80)
    line = next(line for line in text.splitlines() if line.startswith("denoise-gaussian-gray"))
    for value in ("denoise", "0.74M", "65.0", "CBSD68/sigma=25", "29.08", "identity 20.50"):
        assert value in line


def test_models_through_a_pipe_are_markdown_and_json_keeps_the_full_record(fake_models):
    from irestore.cli.main import app

    result = runner.invoke(app, ["models"], env=PIPE)
    assert result.exit_code == 0, result.output
    assert "| denoise-gaussian-gray | denoise | 0.74M | 65.0 | CBSD68/sigma=25 | 29.08 | identity 20.50 |" in result.output
    assert "| derain | derain | - | - | - | - | - |" in result.output
    full = json.loads(runner.invoke(app, ["models", "--json"], env=PIPE).stdout)
    assert full[0]["sha256"] == "ab" * 32 and full[0]["headline"]["psnr"] == 29.0778


def test_models_show_measured_speed_when_the_manifest_has_it(fake_models):
    rows = fake_model_rows()
    rows[0]["speed"] = {"mp_per_s": 0.4321, "megapixels": 1.0, "threads": 2, "precision": "fp32"}
    table = fake_models.models_table(rows, fake_models.weights_dir())
    assert [c.header for c in table.columns][3] == "MP/s" and table.rows[0][3] == "0.43" and table.rows[1][3] == "-"
    text = shown(table, None, terminal(80))
    assert_whole(table, text, 80)
    assert "MP/s" in text and "measured on a 1 MP image, 2 threads" in text


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_models_as_csv_and_json(fake_models, capsys, fmt):
    fake_models.show_models(False, fmt=Format(fmt))
    out = capsys.readouterr().out
    if fmt == "csv":
        assert next(csv.reader(io.StringIO(out))) == ["name", "task", "params", "gflops_per_mp", "benchmark", "psnr", "baseline"]
    else:
        assert json.loads(out)[1] == {"name": "sr-x4", "task": "sr", "params": "0.75M", "gflops_per_mp": 79.1, "benchmark": "Set5/x4", "psnr": 30.43, "baseline": "bicubic 28.42"}


def test_the_headline_is_a_standard_benchmark_at_a_middle_level_beside_its_baseline():
    from irestore.models.headlines import headline

    entry = {
        "metrics": {k: {"psnr": p} for k, p in [("CBSD68-8bit/sigma=25", 1.0), ("CBSD68[:10]/sigma=25", 2.0), ("CBSD68/sigma=15", 33.9), ("CBSD68/sigma=25", 31.2), ("CBSD68/sigma=50", 28.0)]},
        "baselines": {"nlm": {"CBSD68/sigma=25": {"psnr": 26.0}}, "identity": {"CBSD68/sigma=25": {"psnr": 20.5}}},
    }
    expected = {"benchmark": "CBSD68/sigma=25", "psnr": 31.2, "baseline": "identity", "baseline_psnr": 20.5, "published": False, "anchor": None, "anchor_psnr": None}
    assert headline("my-model", entry) == expected
    assert headline("my-sr", {"metrics": {"Set14/x4": {"psnr": 27.4}, "Set5/x4": {"psnr": 30.4}}})["benchmark"] == "Set5/x4"
    assert headline("my-model", {"metrics": {}}) is None


def test_a_shipped_release_has_its_chosen_headline_with_published_figures_marked():
    from irestore.models.headlines import headline

    entry = {"metrics": {"CBSD68/sigma=25": {"psnr": 31.25}, "CBSD68/sigma=15": {"psnr": 33.9}}, "baselines": {"identity": {"CBSD68/sigma=25": {"psnr": 20.5}}}}
    h = headline("denoise-gaussian", entry)
    assert (h["benchmark"], h["baseline"], h["published"], h["anchor"]) == ("CBSD68/sigma=25", "CBM3D", True, "DnCNN")
    sr = headline("sr-x4", {"metrics": {"Set5/x4": {"psnr": 30.4}}, "baselines": {"bicubic": {"Set5/x4": {"psnr": 28.4}}}})
    assert (sr["baseline"], sr["baseline_psnr"], sr["published"], sr["anchor_psnr"]) == ("bicubic", 28.4, False, 31.35)


@pytest.fixture
def colour_set(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(2):
        path = tmp_path / "set" / f"{i}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(path), rng.integers(0, 256, (24, 32, 3), dtype=np.uint8))
    return tmp_path / "set"


def test_eval_at_80_columns_and_through_a_pipe(colour_set, tmp_path):
    from irestore.checkpoint import save_checkpoint
    from irestore.cli.main import app
    from irestore.models import build_model

    weights = tmp_path / "a-rather-long-checkpoint-name-for-denoising.safetensors"
    save_checkpoint(weights, build_model("tiny", task="denoise", channels=3), {"task": "denoise"})
    args = ["eval", str(colour_set), "--weights", str(weights), "--tile", "0", "--device", "cpu", "-b", "identity", "--sigma", "25"]
    out_json = tmp_path / "r.json"
    on_terminal = runner.invoke(app, [*args, "--json", str(out_json)], env=TERMINAL)
    assert on_terminal.exit_code == 0, on_terminal.output
    from irestore.evaluation import Result
    from irestore.evaluation.report import results_table

    results = [Result(**{k: v for k, v in r.items() if k != "per_image"}) for r in json.loads(out_json.read_text())["results"]]
    table = results_table(results)
    for row in table.rows:  # seconds and MP/s vary between runs
        row[-2:] = ["", ""]
    text = ANSI.sub("", on_terminal.output)
    assert_whole(table, text.split("gaussian-color:")[0], 80)
    piped = runner.invoke(app, args, env=PIPE)
    assert piped.exit_code == 0, piped.output
    rows = [line for line in piped.output.splitlines() if line.startswith("| a-rather") or line.startswith("| identity")]
    assert len(rows) == 2 and all(re.search(r"\| \d+\.\d{2} \| \d\.\d{4} \|", row) for row in rows), piped.output
    assert any(line.startswith("gaussian-color: RGB") and line.endswith("unclipped float") for line in piped.output.splitlines())
    as_csv = runner.invoke(app, [*args, "--format", "csv"], env=PIPE)
    assert [r["method"] for r in csv.DictReader(io.StringIO(as_csv.stdout))] == ["a-rather-long-checkpoint-name-for-denoising", "identity"]


def test_bench_table():
    from irestore.cli.bench_cmd import results_table
    from irestore.engine.benchmark import Case

    ok = {**Case("config:small,norm=ln", 16, 2, ensemble=True).__dict__, "tiles": 12, "tile_size": [1184, 1184], "passes": 3, "seconds": 123.45, "cpu_seconds": 240.5,
          "mp_per_s": 0.13, "gflops": 66.0, "conv2d_gflops": 200.0, "peak_rss_mb": 1900, "load": 1.0}
    failed = {**Case("denoise-gaussian-gray", 16, 2, backend="onnxruntime").__dict__, "error": "needs 9 GB for a whole image, over --memory-mb", "load": 1.5}
    table = results_table([ok, failed])
    assert_whole(table, shown(table, None, terminal(80)), 80)
    assert_whole(table, shown(table, None, Console(file=io.StringIO(), width=80)))


def test_batch_summary_table():
    from irestore.cli.batch import Job, summary_table

    jobs = [Job("photos/IMG_0001.jpg", "out/IMG_0001_denoise.jpg", status="ok", seconds=12.345, size="4032x3024"),
            Job("photos/IMG_0002.jpg", "out/IMG_0002_denoise.jpg", status="failed", error="photos/IMG_0002.jpg: not an image (truncated JPEG)")]
    table = summary_table(jobs)
    assert_whole(table, shown(table, None, terminal(80)), 80)
    assert_whole(table, shown(table, None, Console(file=io.StringIO(), width=80)))


def test_diagnose_tables():
    from irestore.cli.diagnose_cmd import block_table, skip_table
    from irestore.diagnostics.report import BlockStats, Report, SkipStats

    blocks = [BlockStats(f"decoders.{i}.{j}", 64, 1.2345e4, 3.1e4, 2.0, 0.456) for i in range(3) for j in range(2)]
    report = Report(blocks, [SkipStats(1, 32, 0.5, 0.25), SkipStats(2, 64, 1.5, 0.75)], images=2)
    for table in (block_table(report), skip_table(report)):
        assert_whole(table, shown(table, None, terminal(80)), 80)
        assert_whole(table, shown(table, None, Console(file=io.StringIO(), width=80)))


def test_the_shipped_models_show_name_task_params_speed_and_headline_at_80_columns():
    from irestore.cli.main import app

    text = ANSI.sub("", runner.invoke(app, ["models"], env=TERMINAL).output)
    header = next(line for line in text.splitlines() if line.startswith("name"))
    for column in ("task", "params", "MP/s", "benchmark", "PSNR", "baseline"):
        assert column in header
    assert all(len(line) <= 80 for line in text.splitlines())
