"""Options shared by every restore command, declared once and added to each command's signature.

Typer builds ``--help`` from a function's signature; :func:`with_run_options` appends the shared
parameters to a task command's own (as FastAPI dependencies do) and hands them to the command as
one :class:`RunOptions` value, so five commands share one definition.
"""

import functools
import inspect
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Annotated, Optional

import typer

from irestore.io import DEFAULT_MAX_PIXELS

OUTPUT = "Output"
ENGINE = "Engine"


@dataclass
class RunOptions:
    inputs: Annotated[list[str], typer.Argument(help="Image files, folders, or - for stdin.", show_default=False)]
    output: Annotated[Optional[str], typer.Option("-o", "--output", help="Output file, folder, or - for stdout. Default: beside each input with a task suffix (NAME_<task>.EXT). A rerun never restores its own outputs: this folder is skipped when listing inputs, and so is NAME_<task>.* beside NAME.*.", rich_help_panel=OUTPUT)] = None
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace existing output files.", rich_help_panel=OUTPUT)] = False
    skip_existing: Annotated[bool, typer.Option("--skip-existing", help="Skip inputs whose output already exists or is being made by another irestore: resume a batch, or run several processes on one output folder.", rich_help_panel=OUTPUT)] = False
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Also restore images in sub-folders of folder inputs.", rich_help_panel=OUTPUT)] = False
    suffix: Annotated[str, typer.Option("--suffix", help="Appended to each output file name in folder mode.", rich_help_panel=OUTPUT)] = ""
    ext: Annotated[Optional[str], typer.Option("--ext", help="Output format by extension (png, tif, jpg, webp, bmp, heic, avif); default: the input's (PNG for stdout).", rich_help_panel=OUTPUT)] = None
    json_report: Annotated[bool, typer.Option("--json", help="Print a JSON report (per file: status, seconds, size, error, reason skipped, warnings) on stdout.", rich_help_panel=OUTPUT)] = False
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or summary.", rich_help_panel=OUTPUT)] = False
    weights: Annotated[Optional[Path], typer.Option("--weights", "-w", help="A .safetensors checkpoint instead of the shipped weights.", rich_help_panel=ENGINE)] = None
    weights_dir: Annotated[Optional[Path], typer.Option("--weights-dir", help="A folder of release weights (manifest.json and .safetensors files) instead of the shipped ones; default: $IRESTORE_WEIGHTS when set.", rich_help_panel=ENGINE, show_default=False)] = None
    tile: Annotated[Optional[int], typer.Option("--tile", help="Tile size in pixels; 0 = whole image; default: chosen from --memory-mb.", rich_help_panel=ENGINE)] = None
    tile_overlap: Annotated[int, typer.Option("--tile-overlap", help="Overlap between tiles in pixels.", rich_help_panel=ENGINE)] = 32
    memory_mb: Annotated[float, typer.Option("--memory-mb", help="Memory budget that picks the tile size when --tile is not given.", rich_help_panel=ENGINE)] = 1536
    ensemble: Annotated[bool, typer.Option("--ensemble", help="x8 self-ensemble (flips and rotations): slower, slightly better.", rich_help_panel=ENGINE)] = False
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda or cuda:N.", rich_help_panel=ENGINE)] = "auto"
    precision: Annotated[str, typer.Option("--precision", help="auto, fp32, bf16 or fp16 (CUDA only). auto: bf16 where the hardware has native bf16 units and the model's measured cost on its test sets is <= 0.02 dB, else fp32.", rich_help_panel=ENGINE)] = "auto"
    exact: Annotated[bool, typer.Option("--exact", help="Tiles use exact whole-image statistics (two extra passes). Default: the passes the model was calibrated to need for >= 50 dB agreement with the whole image.", rich_help_panel=ENGINE)] = False
    threads: Annotated[Optional[int], typer.Option("--threads", help="CPU threads (default: all cores).", rich_help_panel=ENGINE)] = None
    max_pixels: Annotated[int, typer.Option("--max-pixels", help="Refuse larger images (checked from the header before decoding).", rich_help_panel=ENGINE)] = DEFAULT_MAX_PIXELS
    shard: Annotated[Optional[str], typer.Option("--shard", help="Process share I/N of the inputs (0 <= I < N), for job arrays; torchrun ranks split further.", rich_help_panel=ENGINE)] = None


_NAMES = [f.name for f in fields(RunOptions)]


def with_run_options(command):
    """Give ``command(..., run: RunOptions)`` the shared options as ordinary parameters."""
    own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in inspect.signature(command).parameters.values() if p.name != "run"]
    shared = [
        inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=inspect.Parameter.empty if f.default is MISSING else f.default, annotation=f.type)
        for f in fields(RunOptions)
    ]

    @functools.wraps(command)
    def wrapper(**kwargs):
        run = RunOptions(**{n: kwargs.pop(n) for n in _NAMES})
        return command(**kwargs, run=run)

    wrapper.__signature__ = inspect.Signature(shared[:1] + own + shared[1:])
    wrapper.__annotations__ = {p.name: p.annotation for p in wrapper.__signature__.parameters.values()}
    del wrapper.__wrapped__
    return wrapper
