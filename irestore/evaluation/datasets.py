"""Where evaluation datasets live and how each one is laid out.

A dataset is found by name in a data root, or given as a path. The roots and their order are
:func:`irestore.data_paths.data_roots`: ``--data-dir`` alone when given, else ``$IRESTORE_DATA``, the
per-user cache folder and, in a source checkout, its sibling ``../shared/datasets``.

Inside a root a dataset folder is ``<root>/test/<Name>`` or ``<root>/<Name>`` (names match without
regard to case); the SIDD ``.mat`` files may also lie in the root itself. Three kinds exist:
*clean* folders that the runner degrades itself (noise, JPEG, bicubic down-scaling, blur), *pairs*
of degraded/clean folders, and the official SIDD validation ``.mat`` files. A missing dataset's
error says where to get it and where its files go.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2

from irestore.data_paths import cache_dir, data_roots
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
    source: str = ""


def _clean(folder: str, task: str, gray: bool, layout: str, source: str) -> CatalogEntry:
    return CatalogEntry(folder, "clean", task, gray, layout, source=source)


def _pairs(folder: str, task: str, pairs: PairLayout, layout: str, source: str) -> CatalogEntry:
    return CatalogEntry(folder, "pairs", task, False, layout, pairs, source)


_SR_LAYOUT = "HR/*.png, optional LR_bicubic/X<s>/<name>x<s>.png (else made with MATLAB bicubic)"
_SR_SOURCE = "the SR benchmark releases (e.g. SwinIR's testsets/ on GitHub, or the EDSR/RCAN benchmark archive)"
_DENOISE_SOURCE = "the denoising test sets of DnCNN/FFDNet/KAIR (github.com/cszn, testsets/)"
_RAIN_SOURCE = "the Rain100L/Rain100H releases of Yang et al. (JORDER)"
CATALOG: dict[str, CatalogEntry] = {
    e.folder.lower(): e
    for e in (
        _clean("CBSD68", "denoise", False, "68 colour PNGs in CBSD68/", _DENOISE_SOURCE),
        _clean("Kodak24", "denoise", False, "24 colour PNGs in Kodak24/", "the Kodak lossless true colour suite (r0k.us/graphics/kodak) or " + _DENOISE_SOURCE),
        _clean("McMaster", "denoise", False, "18 colour images in McMaster/", _DENOISE_SOURCE),
        _clean("Urban100", "denoise", False, "100 colour PNGs in Urban100/ (or Urban100/HR/)", _SR_SOURCE),
        _clean("Set12", "denoise", True, "12 gray PNGs in Set12/", _DENOISE_SOURCE),
        _clean("BSD68", "denoise", True, "68 gray PNGs in BSD68/", _DENOISE_SOURCE),
        _clean("Set5", "sr", False, _SR_LAYOUT, _SR_SOURCE),
        _clean("Set14", "sr", False, _SR_LAYOUT, _SR_SOURCE),
        _clean("BSD100", "sr", False, _SR_LAYOUT, _SR_SOURCE),
        _clean("Manga109", "sr", False, _SR_LAYOUT, "the Manga109 site (manga109.org, on request) or " + _SR_SOURCE),
        _clean("Classic5", "jpeg", True, "5 gray PNGs in Classic5/", "SwinIR's testsets/classic5 on GitHub"),
        _clean("LIVE1", "jpeg", False, "29 colour PNGs in LIVE1/", _DENOISE_SOURCE),
        CatalogEntry("SIDD", "sidd", "denoise", False, f"the two files {SIDD_NOISY}.mat and {SIDD_GT}.mat (official sRGB validation)",
                     source="the SIDD website's benchmark page (the sRGB validation data, noisy and ground truth)"),
        _pairs("SIDD_samples", "denoise", PairLayout("Noisy_Images", "GT_Images", ("NOISY_", ""), ("GT_", "")), "Noisy_Images/NOISY_<i>.png + GT_Images/GT_<i>.png",
               "the SIDD website's sample images (noisy/ground-truth sRGB pairs)"),
        _pairs("Nam_CC15", "denoise", PairLayout("noisy", "gt", ("", "_real"), ("", "_mean")), "noisy/<name>_real.png + gt/<name>_mean.png",
               "the CC15 crops of Nam et al. (CVPR 2016), e.g. MCWNNM's Real_ccnoise_denoised_part on GitHub"),
        _pairs("Rain100L", "derain", PairLayout("rain", "norain", ("rain-", ""), ("norain-", "")), "rain/rain-<n>.png + norain/norain-<n>.png", _RAIN_SOURCE),
        _pairs("Rain100H", "derain", PairLayout("rain", "norain", ("rain-", ""), ("norain-", "")), "rain/rain-<n>.png + norain/norain-<n>.png", _RAIN_SOURCE),
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
    for root in roots:
        if entry.kind == "sidd" and _sidd_files(root):
            return root
        for parent in (root / "test", root):
            found = child_dir(parent, entry.folder)
            if found is not None:
                return found
    raise DatasetError(missing_message(entry, roots, given=data_dir is not None))


def missing_message(entry: CatalogEntry, roots: list[Path], given: bool = False) -> str:
    """One line: where it looked, where to get the data, and which files to put where."""
    where = str(roots[0]) if given else f"{cache_dir()} (or the folder given as --data-dir or $IRESTORE_DATA)"
    looked = ", ".join(str(root / "test" / entry.folder) for root in roots)
    return (
        f"{entry.folder} not found (looked in {looked}): get it from {entry.source} "
        f"and put it in {where} as test/{entry.folder}, laid out as {entry.layout}"
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
            raise DatasetError(f"{path / (SIDD_NOISY + '.mat')}: missing; get {entry.layout} from {entry.source} and put them in {path}")
        return DatasetSource(entry.folder, entry.kind, path, entry.default_task, entry.gray, entry.pairs)
    path = Path(dataset).expanduser()
    if path.exists():
        return _from_path(path)
    raise DatasetError(
        f"{dataset}: unknown dataset and no such path; use one of {', '.join(e.folder for e in CATALOG.values())}, "
        "a folder of clean images, a folder with input/ + target/, or a SIDD .mat folder"
    )
