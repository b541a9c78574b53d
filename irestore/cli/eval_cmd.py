"""``irestore eval``: score a model and classical baselines on a benchmark under its published protocol.

Thin on purpose: it parses the lists, loads the model, and hands everything to
:func:`irestore.evaluation.evaluate`, which tests call directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from irestore import data_paths
from irestore.cli.tables import Format
from irestore.errors import ConfigError

WHAT = "What to score"
PROTOCOL = "Protocol"
ENGINE = "Engine"
OUTPUT = "Output"
STREAMS = ("auto", "float32", "low")


def _ints(text: str | None, option: str) -> list[int] | None:
    if text is None:
        return None
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"{option} {text!r}: expected comma-separated integers, e.g. 15,25,50") from None
    if not values:
        raise ConfigError(f"{option} {text!r}: give at least one value")
    return values


def _levels(task: str | None, sigma: str | None, quality: str | None, scale: str | None, model_scale: int | None) -> list[int] | None:
    if task == "sr":
        values = _ints(scale, "--scale")
        if model_scale is not None:
            if values not in (None, [model_scale]):
                raise ConfigError(f"--scale {scale}: the model upscales x{model_scale} only")
            return [model_scale]
        return values
    if task == "jpeg":
        return _ints(quality, "--quality")
    return _ints(sigma, "--sigma") if task == "denoise" else None


DATASET_HELP = (
    "A benchmark name (CBSD68, Kodak24, McMaster, Urban100, Set12, BSD68, SIDD, SIDD_samples, Nam_CC15, Set5, Set14, "
    "BSD100, Manga109, Classic5, LIVE1, Rain100L, Rain100H), a folder of clean images, a folder with input/ + target/, "
    "or a folder holding the SIDD validation .mat files."
)


def eval_command(
    dataset: Annotated[Optional[str], typer.Argument(help="The dataset, as with --dataset (either form works).", show_default=False)] = None,
    dataset_option: Annotated[Optional[str], typer.Option("--dataset", "-d", help=DATASET_HELP, rich_help_panel=WHAT, show_default=False)] = None,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help=f"Root holding the datasets (as <root>/test/<Name> or <root>/<Name>; for SIDD also the .mat files themselves). Default: {data_paths.SEARCH_ORDER}.", rich_help_panel=WHAT, show_default=False)] = None,
    task: Annotated[Optional[str], typer.Option("--task", help="denoise, sr, jpeg, deblur or derain. Default: the model's task, else the dataset's usual one (CBSD68 -> denoise, Set5 -> sr, Classic5 -> jpeg; deblur uses a fixed synthetic blur set made from CBSD68/BSD68).", rich_help_panel=WHAT)] = None,
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="A shipped model by name (see `irestore models`). With no --model, --weights or --baselines: the shipped model for the dataset's task, beside the identity row (bicubic for sr).", rich_help_panel=WHAT)] = None,
    weights: Annotated[Optional[Path], typer.Option("--weights", "-w", help="A .safetensors checkpoint to score.", rich_help_panel=WHAT)] = None,
    baselines: Annotated[Optional[str], typer.Option("--baselines", "-b", help="Comma-separated classical baselines in the same table: identity (the degraded input), bicubic (sr), nlm, bm3d (needs the optional bm3d package; skipped otherwise).", rich_help_panel=WHAT)] = None,
    sigma: Annotated[Optional[str], typer.Option("--sigma", help="Gaussian noise levels (0-255) for clean-image denoising sets. Default: 15,25,50.", rich_help_panel=PROTOCOL)] = None,
    quality: Annotated[Optional[str], typer.Option("--quality", help="JPEG qualities (OpenCV encoder). Default: 10,20,30,40.", rich_help_panel=PROTOCOL)] = None,
    scale: Annotated[Optional[str], typer.Option("--scale", help="SR scales. Default: the model's scale, or 2,4 for baselines.", rich_help_panel=PROTOCOL)] = None,
    preset: Annotated[Optional[str], typer.Option("--preset", help="Override the protocol preset (gaussian-color, gaussian-gray, their -8bit variants with the noisy input saved as 8-bit, sidd-val, real-srgb, sr-y, jpeg-color, jpeg-gray, derain-y, deblur-gopro).", rich_help_panel=PROTOCOL)] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="Score only the first N images (or SIDD blocks): a quick check, not a comparable number.", rich_help_panel=PROTOCOL)] = None,
    tile: Annotated[Optional[int], typer.Option("--tile", help="Tile size in pixels; 0 = whole image (the protocols' choice); default: whole image when it fits in memory.", rich_help_panel=ENGINE)] = None,
    tile_overlap: Annotated[int, typer.Option("--tile-overlap", help="Overlap between tiles in pixels.", rich_help_panel=ENGINE)] = 32,
    ensemble: Annotated[bool, typer.Option("--ensemble", help="x8 self-ensemble (the '+' rows of SR tables).", rich_help_panel=ENGINE)] = False,
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda or cuda:N.", rich_help_panel=ENGINE)] = "auto",
    precision: Annotated[str, typer.Option("--precision", help="fp32, bf16 or fp16 (fp16 on CUDA only).", rich_help_panel=ENGINE)] = "fp32",
    stream: Annotated[str, typer.Option("--stream", help="Under bf16/fp16, the dtype of a U-Net's full-resolution stream: auto (the release's calibrated choice; float32 for a bare checkpoint), float32, or low (the compute dtype: half the memory of a whole photo).", rich_help_panel=ENGINE)] = "auto",
    threads: Annotated[Optional[int], typer.Option("--threads", min=1, help="CPU threads for the model (default: all cores).", rich_help_panel=ENGINE)] = None,
    fmt: Annotated[Optional[Format], typer.Option("--format", help="How to print the results: table (the default on a terminal), markdown (the default when piped), or json / csv: the full-precision results as --json / --csv write them.", rich_help_panel=OUTPUT, show_default=False, case_sensitive=False)] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the results (with per-image scores and the protocol) as JSON.", rich_help_panel=OUTPUT)] = None,
    csv_out: Annotated[Optional[Path], typer.Option("--csv", help="Also write one CSV row per method, dataset and level.", rich_help_panel=OUTPUT)] = None,
) -> None:
    """Score a model and/or baselines on a benchmark with the published metric conventions.

    The table echoes the protocol: colour space, rounding, PSNR peak, SSIM variant, border crop and
    how the inputs were degraded, so its numbers can be put next to a paper's.
    """
    from irestore.evaluation import BaselineUnavailableError, evaluate, make_baseline, render_table, write_csv, write_json

    dataset = _one_dataset(dataset, dataset_option)
    if model and weights:
        raise ConfigError("give --model or --weights, not both")
    names = [b.strip() for b in (baselines or "").split(",") if b.strip()]
    if not (model or weights or names):
        model, names, task = _defaults(dataset, data_dir, task, scale)
    console = Console()
    common = dict(data_dir=data_dir, limit=limit, preset=preset)
    results = []
    model_scale = model_channels = None

    if model or weights:
        import torch

        from irestore.checkpoint import sha256_of
        from irestore.engine import Restorer
        from irestore.models.zoo import load_model

        if threads:
            torch.set_num_threads(threads)
        loaded = load_model(str(weights or model), task=task)
        task = task or loaded.meta.get("task")
        model_scale = int(loaded.meta.get("scale") or 1) if task == "sr" else None
        if stream not in STREAMS:
            raise ConfigError(f"--stream {stream}: choose one of {', '.join(STREAMS)}")
        low_stream = loaded.low_precision_stream if stream == "auto" else stream == "low"
        restorer = Restorer(loaded.model, tile=tile, overlap=tile_overlap, ensemble=ensemble, device=device, precision=precision, low_precision_stream=low_stream)
        settings = {
            "weights": str(weights) if weights else model,
            "sha256": sha256_of(loaded.path)[:12],
            "tile": "auto" if tile is None else tile,
            "ensemble": ensemble,
            "precision": precision,
            "low_precision_stream": restorer.low_precision_stream,
            "device": device,
        }
        model_channels = loaded.meta.get("channels")
        results += evaluate(dataset, restore=restorer, task=task, levels=_levels(task, sigma, quality, scale, model_scale),
                            channels=model_channels, method=loaded.name, settings=settings, **common)

    for name in names:
        try:
            baseline = make_baseline(name)
        except BaselineUnavailableError as exc:
            console.print(f"[yellow]skipping baseline {escape(str(exc))}[/yellow]")
            continue
        run_task = task or _dataset_task(dataset, data_dir)
        # Baselines see exactly the model's inputs: a gray model on a colour set makes them gray too.
        results += evaluate(dataset, restore=baseline, task=run_task, method=name, channels=model_channels,
                            levels=_levels(run_task, sigma, quality, scale, model_scale), **common)

    if not results:
        raise ConfigError("no method could be scored (every requested baseline was skipped)")
    render_table(results, console, fmt)
    if json_out:
        write_json(results, json_out)
    if csv_out:
        write_csv(results, csv_out)


def _dataset_task(dataset: str, data_dir: Path | None) -> str | None:
    from irestore.evaluation import open_dataset

    return open_dataset(dataset, data_dir).default_task


def _one_dataset(positional: str | None, option: str | None) -> str:
    if positional and option and positional != option:
        raise ConfigError(f"two datasets given ({positional} and --dataset {option}): give one")
    if not (positional or option):
        raise ConfigError("which dataset? e.g. irestore eval --dataset CBSD68 (see --help for the names)")
    return positional or option


def _defaults(dataset: str, data_dir: Path | None, task: str | None, scale: str | None) -> tuple[str, list[str], str]:
    """With nothing named to score: the shipped model for the dataset's task, and the row it must beat.

    Real-noise sets (SIDD, pairs) get the real-noise denoiser and clean sets the Gaussian one; a
    gray set gets the gray sibling when one is shipped. The reference row is the degraded input
    itself (``identity``), or ``bicubic`` for sr, where the input is smaller than the target.
    """
    from irestore.evaluation import open_dataset
    from irestore.models.zoo import manifest_entry, release_name

    source = open_dataset(dataset, data_dir)
    task = task or source.default_task
    if task is None:
        raise ConfigError(f"{source.path}: say which task these input/ + target/ pairs are for (--task)")
    variant: dict = {}
    if task == "denoise":
        variant["noise"] = "real" if source.kind in ("sidd", "pairs") else "gaussian"
    elif task == "sr":
        scales = _ints(scale, "--scale") or [4]
        if len(scales) != 1:
            raise ConfigError(f"--scale {scale}: a shipped model upscales by one factor; give one, or --baselines bicubic")
        variant["scale"] = scales[0]
    candidates = ([release_name(task, gray=True, **variant)] if source.gray else []) + [release_name(task, **variant)]
    model = next((name for name in candidates if manifest_entry(name) is not None), None)
    if model is None:
        raise ConfigError(f"no shipped {candidates[-1]!r} model to score on {source.name}: give --model, --weights or --baselines")
    return model, ["bicubic" if task == "sr" else "identity"], task
