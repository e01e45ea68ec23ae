"""Bring your own model: a Hub model id becomes a zoo entry, if it fits a task and is safe to load.

``hf:OWNER/NAME[@REVISION]`` is the id of such an entry everywhere (CLI, app, API). Accepted: transformers
models with safetensors weights, no custom code, within the size cap, whose card says they do what a
tab does. Refused, each with its reason: pickled weights only, custom code, too large, malformed ids,
a task that does not fit.
"""
from __future__ import annotations

import json
import logging
import os
import re
import threading
from pathlib import Path
from zoo import hub
from zoo.errors import RefusedModelError, clip
from zoo.specs import HubSource, ModelSpec

log = logging.getLogger(__name__)

PICKLE_EXT = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
_ID = re.compile(r"^hf:(?P<repo>[^@\s]+)(@(?P<rev>\S+))?$")
_lock = threading.Lock()
_known: dict[str, ModelSpec] = {}

# What a tab accepts, by the Hub's pipeline tag.
DETECTION_TARGETS = {"face": ("face", "human face")}


def parse(model_id: str) -> tuple[str, str | None]:
    text = model_id.strip()
    m = _ID.match(text if text.startswith("hf:") else f"hf:{text}")
    if not m:
        raise RefusedModelError(f"'{clip(model_id)}' is not a Hub model id: expected owner/name or owner/name@revision")
    return hub.validate_repo_id(m["repo"]), hub.validate_revision(m["rev"])


def model_id_for(repo_id: str, revision: str | None) -> str:
    return f"hf:{repo_id}@{revision}" if revision else f"hf:{repo_id}"


def _store() -> Path:
    root = Path(os.environ.get("ZOO_CACHE_DIR", Path.home() / ".cache" / "vision-playground"))
    return root / "byo.json"


def _remember(spec_data: dict) -> None:
    path = _store()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = json.loads(path.read_text()) if path.is_file() else {}
        data[spec_data["id"]] = spec_data
        path.write_text(json.dumps(data, indent=1))
    except (OSError, ValueError) as exc:
        log.warning("could not remember %s: %s", spec_data["id"], exc)


def _recall(model_id: str) -> dict | None:
    try:
        return json.loads(_store().read_text()).get(model_id)
    except (OSError, ValueError):
        return None


RUNTIME_OF = {"hand_crop_classifier": "hand_crop_classifier", "top_down": "transformers_pose"}


def _spec(data: dict) -> ModelSpec:
    src = data["source"]
    detector = None
    if data["decoder"] == "top_down":  # people found by the registry's ViTPose entry's detector
        from zoo.hub_registry import HUB

        detector = next(s.detector for s in HUB if s.decoder == "top_down" and s.detector is not None)
    return ModelSpec(
        detector=detector,
        id=data["id"], task=data["task"], name=data["name"], runtime=data.get("runtime", "transformers"),
        decoder=data["decoder"],
        source=HubSource(src["repo_id"], src["filename"], src["revision"], revision_is_commit=True,
                         extra_files=tuple(src["extra_files"])),
        input_size=None, labels=tuple(data.get("labels", ())), license=data.get("license") or "see the model card",
        reference=f"https://huggingface.co/{src['repo_id']}", options=data.get("options", {}),
        note="Added from the Hub by a user.",
    )


