"""Where evaluation datasets live and how each one is laid out.

A dataset is found by name in a data root, or given as a path. Roots are searched in this order:

1. ``data_dir`` (``--data-dir``) when given; then it is the only root searched;
2. ``$IRESTORE_DATA``;
3. ``../shared/datasets`` relative to the current directory (the project checkout's sibling);
4. ``/work/shared/datasets``.

Inside a root a dataset folder is ``<root>/test/<Name>`` or ``<root>/<Name>`` (names match without
regard to case). Three kinds exist: *clean* folders that the runner degrades itself (noise, JPEG,
bicubic down-scaling, blur), *pairs* of degraded/clean folders, and the official SIDD validation
``.mat`` files.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2

from irestore.errors import DatasetError

TASKS = ("denoise", "sr", "jpeg", "deblur", "derain")
SYNTHETIC_TASKS = ("denoise", "sr", "jpeg", "deblur")
IMAGE_SUFFIXES = (".png", ".bmp", ".tif", ".tiff", ".jpg", ".jpeg")
SIDD_NOISY = "ValidationNoisyBlocksSrgb"
SIDD_GT = "ValidationGtBlocksSrgb"

Kind = Literal["clean", "pairs", "sidd"]


@dataclass(frozen=True)
class PairLayout:
    """Two folders whose files match once a prefix/suffix is stripped from each stem."""

    input_dir: str
    target_dir: str
    input_affix: tuple[str, str] = ("", "")
    target_affix: tuple[str, str] = ("", "")


@dataclass(frozen=True)
class CatalogEntry:
    folder: str
    kind: Kind
    default_task: str
    gray: bool
    layout: str
    pairs: PairLayout | None = None


def _clean(folder: str, task: str, gray: bool, layout: str) -> CatalogEntry:
    return CatalogEntry(folder, "clean", task, gray, layout)


def _pairs(folder: str, task: str, pairs: PairLayout, layout: str) -> CatalogEntry:
    return CatalogEntry(folder, "pairs", task, False, layout, pairs)


_SR_LAYOUT = "HR/*.png, optional LR_bicubic/X<s>/<name>x<s>.png (else made with MATLAB bicubic)"
CATALOG: dict[str, CatalogEntry] = {
    e.folder.lower(): e
    for e in (
        _clean("CBSD68", "denoise", False, "68 colour PNGs in CBSD68/"),
        _clean("Kodak24", "denoise", False, "24 colour PNGs in Kodak24/"),
        _clean("McMaster", "denoise", False, "18 colour images in McMaster/"),
        _clean("Urban100", "denoise", False, "100 colour PNGs in Urban100/ (or Urban100/HR/)"),
        _clean("Set12", "denoise", True, "12 gray PNGs in Set12/"),
        _clean("BSD68", "denoise", True, "68 gray PNGs in BSD68/"),
        _clean("Set5", "sr", False, _SR_LAYOUT),
        _clean("Set14", "sr", False, _SR_LAYOUT),
        _clean("BSD100", "sr", False, _SR_LAYOUT),
        _clean("Manga109", "sr", False, _SR_LAYOUT),
        _clean("Classic5", "jpeg", True, "5 gray PNGs in Classic5/"),
        _clean("LIVE1", "jpeg", False, "29 colour PNGs in LIVE1/"),
        CatalogEntry("SIDD", "sidd", "denoise", False, f"SIDD/{SIDD_NOISY}.mat and SIDD/{SIDD_GT}.mat (official sRGB validation)"),
        _pairs("SIDD_samples", "denoise", PairLayout("Noisy_Images", "GT_Images", ("NOISY_", ""), ("GT_", "")), "Noisy_Images/NOISY_<i>.png + GT_Images/GT_<i>.png"),
        _pairs("Nam_CC15", "denoise", PairLayout("noisy", "gt", ("", "_real"), ("", "_mean")), "noisy/<name>_real.png + gt/<name>_mean.png"),
        _pairs("Rain100L", "derain", PairLayout("rain", "norain", ("rain-", ""), ("norain-", "")), "rain/rain-<n>.png + norain/norain-<n>.png"),
        _pairs("Rain100H", "derain", PairLayout("rain", "norain", ("rain-", ""), ("norain-", "")), "rain/rain-<n>.png + norain/norain-<n>.png"),
    )
}
CUSTOM_PAIRS = PairLayout("input", "target")


@dataclass(frozen=True)
class DatasetSource:
    """A dataset found on disk. ``default_task`` is None for custom pairs (the task must be said)."""

    name: str
    kind: Kind
    path: Path
    default_task: str | None
    gray: bool
    pairs: PairLayout | None = None

    @property
    def tasks(self) -> tuple[str, ...]:
        if self.kind == "clean":
            return SYNTHETIC_TASKS
        if self.kind == "sidd":
            return ("denoise",)
        return (self.default_task,) if self.default_task else TASKS


def data_roots(data_dir: str | Path | None = None) -> list[Path]:
    """Candidate roots in search order (see the module docstring); existing or not."""
    if data_dir is not None:
        return [Path(data_dir)]
    roots = []
    if os.environ.get("IRESTORE_DATA"):
        roots.append(Path(os.environ["IRESTORE_DATA"]))
    roots += [Path.cwd() / ".." / "shared" / "datasets", Path("/work/shared/datasets")]
    return roots


def natural_key(path: Path) -> list:
    """Sort NOISY_2 before NOISY_10, as the datasets number their files."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


