"""What sw.datasets promises without loading (FRAME_SHAPES, NUM_CLASSES: the training CLI checks a model
against them before any data is loaded) matches what load() returns; and the cache's file moves are
atomic and create their folder (issue 13: a first `fetch mnist` once died with FileNotFoundError on a
rename, two fetches renaming each other's files away)."""
import numpy as np
import pytest

from sw import datasets
from sw.datasets.common import unique_tmp, install


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist", "cifar10"])
def test_frame_shapes_and_classes_match_the_data(name):
    try:
        ds = datasets.load(name, "test")
    except datasets.DatasetError as e:
        pytest.skip(f"{name} not available here: {e}")
    assert tuple(ds.images.shape[1:]) == datasets.FRAME_SHAPES[name]
    assert ds.num_classes == datasets.NUM_CLASSES[name]
    assert set(np.unique(ds.labels)) <= set(range(ds.num_classes))


def test_dvs_gesture_frames_are_t_by_frame_shape():
    from sw.datasets.events import events_to_frames
    t = np.arange(100, dtype=np.int64)
    x = y = np.arange(100, dtype=np.int64) % 128
    f = events_to_frames(t, x, y, (t % 2).astype(np.int64), 5)
    assert f.shape == (5,) + datasets.FRAME_SHAPES["dvs-gesture"]
    assert datasets.NUM_CLASSES["dvs-gesture"] == 11


def test_install_creates_the_folder_and_replaces(tmp_path):
    src = tmp_path / "a.part"
    src.write_bytes(b"new")
    dest = tmp_path / "missing" / "deeper" / "a"
    assert install(src, dest) == dest and dest.read_bytes() == b"new" and not src.exists()
    src.write_bytes(b"newer")
    install(src, dest)
    assert dest.read_bytes() == b"newer"


def test_temporary_names_are_unique_per_call(tmp_path):
    names = {unique_tmp(tmp_path / "x.idx", ".fetched") for _ in range(100)}
    assert len(names) == 100 and all(n.parent == tmp_path for n in names)