def inspect(model_id: str, task: str | None = None, *, remember: bool = True) -> ModelSpec:
    """Read the model's card and decide. Raises RefusedModelError (with the reason) or HubError.

    With ``remember`` (the command line), the entry is kept for this process and written to the
    remembered list, so that a cached model runs offline later; the app keeps what a visitor adds in that
    visitor's session instead (``remember=False``)."""
    repo_id, revision = parse(model_id)
    info = hub.model_info(repo_id, revision)
    files = {s.rfilename: (s.size or 0) for s in (info.siblings or [])}
    config = dict(info.config or {})
    tag = info.pipeline_tag
    where = model_id_for(repo_id, revision)

    if config.get("auto_map") or any(f.endswith(".py") for f in files if "/" not in f):
        raise RefusedModelError(f"{where} needs custom code (trust_remote_code), which the playground never runs")
    weights = [f for f in files if f.endswith(".safetensors") and "/" not in f]
    if not weights:
        if any(f.endswith(PICKLE_EXT) for f in files):
            raise RefusedModelError(f"{where} has its weights only as pickles (.bin/.pt/.pth/.ckpt), which can run "
                                    "code when loaded; the playground loads safetensors or ONNX only")
        raise RefusedModelError(f"{where} has no safetensors weights")
    if "config.json" not in files:
        raise RefusedModelError(f"{where} has no config.json: not a transformers model")
    if info.library_name not in (None, "transformers"):
        raise RefusedModelError(f"{where} is a {info.library_name} model; the playground runs transformers models")

    wanted = [*weights, "config.json"] + [f for f in ("preprocessor_config.json",) if f in files]
    size = sum(files[f] for f in wanted)
    cap = hub.max_download_bytes()
    if size > cap:
        raise RefusedModelError(f"{where} is {size / 2**20:.0f} MiB, over the {cap / 2**20:.0f} MiB cap "
                                "(ZOO_MAX_DOWNLOAD_BYTES)")
    if len(weights) > 1:
        raise RefusedModelError(f"{where} has sharded weights; the playground loads single-file models")

    archs = " ".join(config.get("architectures") or [])
    labels = [str(v) for v in (config.get("id2label") or {}).values()]
    if tag == "image-segmentation" and (task in (None, "segmentation")):
        if archs and "ForSemanticSegmentation" not in archs:
            raise RefusedModelError(f"{where} is an instance/panoptic segmentation model ({archs}); the "
                                    "segmentation tab takes semantic segmentation models")
        the_task, decoder, options = "segmentation", "hf_semantic_segmentation", {"head": "semantic_segmentation"}
    elif tag == "object-detection" and (task in DETECTION_TARGETS or task is None):
        task = task or "face"
        names = DETECTION_TARGETS[task]
        ids = [i for i, lab in (config.get("id2label") or {}).items() if str(lab).lower() in names]
        if not ids:
            raise RefusedModelError(f"{where} detects {', '.join(labels[:6]) or 'unknown labels'}; the {task} tab "
                                    f"needs a detector with a '{names[0]}' label")
        the_task, decoder = task, f"hf_detection_{task}"
        options = {"head": "object_detection", "target_labels": [int(i) for i in ids]}
    elif tag == "keypoint-detection" and task in (None, "pose"):
        from zoo.runtimes.transformers_rt import POSE_CLASSES

        if not any(a in archs for a in POSE_CLASSES):
            kind = archs or "no architecture given"
            raise RefusedModelError(f"{where} is a keypoint model of a kind the pose tab cannot run ({kind}); it "
                                    f"runs top-down pose models: {', '.join(POSE_CLASSES)}")
        # a top-down model: the registry's person detector finds the people it reads
        the_task, decoder, options = "pose", "top_down", {"person_label": "person", "detector_min_score": 0.5,
                                                          "max_people": 5}
    elif tag == "image-classification" and task in (None, "gesture"):
        # each hand MediaPipe finds is cropped and classified; the class is the gesture
        the_task, decoder, options = "gesture", "hand_crop_classifier", {}
    else:
        wants = {"segmentation": "image-segmentation", "face": "object-detection with a 'face' label",
                 "hands": "21 hand landmarks, which no Hub detector gives (not supported yet)",
                 "pose": "keypoint-detection (a top-down model such as ViTPose)",
                 "gesture": "image-classification (applied to each hand crop)"}
        need = wants.get(task or "", "a task the playground has")
        raise RefusedModelError(f"{where} is tagged '{tag or 'no task'}'; this tab needs {need}")

    commit = info.sha or revision or "main"
    data = {
        "id": model_id_for(repo_id, revision), "task": the_task, "name": f"{repo_id} (from the Hub)",
        "runtime": RUNTIME_OF.get(decoder, "transformers"),
        "decoder": decoder, "options": options, "license": getattr(info.card_data, "license", None),
        "source": {"repo_id": repo_id, "filename": weights[0], "revision": commit,
                   "extra_files": [f for f in wanted if f != weights[0]]},
    }
    spec = _spec(data)
    if remember:
        with _lock:
            _known[spec.id] = spec
        _remember(data)
    return spec


def spec_for(model_id: str) -> ModelSpec:
    """The entry for an hf: id: known in this process, remembered from an earlier inspection (which lets
    a cached model run offline), or inspected now."""
    repo_id, revision = parse(model_id)
    key = model_id_for(repo_id, revision)
    with _lock:
        if key in _known:
            return _known[key]
    remembered = _recall(key)
    if remembered is not None:
        spec = _spec(remembered)
        with _lock:
            _known[key] = spec
        return spec
    return inspect(key)
