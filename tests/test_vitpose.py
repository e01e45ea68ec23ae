"""Top-down pose (a person detector, then ViTPose on each person) through the fake Hub, and bring-your-own
keypoint-detection models."""
import pytest

from playground.engine import predict
from tasks.pose import COCO_NAMES, PoseResult
from tests.fakehub import FakeRepo, commit_of
from tests.tinymodels import tiny_rtdetr_repo, tiny_vitpose_repo
from tasks import hub_spec
from zoo.cache import ModelCache
from zoo.errors import RefusedModelError, ZooError
from zoo.registry import get_spec, offline_available


@pytest.fixture(scope="module")
def tiny_repos(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    return {"pose": tiny_vitpose_repo(root / "pose"),
            "people": tiny_rtdetr_repo(root / "people"),
            "cats": tiny_rtdetr_repo(root / "cats", labels=("cat", "dog"))}


def _serve(fake_hub, spec, pose_files, det_files):
    fake_hub.add(spec.source.repo_id, FakeRepo(pose_files, commit=commit_of("pose")))
    fake_hub.add(spec.detector.repo_id, FakeRepo(det_files, commit=spec.detector.revision))


def test_registry_vitpose_reads_each_person_the_detector_finds(fake_hub, tiny_repos, grace):
    spec = get_spec("pose/vitpose-base")
    _serve(fake_hub, spec, tiny_repos["pose"], tiny_repos["people"])
    assert not offline_available(spec)
    res = predict(spec, grace, cache=ModelCache(1)).result
    assert isinstance(res, PoseResult)
    assert 1 <= len(res) <= spec.options["max_people"], "the biased detector finds people; each is read"
    h, w = grace.shape[:2]
    for person in res.people:
        assert [k.name for k in person.keypoints] == list(COCO_NAMES)
        x0, y0, x1, y1 = person.box
        assert 0 <= x0 <= x1 <= w and 0 <= y0 <= y1 <= h
        assert person.score > 0.5
    assert offline_available(spec), "pose model and detector both cached"


def test_a_detector_without_people_is_a_clear_error(fake_hub, tiny_repos, grace):
    spec = get_spec("pose/vitpose-base")
    _serve(fake_hub, spec, tiny_repos["pose"], tiny_repos["cats"])
    with pytest.raises(ZooError, match="no 'person' class"):
        predict(spec, grace, cache=ModelCache(1))


def test_byo_keypoint_model_runs_after_the_registry_detector(fake_hub, tiny_repos, grace):
    det = get_spec("pose/vitpose-base").detector
    fake_hub.add(det.repo_id, FakeRepo(tiny_repos["people"], commit=det.revision))
    fake_hub.add("someone/my-vitpose", FakeRepo(tiny_repos["pose"], commit=commit_of("mine"),
                                                pipeline_tag="keypoint-detection", library_name="transformers",
                                                config={"architectures": ["VitPoseForPoseEstimation"]}))
    spec = hub_spec("someone/my-vitpose", task="pose")
    assert (spec.task, spec.runtime, spec.detector) == ("pose", "transformers_pose", det)
    res = predict(spec, grace, cache=ModelCache(1)).result
    assert isinstance(res, PoseResult) and len(res) >= 1


def test_byo_keypoint_model_of_another_kind_is_refused(fake_hub, tiny_repos):
    fake_hub.add("someone/superpoint", FakeRepo(tiny_repos["pose"], commit=commit_of("sp"),
                                                pipeline_tag="keypoint-detection", library_name="transformers",
                                                config={"architectures": ["SuperPointForKeypointDetection"]}))
    with pytest.raises(RefusedModelError, match="top-down pose models"):
        hub_spec("someone/superpoint", task="pose")
