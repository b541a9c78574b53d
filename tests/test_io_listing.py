"""Listing the images of a folder: stable order, any-case extensions, hidden entries skipped."""

from __future__ import annotations

import pytest

from irestore.errors import DatasetError
from irestore.io import list_images


def touch(folder, *names) -> None:
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


def test_lists_images_sorted_and_skips_others(tmp_path):
    touch(tmp_path, "b.png", "a.JPG", "c.tiff", "d.webp", "e.bmp", "f.jpeg", "g.tif", "notes.txt", "h.gif")
    touch(tmp_path, ".hidden.png", "._a.JPG", ".out.png.1a2b.tmp", "sub/deep.png")
    names = [path.name for path in list_images(tmp_path)]
    assert names == ["a.JPG", "b.png", "c.tiff", "d.webp", "e.bmp", "f.jpeg", "g.tif"]


def test_recursive_descends_but_not_into_hidden_folders(tmp_path):
    touch(tmp_path, "z.png", "sub/b.png", "sub/inner/a.png", ".ipynb_checkpoints/z-checkpoint.png")
    found = [path.relative_to(tmp_path).as_posix() for path in list_images(tmp_path, recursive=True)]
    assert found == ["sub/b.png", "sub/inner/a.png", "z.png"]
    assert [path.name for path in list_images(tmp_path)] == ["z.png"]


def test_returns_paths_inside_the_folder(tmp_path):
    touch(tmp_path, "x.png")
    assert list_images(str(tmp_path)) == [tmp_path / "x.png"]


def test_errors_name_the_folder(tmp_path):
    with pytest.raises(DatasetError, match="folder not found") as caught:
        list_images(tmp_path / "missing")
    assert str(tmp_path / "missing") in str(caught.value)
    touch(tmp_path, "file.png", "only/readme.txt", "nested/sub/a.png")
    with pytest.raises(DatasetError, match="is not a folder"):
        list_images(tmp_path / "file.png")
    with pytest.raises(DatasetError, match="no images"):
        list_images(tmp_path / "only")
    with pytest.raises(DatasetError, match="no images"):
        list_images(tmp_path / "nested")
    assert len(list_images(tmp_path / "nested", recursive=True)) == 1


def test_excluded_folders_are_not_entered_however_they_are_spelled(tmp_path, monkeypatch):
    touch(tmp_path, "a.png", "clean/a.png", "clean/clean/a.png", "sub/b.png", "sub/clean/b.png")
    found = [p.relative_to(tmp_path).as_posix() for p in list_images(tmp_path, recursive=True, exclude=[tmp_path / "clean"])]
    assert found == ["a.png", "sub/b.png", "sub/clean/b.png"]
    monkeypatch.chdir(tmp_path / "sub")
    found = [p.relative_to(tmp_path).as_posix() for p in list_images(tmp_path, recursive=True, exclude=["../clean/", "clean"])]
    assert found == ["a.png", "sub/b.png"]
    assert len(list_images(tmp_path, recursive=True, exclude=[tmp_path / "missing"])) == 5
    assert [p.name for p in list_images(tmp_path, exclude=[tmp_path])] == ["a.png"]  # the root itself is listed
