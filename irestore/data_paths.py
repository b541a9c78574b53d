"""Where datasets are looked for, in one place for evaluation and training.

The user's choice comes first (``--data-dir``, then ``$IRESTORE_DATA``), then a per-user cache
folder that works on any machine (``$XDG_CACHE_HOME/irestore/datasets``, by default
``~/.cache/irestore/datasets``; ``%LOCALAPPDATA%`` on Windows). A source checkout also looks in its
sibling ``../shared/datasets``, computed from where the package lies, so development needs no
setting; an installed package never looks there. No machine's path is written down here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

ENV = "IRESTORE_DATA"
SEARCH_ORDER = "$IRESTORE_DATA, then ~/.cache/irestore/datasets ($XDG_CACHE_HOME), then ../shared/datasets beside a source checkout"


def cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """The per-user datasets folder: XDG's cache home (ignored when relative, as the spec says)."""
    if os.name == "nt" and environ.get("LOCALAPPDATA"):
        return Path(environ["LOCALAPPDATA"]) / "irestore" / "Cache" / "datasets"
    xdg = environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "irestore" / "datasets"


def checkout_datasets() -> Path | None:
    """``../shared/datasets`` beside the repository when this package runs from a source checkout."""
    checkout = Path(__file__).resolve().parents[1]
    return checkout.parent / "shared" / "datasets" if (checkout / "pyproject.toml").is_file() else None


def data_roots(data_dir: str | Path | None = None, environ: Mapping[str, str] = os.environ) -> list[Path]:
    """Roots to search, in order, existing or not; ``data_dir`` when given is the only one."""
    if data_dir is not None and str(data_dir) != "":
        return [Path(data_dir).expanduser()]
    roots = [Path(environ[ENV]).expanduser()] if environ.get(ENV) else []
    roots.append(cache_dir(environ))
    checkout = checkout_datasets()
    if checkout is not None:
        roots.append(checkout)
    return roots


def data_root(data_dir: str | Path | None = None, environ: Mapping[str, str] = os.environ) -> Path:
    """The one root that relative training folders resolve against.

    A root the user named (``data_dir``, ``$IRESTORE_DATA``) is used as given, so a typo fails
    naming it; otherwise the first fallback that exists, else the cache folder (the place to fill).
    """
    if data_dir is not None and str(data_dir) != "":
        return Path(data_dir).expanduser()
    if environ.get(ENV):
        return Path(environ[ENV]).expanduser()
    fallbacks = data_roots(None, {k: v for k, v in environ.items() if k != ENV})
    return next((root for root in fallbacks if root.is_dir()), fallbacks[0])