def list_images(folder: Path) -> list[Path]:
    return sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()), key=natural_key)


def child_dir(parent: Path, name: str) -> Path | None:
    """``parent/name``, matching the name without regard to case."""
    exact = parent / name
    if exact.is_dir():
        return exact
    if parent.is_dir():
        for p in parent.iterdir():
            if p.is_dir() and p.name.lower() == name.lower():
                return p
    return None


def _find_in_roots(entry: CatalogEntry, data_dir: str | Path | None) -> Path:
    roots = data_roots(data_dir)
    if data_dir is not None and not roots[0].is_dir():
        raise DatasetError(f"{roots[0]}: data directory does not exist (given with --data-dir)")
    looked = []
    for root in roots:
        for parent in (root / "test", root):
            looked.append(str(parent / entry.folder))
            found = child_dir(parent, entry.folder)
            if found is not None:
                return found
    raise DatasetError(
        f"{entry.folder} not found (looked in {', '.join(looked)}): put it at <data-dir>/test/{entry.folder} "
        f"laid out as {entry.layout}, or pass --data-dir / set IRESTORE_DATA"
    )


def _is_gray_folder(images: list[Path]) -> bool:
    first = cv2.imread(str(images[0]), cv2.IMREAD_UNCHANGED)
    return first is not None and first.ndim == 2


def clean_images(source: DatasetSource) -> list[Path]:
    """The clean images of a clean folder: ``HR/`` when present (SR layouts), else the folder."""
    folder = child_dir(source.path, "HR") or source.path
    images = list_images(folder)
    if not images:
        raise DatasetError(f"{folder}: no images (.png, .bmp, .tif, .jpg) found")
    return images


def _sidd_files(folder: Path) -> bool:
    return (folder / f"{SIDD_NOISY}.mat").is_file()


def _from_path(path: Path) -> DatasetSource:
    if path.is_file():
        if path.suffix.lower() != ".mat":
            raise DatasetError(f"{path}: a dataset path must be a folder or the SIDD {SIDD_NOISY}.mat file")
        return DatasetSource(path.parent.name or "SIDD", "sidd", path.parent, "denoise", False)
    if _sidd_files(path):
        return DatasetSource(path.name, "sidd", path, "denoise", False)
    if (path / CUSTOM_PAIRS.input_dir).is_dir() and (path / CUSTOM_PAIRS.target_dir).is_dir():
        return DatasetSource(path.name, "pairs", path, None, False, CUSTOM_PAIRS)
    source = DatasetSource(path.name, "clean", path, "denoise", False)
    return DatasetSource(path.name, "clean", path, "denoise", _is_gray_folder(clean_images(source)))


def open_dataset(dataset: str, data_dir: str | Path | None = None) -> DatasetSource:
    """Resolve a dataset name (``CBSD68``, ``SIDD``, ...) or a path to a :class:`DatasetSource`.

    A path may be a folder of clean images, a folder with ``input/`` + ``target/`` (same file
    stems), or a folder (or the noisy file) holding the SIDD validation ``.mat`` pair. A catalogue
    name wins over a same-named folder in the current directory; write ``./CBSD68`` for the folder.
    """
    entry = CATALOG.get(dataset.lower())
    if entry is not None:
        path = _find_in_roots(entry, data_dir)
        if entry.kind == "sidd" and not _sidd_files(path):
            raise DatasetError(f"{path / (SIDD_NOISY + '.mat')}: missing; expected layout {entry.layout}")
        return DatasetSource(entry.folder, entry.kind, path, entry.default_task, entry.gray, entry.pairs)
    path = Path(dataset).expanduser()
    if path.exists():
        return _from_path(path)
    raise DatasetError(
        f"{dataset}: unknown dataset and no such path; use one of {', '.join(e.folder for e in CATALOG.values())}, "
        "a folder of clean images, a folder with input/ + target/, or a SIDD .mat folder"
    )
