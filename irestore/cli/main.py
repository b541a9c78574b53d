"""The ``irestore`` command: one thin function per task, calling library code tests can call directly."""


import functools
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from irestore.cli.options import RunOptions, with_run_options
from irestore.cli.tables import FORMAT_HELP, Format
from irestore.errors import IRestoreError

app = typer.Typer(
    name="irestore",
    help="Restore photos from the command line: denoise, super-resolve, remove JPEG artifacts, deblur, derain.\n\n"
    "Each task runs a trained model from weights/ on the CPU (or CUDA), tiled for any image size.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def friendly_errors(command):
    """User errors become one line on stderr and exit status 1; Ctrl-C exits 130. Bugs keep tracebacks."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            code = command(*args, **kwargs)
        except IRestoreError as exc:
            typer.echo(f"irestore: error: {exc}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo("irestore: interrupted", err=True)
            raise typer.Exit(130) from None
        if code:
            raise typer.Exit(code)

    return wrapper


def task_command(name: str, help: str):
    def register(command):
        return app.command(name, help=help, no_args_is_help=True)(friendly_errors(with_run_options(command)))

    return register


class Noise(str, Enum):
    real = "real"
    gaussian = "gaussian"


@task_command("denoise", "Remove noise. Default --noise real for camera photos; --noise gaussian for synthetic white noise.")
def denoise(
    noise: Annotated[Noise, typer.Option("--noise", help="real: camera noise (photos); gaussian: additive white Gaussian noise.")] = Noise.real,
    sigma: Annotated[
        Optional[float],
        typer.Option("--sigma", min=0, max=255, help="Gaussian noise level hint (0-255 scale) for --noise gaussian. The models are blind, so it is optional; a level outside the model's training range is warned about."),
    ] = None,
    *,
    run: RunOptions,
) -> int:
    from irestore.cli.restore import run_restore

    if sigma is not None and noise is not Noise.gaussian:
        raise IRestoreError("--sigma describes Gaussian noise: add --noise gaussian")
    return run_restore("denoise", {"noise": noise.value}, run, sigma=sigma)


@task_command("sr", "Super-resolve (upscale) by 2 or 4.")
def sr(
    scale: Annotated[int, typer.Option("--scale", "-s", help="Upscaling factor: 2 or 4.")] = 4,
    *,
    run: RunOptions,
) -> int:
    from irestore.cli.restore import run_restore

    if scale not in (2, 4):
        raise IRestoreError(f"--scale {scale}: choose 2 or 4")
    return run_restore("sr", {"scale": scale}, run)


@task_command("jpeg", "Remove JPEG compression artifacts (blocking, ringing), any quality.")
def jpeg(*, run: RunOptions) -> int:
    from irestore.cli.restore import run_restore

    return run_restore("jpeg", {}, run)


@task_command("deblur", "Remove motion blur.")
def deblur(*, run: RunOptions) -> int:
    from irestore.cli.restore import run_restore

    return run_restore("deblur", {}, run)


@task_command("derain", "Remove rain streaks.")
def derain(*, run: RunOptions) -> int:
    from irestore.cli.restore import run_restore

    return run_restore("derain", {}, run)


@app.command("models", help="List the shipped models: task, parameters, speed, headline PSNR against its baseline (--json: everything).")
@friendly_errors
def models(
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    weights_dir: Annotated[Optional[Path], typer.Option("--weights-dir", help="List this folder of release weights instead of the shipped ones; default: $IRESTORE_WEIGHTS when set.", show_default=False)] = None,
    fmt: Annotated[Optional[Format], typer.Option("--format", help="How to print the list: " + FORMAT_HELP, case_sensitive=False, show_default=False)] = None,
) -> None:
    from irestore.cli.models_cmd import show_models

    show_models(json_out, weights_dir, fmt)


def _register_optional() -> None:
    """Commands in their own modules (evaluation, training, diagnostics, benchmarks)."""
    import importlib

    for module, attr, name in [
        ("irestore.cli.eval_cmd", "eval_command", "eval"),
        ("irestore.cli.train_cmd", "train_command", "train"),
        ("irestore.cli.diagnose_cmd", "diagnose_command", "diagnose"),
        ("irestore.cli.bench_cmd", "bench_command", "bench"),
        ("irestore.cli.export_cmd", "export_command", "export"),
    ]:
        try:
            command = getattr(importlib.import_module(module), attr)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        app.command(name)(friendly_errors(command))


_register_optional()


def wait_passively(environ=os.environ, load: float | None = None, cpus: int | None = None) -> None:
    """On a busy machine, make OpenMP's idle threads sleep instead of spin, unless the user chose.

    Spinning threads hold cores that other jobs need: with both cores busy, two threads ran a 0.25
    MP image at 0.17-0.45 MP/s, against 0.48-0.70 when idle threads sleep. On a quiet machine
    sleeping costs wake-ups: -12% at 0.25 MP, -30% at 0.05 MP, half the speed of 2-thread training
    (docs/speed.md, "Idle OpenMP threads"). So the policy follows the 1-minute load average when the
    command starts. OpenMP reads it once, when torch loads, so this runs before any import of torch.
    """
    if "OMP_WAIT_POLICY" in environ:
        return
    try:
        load = os.getloadavg()[0] if load is None else load
    except (AttributeError, OSError):
        return
    cpus = cpus or os.cpu_count() or 1
    if load >= cpus - 0.5:
        environ["OMP_WAIT_POLICY"] = "PASSIVE"


def main() -> None:
    wait_passively()
    app()


if __name__ == "__main__":
    sys.exit(main())
