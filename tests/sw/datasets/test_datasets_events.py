"""Event-to-frame binning on a real recording, EVT2/AEDAT 3.1 decoding, and the DvsGesture layout."""
import hashlib
import struct

import numpy as np
import pytest

from sw.datasets import DatasetError, bin_indices, events_to_frames, load, read_aedat31, read_evt2
from sw.datasets import dvs_gesture, sample_recording

# sha3-224 of the decoded fields (t u64, x u16, y u16, on bool), from faery 0.7.1 tests/assets.py
FAERY_EVT2_DIGESTS = {
    "t": "9855ba39c1baea316ae623b72466e420df60a7510248391856eb4eaf",
    "x": "93fc6cff19b483fd48ca53345c6c1cf05123681d7b7272a1717e9303",
    "y": "07cfaef58e5fa71ce9910ed5b88fb7e9fcf71e4a8654cc2c4666f1ae",
    "on": "d2b5e9c4047f4c431937b24cd46c8b504e055372b0ded1df77f0ffa1",
}


def loop_reference(t, x, y, p, T, sensor_size, out_size):
    """Plain-Python restatement of the binning spec: (frames, events per bin)."""
    (hi, wi), (ho, wo) = sensor_size, out_size
    frames = np.zeros((T, 2, ho, wo), dtype=np.uint8)
    counts = [0] * T
    if len(t) == 0:
        return frames, counts
    t0, t1 = min(t), max(t)
    for ti, xi, yi, pi in zip(t, x, y, p):
        b = (ti - t0) * T // (t1 - t0 + 1)
        counts[b] += 1
        frames[b, pi, yi * ho // hi, xi * wo // wi] = 1
    return frames, counts


@pytest.fixture(scope="module")
def real_events():
    ev = read_evt2(sample_recording())
    return ev


def test_evt2_decoder_matches_faery(real_events):
    ev = real_events
    assert (ev.width, ev.height) == (640, 480)
    fields = {"t": ev.t.astype("<u8"), "x": ev.x.astype("<u2"), "y": ev.y.astype("<u2"),
              "on": ev.p.astype(bool)}
    for k, a in fields.items():
        assert hashlib.sha3_224(a.tobytes()).hexdigest() == FAERY_EVT2_DIGESTS[k], k
    assert ev.t[0] == 913716224 and ev.t[-1] == 913812095 and np.all(np.diff(ev.t) >= 0)


@pytest.mark.parametrize("T", [1, 4, 7])
def test_frames_real_recording_vs_loop(real_events, T):
    ev = real_events
    n = 200_000 if T != 4 else ev.t.size  # full recording once, a prefix for the other T
    t, x, y, p = (a[:n] for a in (ev.t, ev.x, ev.y, ev.p))
    frames = events_to_frames(t, x, y, p, T, sensor_size=(480, 640), out_size=(48, 48))
    assert frames.shape == (T, 2, 48, 48) and frames.dtype == np.uint8
    assert set(np.unique(frames).tolist()) <= {0, 1}
    ref, counts = loop_reference(t.tolist(), x.tolist(), y.tolist(), p.tolist(), T, (480, 640), (48, 48))
    assert np.array_equal(frames, ref)
    assert np.bincount(bin_indices(t, T), minlength=T).tolist() == counts
    assert sum(counts) == n
    for b in range(T):  # every bin has events; active pixels <= events in the bin
        assert counts[b] > 0 and 0 < frames[b].sum() <= counts[b]
    assert frames[:, 0].any() and frames[:, 1].any()  # both polarities present


def test_frames_real_events_dvs128_window(real_events):
    """Real events cropped to a 128x128 window through the default DVS128 -> 48x48 mapping."""
    ev = real_events
    x0, y0 = 256, 176
    m = (ev.x >= x0) & (ev.x < x0 + 128) & (ev.y >= y0) & (ev.y < y0 + 128)
    t, x, y, p = ev.t[m], ev.x[m] - x0, ev.y[m] - y0, ev.p[m]
    assert t.size > 1000
    frames = events_to_frames(t, x, y, p, 4)
    ref, counts = loop_reference(t.tolist(), x.tolist(), y.tolist(), p.tolist(), 4, (128, 128), (48, 48))
    assert frames.shape == (4, 2, 48, 48) and np.array_equal(frames, ref) and min(counts) > 0


def test_binning_edges():
    assert events_to_frames([], [], [], [], 3).shape == (3, 2, 48, 48)
    assert bin_indices(np.arange(10), 10).tolist() == list(range(10))
    assert bin_indices([5, 5, 5], 4).tolist() == [0, 0, 0]
    assert bin_indices([0, 99], 4).tolist() == [0, 3]  # last event -> last bin
    f = events_to_frames([7], [127], [0], [1], 2)
    assert f.sum() == 1 and f[0, 1, 0, 47] == 1
    with pytest.raises(ValueError):
        events_to_frames([0], [128], [0], [0], 2)


# ---------- synthetic DvsGesture directory (standard layout) ----------

def write_aedat31(path, packets):
    """packets: list of (ts_overflow, [(t, x, y, p, valid), ...]) polarity packets; plain struct loop.
    A special-event packet (type 0) is written first; readers must skip it."""
    with open(path, "wb") as f:
        f.write(b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n#!END-HEADER\r\n")
        f.write(struct.pack("<hhiiiiii", 0, 1, 8, 4, 0, 1, 1, 1) + struct.pack("<Ii", 0x7F, 0))
        for ovf, evs in packets:
            f.write(struct.pack("<hhiiiiii", 1, 1, 8, 4, ovf, len(evs), len(evs), len(evs)))
            for t, x, y, p, valid in evs:
                f.write(struct.pack("<Ii", (x << 17) | (y << 2) | (p << 1) | valid, t))


def make_recording(rng, spans, ovf_spans=()):
    """Random events inside each (start, end) span; returns packets and the valid events."""
    packets, valid = [], []
    for ovf, (start, end) in [(0, s) for s in spans] + [(1, s) for s in ovf_spans]:
        n = int(rng.integers(20, 60))
        ts = np.sort(rng.integers(start, end, n))
        evs = [(int(t), int(rng.integers(0, 128)), int(rng.integers(0, 128)), int(rng.integers(0, 2)),
                int(i % 9 != 3)) for i, t in enumerate(ts)]  # some invalid events
        packets.append((ovf, evs))
        valid += [((ovf << 31) | t, x, y, p) for t, x, y, p, v in evs if v]
    return packets, valid


@pytest.fixture
def gesture_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("FIREFLY_DATA", str(tmp_path / "cache"))
    d = tmp_path / "DVS128Gesture" / "DvsGesture"
    d.mkdir(parents=True)
    rng = np.random.default_rng(0)
    spec = {"user01_fluorescent": ([(1000, 5000), (6000, 9000)], [(100, 4000)]),  # train
            "user24_led": ([(2000, 8000)], [])}  # test
    expected = {"train": [], "test": []}
    for name, (spans, ovf_spans) in spec.items():
        packets, valid = make_recording(rng, spans, ovf_spans)
        write_aedat31(d / f"{name}.aedat", packets)
        rows = [(3, 1000, 5000), (11, 6000, 9000), (1, (1 << 31) + 100, (1 << 31) + 4000)] \
            if name.startswith("user01") else [(5, 2000, 8000)]
        (d / f"{name}_labels.csv").write_text(
            "class,startTime_usec,endTime_usec\n" + "".join(f"{c},{s},{e}\n" for c, s, e in rows))
        split = "train" if name.startswith("user01") else "test"
        for c, s, e in rows:
            expected[split].append((c - 1, [v for v in valid if s <= v[0] < e]))
    (d / "trials_to_train.txt").write_text("user01_fluorescent.aedat\n\n")
    (d / "trials_to_test.txt").write_text("user24_led.aedat\n")
    return d, expected


def test_aedat31_reader(gesture_dir):
    d, expected = gesture_dir
    ev = read_aedat31(d / "user01_fluorescent.aedat")
    want = sorted(e for _, evs in expected["train"] for e in evs)
    got = sorted(zip(ev.t.tolist(), ev.x.tolist(), ev.y.tolist(), ev.p.tolist()))
    assert got == want and ev.t.max() > (1 << 31)


@pytest.mark.parametrize("T", [1, 3])
def test_dvs_gesture_standard_layout(gesture_dir, T):
    d, expected = gesture_dir
    for split, root in (("train", d.parent), ("test", d.parent.parent / "DVS128Gesture")):
        ds = load("dvs-gesture", split, root=root, timesteps=T)
        assert ds.images.shape == (len(expected[split]), T, 2, 48, 48) and ds.images.dtype == np.uint8
        assert ds.labels.dtype == np.int64 and ds.num_classes == 11
        assert ds.labels.tolist() == [c for c, _ in expected[split]]
        for img, (_, evs) in zip(ds.images, expected[split]):
            t, x, y, p = zip(*evs)
            assert np.array_equal(img, loop_reference(t, x, y, p, T, (128, 128), (48, 48))[0])
        again = load("dvs-gesture", split, root=d, timesteps=T)  # from the npz cache
        assert np.array_equal(again.images, ds.images)
    assert len(list((d.parent.parent / "cache" / "dvs-gesture").glob(f"frames_*_T{T}_*.npz"))) == 2


def test_dvs_gesture_errors(gesture_dir, tmp_path):
    d, _ = gesture_dir
    with pytest.raises(DatasetError, match="DVS128 Gesture not found"):
        load("dvs-gesture", "train", root=tmp_path / "nothing")
    (d / "user24_led_labels.csv").unlink()
    with pytest.raises(DatasetError, match="user24_led_labels.csv is missing"):
        load("dvs-gesture", "test", root=d)
    (d / "bad.aedat").write_bytes(b"#!AER-DAT2.0\r\n")
    with pytest.raises(DatasetError, match="not an AEDAT 3"):
        dvs_gesture.read_aedat31(d / "bad.aedat")
