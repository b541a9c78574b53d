"""The tables the commands print: every value whole, at any width, on a terminal or through a pipe.

Rich shrinks a table that does not fit by ellipsising cells, and it assumes 80 columns whenever
stdout is not a terminal, so ``irestore eval > results.txt`` once printed a PSNR as ``28…``. Here a
command describes its table once, as columns and rows of strings, and a renderer shows it:

* on a terminal, a rich table that abbreviates headers, tightens the spacing and then hides the
  least important columns until every value fits (it folds cells only when even the essential
  columns are wider than the terminal), naming what it hid;
* anywhere else, Markdown: whole values, one row per line, easy to read and to parse;
* CSV or JSON on request (``--format``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text


class Format(str, Enum):
    table = "table"
    markdown = "markdown"
    csv = "csv"
    json = "json"


FORMAT_HELP = "table (the default on a terminal), markdown (the default when piped), csv or json."
GAPS = (3, 2, 1)  # spaces between columns, tried widest first


@dataclass(frozen=True)
class Column:
    """One column. ``drop`` 0 is always shown; on a narrow terminal higher numbers are hidden first."""

    header: str
    key: str = ""
    numeric: bool = False
    drop: int = 0
    short: str = ""
    styles: Mapping[str, str] = field(default_factory=dict)

    @property
    def field_name(self) -> str:
        """The CSV/JSON name: ``key``, else the header in lower case with ``_`` for other characters."""
        if self.key:
            return self.key
        name = "".join(c if c.isalnum() else "_" for c in self.header.lower()).strip("_")
        return "_".join(part for part in name.split("_") if part)


@dataclass
class Table:
    """Columns, rows of display strings, a title and notes printed under the table."""

    columns: list[Column]
    rows: list[list[str]] = field(default_factory=list)
    title: str = ""
    notes: list[str] = field(default_factory=list)

    def add_row(self, *values: object) -> None:
        if len(values) != len(self.columns):
            raise ValueError(f"{len(values)} values for {len(self.columns)} columns")
        self.rows.append(["" if v is None else str(v) for v in values])

    def column_values(self, index: int) -> list[str]:
        return [row[index] for row in self.rows]


# -- plain text ------------------------------------------------------------------------------------


def _md_cell(value: str) -> str:
    return value.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ") or " "


def to_markdown(table: Table) -> str:
    """A GitHub-flavoured Markdown table, the title above it and the notes below."""
    lines = [table.title, ""] if table.title else []
    lines.append("| " + " | ".join(_md_cell(c.header) for c in table.columns) + " |")
    lines.append("|" + "|".join("---:" if c.numeric else "---" for c in table.columns) + "|")
    lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in table.rows]
    if table.notes:
        lines += [""] + table.notes
    return "\n".join(lines) + "\n"


def to_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(c.field_name for c in table.columns)
    writer.writerows(table.rows)
    return out.getvalue()


def _json_value(value: str, numeric: bool) -> object:
    """Numeric columns become numbers (``-`` and empty cells null); anything unparsable stays text."""
    if not numeric:
        return value
    if value in ("", "-"):
        return None
    for kind in (int, float):
        try:
            number = kind(value)
        except ValueError:
            continue
        return number if isinstance(number, int) or math.isfinite(number) else value
    return value


def to_json(table: Table) -> str:
    """A list of objects keyed by the columns' field names."""
    records = [{c.field_name: _json_value(v, c.numeric) for c, v in zip(table.columns, row)} for row in table.rows]
    return json.dumps(records, indent=2, ensure_ascii=False) + "\n"


# -- terminal --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """What a terminal of a given width shows: which columns, which headers, how far apart."""

    shown: tuple[int, ...]
    short: bool
    gap: int
    fold: bool

    def header(self, column: Column) -> str:
        return column.short if self.short and column.short else column.header


def _natural(table: Table, index: int, layout: Layout) -> int:
    """Cells the column needs to show its header and every value on one line."""
    return max([cell_len(layout.header(table.columns[index]))] + [cell_len(v) for v in table.column_values(index)])


def _width(table: Table, shown: Sequence[int], short: bool, gap: int) -> int:
    layout = Layout(tuple(shown), short, gap, False)
    return sum(_natural(table, i, layout) for i in shown) + gap * (len(shown) - 1)


def fit(table: Table, width: int) -> Layout:
    """The roomiest layout that shows every value whole in ``width`` cells.

    Full headers and wide gaps first, then short headers and narrower gaps, then the same again
    without the most droppable column, and so on; when only the essential columns are left and
    they still do not fit, their cells fold.
    """
    shown = list(range(len(table.columns)))
    droppable = sorted((i for i, c in enumerate(table.columns) if c.drop > 0), key=lambda i: (-table.columns[i].drop, -i))
    while True:
        for gap in GAPS:
            for short in (False, True):
                if _width(table, shown, short, gap) <= width:
                    return Layout(tuple(shown), short, gap, False)
        if not droppable:
            return Layout(tuple(shown), True, GAPS[-1], True)
        shown.remove(droppable.pop(0))


def to_rich(table: Table, width: int) -> RichTable:
    """A rich table laid out by :func:`fit`; hidden columns are named in its caption."""
    layout = fit(table, width)
    padding, collapse = {3: ((0, 1), False), 2: ((0, 1), True), 1: ((0, 0), False)}[layout.gap]
    hidden = [c.header for i, c in enumerate(table.columns) if i not in layout.shown]
    out = RichTable(
        title=Text(table.title) if table.title else None,
        caption=Text(f"hidden at this width: {', '.join(hidden)}") if hidden else None,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=padding,
        collapse_padding=collapse,
    )
    for i in layout.shown:
        column = table.columns[i]
        out.add_column(
            Text(layout.header(column)),
            justify="right" if column.numeric else "left",
            no_wrap=not layout.fold,
            overflow="fold",
            min_width=None if layout.fold else _natural(table, i, layout),
        )
    for row in table.rows:
        out.add_row(*(Text(row[i], style=table.columns[i].styles.get(row[i], "")) for i in layout.shown))
    return out


# -- choosing --------------------------------------------------------------------------------------


def resolve_format(fmt: Format | str | None, console: Console) -> Format:
    """The format asked for, else a rich table on a terminal and Markdown anywhere else."""
    if fmt is None:
        return Format.table if console.is_terminal else Format.markdown
    return Format(fmt)


def render(table: Table, fmt: Format | str | None = None, console: Console | None = None) -> None:
    """Print ``table`` to ``console`` (stdout by default) in ``fmt``.

    CSV and JSON carry only the rows, so the notes go to stderr, where a reader still sees them and
    a script does not have to skip them.
    """
    console = console or Console()
    chosen = resolve_format(fmt, console)
    if chosen is Format.table:
        console.print(to_rich(table, console.width))
        for note in table.notes:
            console.print(note, markup=False, highlight=False, emoji=False)
        return
    writer = {Format.markdown: to_markdown, Format.csv: to_csv, Format.json: to_json}[chosen]
    console.print(writer(table), markup=False, highlight=False, emoji=False, soft_wrap=True, end="")
    if chosen is not Format.markdown and table.notes:
        sys.stderr.write("\n".join(table.notes) + "\n")
