import json
import math

from typer.testing import CliRunner

from irestore.cli.bench_cmd import results_table
from irestore.cli.main import app
from irestore.models import complexity
from irestore.engine.benchmark import Case, conv2d_gflops, image_shape, plan_cases, run_case


def test_image_shapes_are_4_by_3_at_the_requested_size():
    for mp in (0.25, 1, 16):
        h, w = image_shape(mp)
        assert math.isclose(h * w, mp * 1e6, rel_tol=0.01) and math.isclose(w / h, 4 / 3, rel_tol=0.01)


def test_the_matrix_covers_sizes_threads_ensemble_and_one_onnx_row_per_size_and_thread():
    cases = plan_cases(["config:small"], sizes=(0.25, 4), threads=(1, 2), repeat=3)
    torch_cases = [c for c in cases if c.backend == "torch"]
    assert len(torch_cases) == 2 * 2 * 2 and len(cases) == len(torch_cases) + 4
    assert {c.repeat for c in cases if c.megapixels > 1} == {1}
    assert not any(c.ensemble for c in cases if c.backend == "onnxruntime")


def test_a_case_reports_speed_and_memory():
    row = run_case(Case("config:tiny", 0.005, threads=1, tile=32, repeat=2))
    assert row["tiles"] > 1 and row["passes"] == 3 and row["tile_size"][0] <= 32
    assert row["seconds"] > 0 and row["mp_per_s"] > 0 and row["conv2d_gflops"] > 0
    assert row["peak_rss_mb"] > row["image_mb"] >= 0


def test_conv2d_reference_is_positive():
    assert conv2d_gflops(channels=16, side=32, repeat=1) > 0


def test_bench_command_prints_json_rows_from_fresh_processes(monkeypatch):
    monkeypatch.setattr(complexity, "gflops_per_megapixel", lambda model: 10.0)
    result = CliRunner().invoke(app, ["bench", "--config", "tiny", "--sizes", "0.01", "--threads", "1", "--no-ensemble", "--no-onnx", "--repeat", "1", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 1 and "error" not in rows[0], rows
    row = rows[0]
    assert row["model"] == "config:tiny" and row["tiles"] == 1 and row["peak_rss_mb"] > 0
    assert row["gflops"] == round(10.0 * row["height"] * row["width"] / 1e6 / row["seconds"], 1)


def test_table_shows_failed_cases_with_their_reason():
    ok = {**Case("config:small", 1, 2).__dict__, "tiles": 4, "tile_size": [368, 368], "passes": 3, "seconds": 1.0, "cpu_seconds": 1.9, "mp_per_s": 1.0, "gflops": 66.0, "conv2d_gflops": 200.0, "peak_rss_mb": 900, "load": 1.0}
    failed = {**Case("config:small", 16, 2, backend="onnxruntime").__dict__, "error": "does not fit", "load": 1.5}
    table = results_table([ok, failed])
    assert len(table.rows) == 2 and "1.50" in table.title
    assert table.rows[1][-1] == "does not fit" and table.columns[-1].drop == 0  # the reason is never hidden


def test_releases_are_timed_with_their_calibrated_passes_unless_told(tmp_path, monkeypatch):
    from irestore.checkpoint import save_checkpoint
    from irestore.engine.benchmark import calibrated_passes
    from irestore.models import build_model
    from irestore.models.release import record, register

    monkeypatch.setenv("IRESTORE_WEIGHTS", str(tmp_path))
    save_checkpoint(tmp_path / "jpeg.safetensors", build_model("tiny", task="jpeg"), {"task": "jpeg", "name": "jpeg"})
    register(tmp_path / "jpeg.safetensors")
    assert calibrated_passes("jpeg") == 2 and calibrated_passes("config:tiny") == 2
    record(tmp_path, "jpeg", tiling={"stats_passes": 0})
    assert calibrated_passes("jpeg") == 0
    assert run_case(Case("jpeg", 0.005, threads=1, tile=32))["passes"] == 1
    assert run_case(Case("jpeg", 0.005, threads=1, tile=32, stats_passes=2))["passes"] == 3
    cases = plan_cases(["jpeg"], sizes=(4,), threads=(2,), ensembles=(False,), backends=("torch",), passes=(None, 2))
    assert [c.stats_passes for c in cases] == [None, 2]


def test_the_gpu_timing_script_runs_on_the_cpu_and_writes_its_table(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_speed.py"
    args = ["--device", "cpu", "--sizes", "0.01", "--models", "sr-x2", "--precisions", "fp32,fp16", "--out", str(tmp_path)]
    subprocess.run([sys.executable, str(script), *args], check=True, capture_output=True, timeout=300)
    rows = json.loads((tmp_path / "gpu_speed.json").read_text())
    timed = [r for r in rows if "error" not in r]
    assert {r["precision"] for r in timed} == {"fp32"} and all(r["agreement_db"] == math.inf for r in timed)
    assert all("not supported on the CPU" in r["error"] for r in rows if r["precision"] == "fp16")
    assert "| sr-x2 |" in (tmp_path / "gpu_speed.md").read_text()
