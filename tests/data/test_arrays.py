"""Tests for gazesdk.data.arrays: the on-disk array form of a gaze dataset."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gazesdk.data.arrays import (
    FIELDS,
    FORMAT_NAME,
    FORMAT_VERSION,
    SPLITS,
    ArraysWriter,
    GazeArrays,
    concatenate,
    empty_fields,
    is_arrays_dir,
    load_arrays,
    write_arrays,
)
from gazesdk.errors import DataFormatError

DEVICES = ("iPhone 6s", "iPad Air 2")


def random_fields(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Fields of the declared dtypes and shapes, filled with distinct random values."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, (dtype, shape) in FIELDS.items():
        dt = np.dtype(dtype)
        if dt == np.bool_:
            a = rng.random((n, *shape)) < 0.5
        elif dt.kind == "f":
            a = rng.normal(0, 10, (n, *shape)).astype(dt)
        else:
            info = np.iinfo(dt)
            a = rng.integers(max(info.min, -1000), min(info.max, 1000), (n, *shape), dtype=dt,
                             endpoint=True)
        out[name] = a
    out["split"] = rng.integers(0, 3, n).astype(np.int8)
    out["orientation"] = rng.integers(1, 5, n).astype(np.int8)
    out["device"] = rng.integers(0, len(DEVICES), n).astype(np.int16)
    out["frame"] = np.arange(n, dtype=np.int32)  # row identity, to check order
    return out


def make(n: int = 12, seed: int = 0, info=None) -> GazeArrays:
    return GazeArrays(random_fields(n, seed), DEVICES, info if info is not None else {"src": "t"})


def assert_same(a: GazeArrays, b: GazeArrays) -> None:
    assert len(a) == len(b)
    for name in FIELDS:
        assert a[name].dtype == b[name].dtype, name
        np.testing.assert_array_equal(np.asarray(a[name]), np.asarray(b[name]), err_msg=name)


# --- empty_fields / GazeArrays validation ----------------------------------------------------

def test_empty_fields_shapes_and_defaults():
    f = empty_fields(3)
    assert set(f) == set(FIELDS)
    assert f["face"].shape == (3, 64, 64, 3) and f["face"].dtype == np.uint8
    assert f["face_grid"].shape == (3, 25, 25)
    assert f["gaze_cm"].shape == (3, 2) and f["gaze_cm"].dtype == np.float32
    assert f["subject"].shape == (3,) and f["subject"].dtype == np.int32
    assert f["is_calibration"].dtype == np.bool_
    assert f["sequence"].tolist() == [-1, -1, -1]
    assert f["gaze_cm"].sum() == 0 and f["face"].sum() == 0
    assert len(GazeArrays(f, DEVICES, {})) == 3


def test_missing_field_is_rejected():
    f = random_fields(4)
    del f["left_eye"]
    with pytest.raises(DataFormatError, match="left_eye"):
        GazeArrays(f, DEVICES, {})


def test_wrong_dtype_is_rejected():
    f = random_fields(4)
    f["gaze_cm"] = f["gaze_cm"].astype(np.float64)
    with pytest.raises(DataFormatError, match="gaze_cm"):
        GazeArrays(f, DEVICES, {})


def test_wrong_row_shape_is_rejected():
    f = random_fields(4)
    f["face"] = np.zeros((4, 32, 32, 3), np.uint8)
    with pytest.raises(DataFormatError, match="face"):
        GazeArrays(f, DEVICES, {})
    f = random_fields(4)
    f["subject"] = np.zeros((4, 1), np.int32)
    with pytest.raises(DataFormatError, match="subject"):
        GazeArrays(f, DEVICES, {})


def test_mismatched_lengths_are_rejected():
    f = random_fields(4)
    f["dot_pts"] = f["dot_pts"][:3]
    with pytest.raises(DataFormatError, match="length"):
        GazeArrays(f, DEVICES, {})


def test_getitem_and_len():
    f = random_fields(5)
    g = GazeArrays(f, DEVICES, {})
    assert len(g) == 5
    assert g["gaze_cm"] is f["gaze_cm"]


# --- select / split / concatenate ------------------------------------------------------------

def test_select_by_mask_and_index():
    g = make(10)
    mask = np.zeros(10, bool)
    mask[[1, 4, 7]] = True
    s = g.select(mask)
    assert len(s) == 3
    assert s["frame"].tolist() == [1, 4, 7]
    np.testing.assert_array_equal(s["face"], g["face"][[1, 4, 7]])
    t = g.select(np.array([9, 0, 9]))
    assert t["frame"].tolist() == [9, 0, 9]
    np.testing.assert_array_equal(t["gaze_cm"][1], g["gaze_cm"][0])
    assert t.devices == DEVICES and t.info == g.info


def test_split_picks_rows_by_split_code():
    g = make(30)
    codes = g["split"]
    for i, name in enumerate(SPLITS):
        s = g.split(name)
        assert s["frame"].tolist() == np.flatnonzero(codes == i).tolist()
        assert (s["split"] == i).all()
    assert sum(len(g.split(n)) for n in SPLITS) == 30
    assert SPLITS == ("train", "val", "test")


def test_unknown_split_is_rejected():
    with pytest.raises(DataFormatError, match="validation"):
        make(3).split("validation")


def test_concatenate():
    a, b = make(4, seed=1), make(6, seed=2)
    c = concatenate([a, b])
    assert len(c) == 10
    for name in FIELDS:
        np.testing.assert_array_equal(c[name][:4], a[name], err_msg=name)
        np.testing.assert_array_equal(c[name][4:], b[name], err_msg=name)
    assert c.devices == DEVICES


def test_concatenate_refuses_different_devices_and_nothing():
    a = make(2)
    b = GazeArrays(random_fields(2), ("iPhone 5s",), {})
    with pytest.raises(DataFormatError, match="device"):
        concatenate([a, b])
    with pytest.raises(DataFormatError):
        concatenate([])


# --- write_arrays / load_arrays --------------------------------------------------------------

def test_round_trip_memory_mapped(tmp_path):
    g = make(12, info={"source": "unit test", "n": 12})
    out = write_arrays(tmp_path / "ds", g)
    assert out == tmp_path / "ds"
    assert is_arrays_dir(out)
    h = load_arrays(out)  # mmap=True by default
    assert_same(g, h)
    assert h.devices == DEVICES
    assert dict(h.info) == {"source": "unit test", "n": 12}
    for name in FIELDS:
        assert isinstance(h[name], np.memmap), name
    # read-only mapping
    with pytest.raises(ValueError):
        h["gaze_cm"][0, 0] = 1.0


def test_round_trip_in_memory(tmp_path):
    g = make(7, seed=3)
    h = load_arrays(write_arrays(tmp_path / "ds", g), mmap=False)
    assert_same(g, h)
    for name in FIELDS:
        assert not isinstance(h[name], np.memmap), name


def test_select_of_memory_mapped_data_is_in_memory(tmp_path):
    g = make(8)
    h = load_arrays(write_arrays(tmp_path / "ds", g))
    s = h.split("train")
    for name in FIELDS:
        assert not isinstance(s[name], np.memmap), name
    np.testing.assert_array_equal(s["face"], g.split("train")["face"])


def test_manifest_contents(tmp_path):
    out = write_arrays(tmp_path / "ds", make(5))
    m = json.loads((out / "manifest.json").read_text())
    assert m["format"] == FORMAT_NAME == "gazesdk-arrays"
    assert m["version"] == FORMAT_VERSION
    assert m["count"] == 5
    assert m["devices"] == list(DEVICES)
    assert m["fields"]["face"]["dtype"] == "uint8"
    assert m["fields"]["face"]["shape"] == [64, 64, 3]
    assert m["fields"]["subject"]["shape"] == []
    assert sorted(p.name for p in out.glob("*.npy")) == sorted(f"{k}.npy" for k in FIELDS)
    assert not (tmp_path / "ds.partial").exists()


def test_round_trip_empty_dataset(tmp_path):
    h = load_arrays(write_arrays(tmp_path / "ds", GazeArrays(empty_fields(0), DEVICES, {})))
    assert len(h) == 0
    assert h["face"].shape == (0, 64, 64, 3)


def test_write_into_existing_empty_dir(tmp_path):
    (tmp_path / "ds").mkdir()
    out = write_arrays(tmp_path / "ds", make(3))
    assert_same(make(3), load_arrays(out))


# --- ArraysWriter ----------------------------------------------------------------------------

def _chunk(f: dict[str, np.ndarray], a: int, b: int) -> dict[str, np.ndarray]:
    return {k: v[a:b] for k, v in f.items()}


def test_writer_in_several_chunks(tmp_path):
    f = random_fields(10, seed=5)
    w = ArraysWriter(tmp_path / "ds", 10, DEVICES, {"k": 1})
    for a, b in [(0, 3), (3, 3), (3, 7), (7, 10)]:  # includes an empty chunk
        w.write(_chunk(f, a, b))
    assert w.filled == 10
    out = w.close()
    h = load_arrays(out)
    assert_same(GazeArrays(f, DEVICES, {}), h)
    assert dict(h.info) == {"k": 1}


def test_writer_partial_dir_never_looks_complete(tmp_path):
    out = tmp_path / "ds"
    f = random_fields(6)
    w = ArraysWriter(out, 6, DEVICES)
    w.write(_chunk(f, 0, 4))
    assert not is_arrays_dir(out)
    assert not is_arrays_dir(tmp_path / "ds.partial")
    with pytest.raises(DataFormatError):
        load_arrays(out)
    w.write(_chunk(f, 4, 6))
    assert not is_arrays_dir(out)
    w.close()
    assert is_arrays_dir(out)
    assert not (tmp_path / "ds.partial").exists()


def test_writer_refuses_to_overfill(tmp_path):
    f = random_fields(5)
    w = ArraysWriter(tmp_path / "ds", 5, DEVICES)
    w.write(_chunk(f, 0, 3))
    with pytest.raises(DataFormatError, match="exceed"):
        w.write(_chunk(f, 0, 3))  # 3 + 3 > 5
    assert w.filled == 3
    w.write(_chunk(f, 3, 5))  # still usable: the refused chunk wrote nothing
    assert_same(GazeArrays(f, DEVICES, {}), load_arrays(w.close()))


def test_writer_refuses_to_close_underfilled(tmp_path):
    out = tmp_path / "ds"
    w = ArraysWriter(out, 5, DEVICES)
    w.write(_chunk(random_fields(5), 0, 4))
    with pytest.raises(DataFormatError, match="4"):
        w.close()
    assert not is_arrays_dir(out)
    assert not (out / "manifest.json").exists()


def test_writer_refuses_non_empty_output_dir(tmp_path):
    out = tmp_path / "ds"
    out.mkdir()
    (out / "keep.txt").write_text("user data")
    with pytest.raises(DataFormatError, match="not empty"):
        ArraysWriter(out, 3, DEVICES)
    assert (out / "keep.txt").read_text() == "user data"
    with pytest.raises(DataFormatError):
        write_arrays(out, make(3))


def test_writer_refuses_to_overwrite_a_dataset(tmp_path):
    out = write_arrays(tmp_path / "ds", make(3, seed=1))
    with pytest.raises(DataFormatError):
        write_arrays(out, make(3, seed=2))
    assert_same(make(3, seed=1), load_arrays(out))


def test_writer_unwritten_sequence_defaults_to_minus_one(tmp_path):
    # Pre-allocation marks every row "not part of a stare" until written.
    w = ArraysWriter(tmp_path / "ds", 2, DEVICES)
    f = random_fields(2)
    f["sequence"] = np.array([7, -1], np.int32)
    w.write(f)
    assert load_arrays(w.close())["sequence"].tolist() == [7, -1]


def test_writer_refuses_chunk_with_mismatched_lengths(tmp_path):
    w = ArraysWriter(tmp_path / "ds", 3, DEVICES)
    f = random_fields(3)
    f["face"] = f["face"][:1]
    with pytest.raises(DataFormatError):
        w.write(f)


def test_writer_refuses_wrong_dtype(tmp_path):
    w = ArraysWriter(tmp_path / "ds", 2, DEVICES)
    f = random_fields(2)
    f["face"] = np.full((2, 64, 64, 3), 300.0)
    with pytest.raises(DataFormatError):
        w.write(f)


def test_writer_missing_field_is_data_format_error(tmp_path):
    w = ArraysWriter(tmp_path / "ds", 2, DEVICES)
    f = random_fields(2)
    del f["right_eye"]
    with pytest.raises(DataFormatError):
        w.write(f)


# --- load_arrays on bad folders --------------------------------------------------------------

@pytest.fixture
def written(tmp_path):
    return write_arrays(tmp_path / "ds", make(4))


def test_load_without_manifest(tmp_path):
    (tmp_path / "x").mkdir()
    np.save(tmp_path / "x" / "face.npy", np.zeros((1, 64, 64, 3), np.uint8))
    with pytest.raises(DataFormatError, match="manifest"):
        load_arrays(tmp_path / "x")
    assert not is_arrays_dir(tmp_path / "x")
    with pytest.raises(DataFormatError):
        load_arrays(tmp_path / "does-not-exist")
    assert not is_arrays_dir(tmp_path / "does-not-exist")


def test_load_wrong_version(written):
    m = json.loads((written / "manifest.json").read_text())
    m["version"] = FORMAT_VERSION + 1
    (written / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(DataFormatError, match="version"):
        load_arrays(written)


def test_load_wrong_format_name(written):
    m = json.loads((written / "manifest.json").read_text())
    m["format"] = "something-else"
    (written / "manifest.json").write_text(json.dumps(m))
    assert not is_arrays_dir(written)
    with pytest.raises(DataFormatError):
        load_arrays(written)


def test_load_invalid_json_manifest(written):
    (written / "manifest.json").write_text("{not json")
    assert not is_arrays_dir(written)
    with pytest.raises(DataFormatError, match="JSON"):
        load_arrays(written)


def test_load_missing_npy(written):
    (written / "face_grid.npy").unlink()
    with pytest.raises(DataFormatError, match="face_grid"):
        load_arrays(written)


@pytest.mark.parametrize("mmap", [True, False])
def test_load_garbage_npy(written, mmap):
    (written / "face.npy").write_bytes(b"this is not an npy file" * 10)
    with pytest.raises(DataFormatError, match="face"):
        load_arrays(written, mmap=mmap)


@pytest.mark.parametrize("mmap", [True, False])
@pytest.mark.parametrize("keep", [20, 200])  # inside the header / inside the data
def test_load_truncated_npy(written, mmap, keep):
    raw = (written / "face.npy").read_bytes()
    (written / "face.npy").write_bytes(raw[:keep])
    with pytest.raises(DataFormatError, match="face"):
        load_arrays(written, mmap=mmap)


@pytest.mark.parametrize("mmap", [True, False])
def test_load_npy_with_wrong_dtype(written, mmap):
    np.save(written / "gaze_cm.npy", np.zeros((4, 2), np.float64))
    with pytest.raises(DataFormatError, match="gaze_cm"):
        load_arrays(written, mmap=mmap)


def test_load_npy_with_wrong_length(written):
    np.save(written / "subject.npy", np.zeros(3, np.int32))
    with pytest.raises(DataFormatError, match="length"):
        load_arrays(written)


@pytest.mark.parametrize("mmap", [True, False])
def test_load_empty_npy(written, mmap):
    (written / "face.npy").write_bytes(b"")
    with pytest.raises(DataFormatError):
        load_arrays(written, mmap=mmap)


def test_load_manifest_without_devices(written):
    m = json.loads((written / "manifest.json").read_text())
    del m["devices"]
    (written / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(DataFormatError):
        load_arrays(written)


def test_manifest_not_an_object(written):
    (written / "manifest.json").write_text("[1, 2]")
    assert is_arrays_dir(written) is False
    with pytest.raises(DataFormatError):
        load_arrays(written)


def test_writer_discards_a_stale_partial_folder(tmp_path):
    from gazesdk.data.arrays import ArraysWriter, empty_fields, load_arrays

    out = tmp_path / "ds"
    stale = tmp_path / "ds.partial"
    stale.mkdir()
    (stale / "face.npy").write_bytes(b"left over by a crash")
    writer = ArraysWriter(out, 2, ("iPhone 6s",))
    fields = empty_fields(2)
    fields["gaze_cm"][:] = [[1.0, -2.0], [3.0, -4.0]]
    writer.write(fields)
    writer.close()
    assert not stale.exists()
    assert load_arrays(out)["gaze_cm"].tolist() == [[1.0, -2.0], [3.0, -4.0]]


# --- the optional head-pose field ------------------------------------------------------------

def test_optional_head_pose_round_trips_and_may_be_absent(tmp_path):
    fields = random_fields(6)
    pose = np.random.default_rng(1).normal(0, 10, (6, 3)).astype(np.float32)
    with_pose = GazeArrays({**fields, "head_pose_deg": pose}, DEVICES, {})
    write_arrays(tmp_path / "a", with_pose)
    back = load_arrays(tmp_path / "a")
    assert back.has("head_pose_deg")
    np.testing.assert_array_equal(np.asarray(back["head_pose_deg"]), pose)
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["fields"]["head_pose_deg"]["shape"] == [3]
    write_arrays(tmp_path / "b", GazeArrays(fields, DEVICES, {}))       # without it: fine
    assert not load_arrays(tmp_path / "b").has("head_pose_deg")
    joined = concatenate([with_pose, GazeArrays(fields, DEVICES, {})])
    assert not joined.has("head_pose_deg")                            # not in every part
    assert concatenate([with_pose, with_pose]).has("head_pose_deg")
    with pytest.raises(DataFormatError, match="head_pose_deg"):
        GazeArrays({**fields, "head_pose_deg": pose[:, :2]}, DEVICES, {})
    with pytest.raises(DataFormatError, match="unknown optional"):
        empty_fields(2, optional=("eye_state",))
    writer = ArraysWriter(tmp_path / "c", 6, DEVICES, optional=("head_pose_deg",))
    with pytest.raises(DataFormatError, match="lacks fields.*head_pose_deg"):
        writer.write(fields)


def test_gazesim_head_pose_matches_its_plan(tmp_path):
    from gazesdk.sim import GazeSim, SimConfig

    sim = GazeSim(SimConfig(subjects=3, frames_per_subject=5, sessions_per_subject=1, seed=2))
    chunk = sim.render_chunk(0, len(sim))
    np.testing.assert_allclose(chunk["head_pose_deg"], np.degrees(sim.plan.head_pose),
                               rtol=1e-6)
    assert np.abs(chunk["head_pose_deg"]).max() < 60
