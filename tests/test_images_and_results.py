"""The image edge and the result types: odd inputs become RGB uint8; bad results refuse to exist."""
import json

import numpy as np
import pytest
from PIL import Image

from playground.engine import predict
from tasks.face import Face, FaceResult
from tasks.hands import Hand, HandsResult
from tasks.pose import Keypoint, Person, PoseResult
from tasks.segmentation import SegmentationResult
from zoo.images import ImageError, load_image, to_rgb_uint8


def test_grayscale_rgba_16bit_float_all_become_rgb_uint8(grace):
    gray = grace.mean(axis=2).astype(np.uint8)
    rgba = np.dstack([grace, np.full(grace.shape[:2], 255, np.uint8)])
    sixteen = grace.astype(np.uint16) * 257
    flt = grace.astype(np.float32) / 255.0
    for arr in (gray, gray[:, :, None], rgba, sixteen, flt):
        out = to_rgb_uint8(arr)
        assert out.dtype == np.uint8 and out.shape == grace.shape
    assert np.array_equal(to_rgb_uint8(sixteen), grace)
    assert np.abs(to_rgb_uint8(flt).astype(int) - grace).max() <= 1


def test_transparent_pixels_are_put_on_white():
    rgba = np.zeros((4, 4, 4), np.uint8)
    assert (to_rgb_uint8(rgba) == 255).all()


@pytest.mark.parametrize("mode", ["L", "RGBA", "I;16", "P", "LA"])
def test_image_files_in_many_modes_load(tmp_path, grace, mode):
    img = Image.fromarray(grace)
    img = img.convert("I;16") if mode == "I;16" else img.convert(mode)
    path = tmp_path / "x.png"
    img.save(path)
    out = load_image(path)
    assert out.dtype == np.uint8 and out.shape == grace.shape


def test_a_16bit_grayscale_photo_still_finds_the_face(tmp_path, grace):
    g16 = (grace.mean(axis=2) * 257).astype(np.uint16)
    path = tmp_path / "g16.png"
    Image.fromarray(g16).save(path)
    assert len(predict("face/blazeface-short", load_image(path)).result.faces) == 1


def test_corrupt_empty_missing_and_huge_files_get_clear_errors(tmp_path, monkeypatch):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(ImageError, match="bad.jpg: not a readable image"):
        load_image(bad)
    with pytest.raises(ImageError, match="the file is empty"):
        load_image(empty)
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "nope.png")
    big = tmp_path / "big.png"
    Image.new("RGB", (2000, 1500)).save(big)
    monkeypatch.setenv("ZOO_MAX_PIXELS", "1000000")
    with pytest.raises(ImageError, match="too large"):
        load_image(big)
    with pytest.raises(ImageError, match="too large"):
        to_rgb_uint8(np.zeros((1500, 2000, 3), np.uint8))


def test_not_an_image_array():
    with pytest.raises(ImageError):
        to_rgb_uint8(np.zeros((0, 0)))
    with pytest.raises(ImageError):
        to_rgb_uint8(np.zeros((4, 4, 7)))


def test_results_validate_on_construction():
    with pytest.raises(ValueError):
        Face(box=(10, 10, 5, 20), score=0.5)
    with pytest.raises(ValueError):
        Face(box=(0, 0, 5, 5), score=1.5)
    with pytest.raises(ValueError):
        Face(box=(0, 0, float("nan"), 5), score=0.5)
    with pytest.raises(ValueError):
        Hand(box=(0, 0, 1, 1), score=0.5, handedness="Left", keypoints=((0, 0, 0),) * 20)
    with pytest.raises(ValueError):
        Hand(box=(0, 0, 1, 1), score=0.5, handedness="left", keypoints=((0, 0, 0),) * 21)
    with pytest.raises(ValueError):
        Person(box=(0, 0, 1, 1), score=0.5, keypoints=(Keypoint("nose", 0, 0, 0.5),) * 2)
    with pytest.raises(ValueError):
        SegmentationResult(np.full((2, 2), 3), ("background", "person"))
    with pytest.raises(ValueError, match="2 finite numbers"):
        Face(box=(0, 0, 5, 5), score=0.5, keypoints=((1, 2), (3, float("inf"))))
    with pytest.raises(ValueError, match="3 finite numbers"):
        Face(box=(0, 0, 5, 5), score=0.5, landmarks=((1, 2, 3), (4, 5)))
    with pytest.raises(ValueError, match="2 finite numbers"):
        Face(box=(0, 0, 5, 5), score=0.5, keypoints=((1, 2, 3),))
    mesh = np.arange(12, dtype=np.float32).reshape(4, 3)
    face = Face(box=(0, 0, 5, 5), score=0.5, landmarks=tuple(map(tuple, mesh)))
    assert face.landmarks[3] == (9.0, 10.0, 11.0) and type(face.landmarks[3][0]) is float


def test_empty_results_are_values_not_none():
    for cls in (FaceResult, HandsResult, PoseResult):
        e = cls.empty()
        assert len(e) == 0 and json.dumps(e.to_json())
    s = SegmentationResult.empty(4, 5, ("background", "person"))
    # every label is in the coverage, 0.0 included: the schema does not change with the picture
    assert s.to_json() == {"labels": ["background", "person"], "coverage": {"background": 1.0, "person": 0.0}}


def test_filter_keeps_the_best_scores():
    faces = FaceResult(tuple(Face(box=(0, 0, 1, 1), score=s) for s in (0.2, 0.9, 0.6, 0.8)))
    kept = faces.filter(min_score=0.5, max_results=2)
    assert [f.score for f in kept.faces] == [0.9, 0.8]
