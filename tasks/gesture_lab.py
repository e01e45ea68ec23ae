"""Gesture lab: teach your own gestures from a few samples, compare them with the built-in recogniser.

Two heads train from the same samples:
- the landmark head reads the bundled MediaPipe hand landmarks, normalised for position, scale and
  handedness; it works offline;
- the image head (the brief's method) reads embeddings of the hand crop from a MobileNetV2 backbone
  (``google/mobilenet_v2_1.0_224``, or any image backbone on the Hub) and trains a linear head on them.

Both export to one ONNX file: the head as a graph, with its class names, head kind and backbone id in the
file's metadata. That file is a zoo model (``file:PATH``) for ``python -m zoo run`` and the app.
"""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from tasks.hands import Gesture, Hand
from tasks.gesture import TRAINED_HEAD, GestureResult
from zoo.errors import ZooError
from zoo.local import FORMAT, TeachError, read_metadata
from zoo.specs import LocalSource, ModelSpec
from zoo.runtimes.base import register_runtime

log = logging.getLogger(__name__)

DEFAULT_BACKBONE = "google/mobilenet_v2_1.0_224"
HANDS_MODEL = "hands/mediapipe-full"
MIN_CLASSES, MAX_CLASSES = 2, 10
CROP_MARGIN = 0.25


# --- features ------------------------------------------------------------------------------------
def landmark_features(keypoints: np.ndarray, handedness: str) -> np.ndarray:
    """21 (x, y, z) landmarks -> 63 numbers: wrist at the origin, palm length 1, left hands mirrored to
    look like right hands, so one class learns from both."""
    pts = np.asarray(keypoints, np.float64).reshape(21, 3).copy()
    pts -= pts[0]
    scale = np.linalg.norm(pts[9, :2]) + 1e-6  # wrist -> middle knuckle
    pts /= scale
    if handedness == "Left":
        pts[:, 0] = -pts[:, 0]
    return pts.reshape(-1).astype(np.float32)


def hand_crop(rgb: np.ndarray, box: Sequence[float], margin: float = CROP_MARGIN) -> np.ndarray:
    """A square crop around a hand box, with a margin, clipped to the frame."""
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0) * (1 + 2 * margin)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    h, w = rgb.shape[:2]
    a0, b0 = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    a1, b1 = int(min(w, cx + side / 2)), int(min(h, cy + side / 2))
    crop = rgb[b0:b1, a0:a1]
    return crop if crop.size else rgb


class Backbone:
    """Image embeddings from a Hub backbone (transformers, safetensors only, no remote code)."""

    def __init__(self, repo_id: str = DEFAULT_BACKBONE, revision: str | None = None):
        import torch

        from zoo import hub
        from zoo.runtimes.transformers_rt import load_pretrained

        from zoo.hub_registry import pinned_revision

        revision = revision or pinned_revision(repo_id)
        files = ["config.json", "preprocessor_config.json", "model.safetensors"]
        paths = [hub.download(repo_id, f, revision) for f in files]
        self.repo_id, self.revision = repo_id, revision
        self.processor, self.model = load_pretrained(paths[0].parent, "base")
        self._torch = torch
        self._lock = threading.Lock()

    def embed(self, images: Sequence[np.ndarray]) -> np.ndarray:
        inputs = self.processor(images=list(images), return_tensors="pt")
        with self._lock, self._torch.inference_mode():
            out = self.model(**inputs)
        pooled = getattr(out, "pooler_output", None)
        if pooled is None:
            hidden = out.last_hidden_state
            pooled = hidden.mean(dim=tuple(range(2, hidden.ndim))) if hidden.ndim == 4 else hidden.mean(dim=1)
        return pooled.reshape(len(images), -1).float().numpy()


# --- samples -------------------------------------------------------------------------------------
@dataclass
class Sample:
    label: str
    image: np.ndarray  # RGB uint8, the whole frame
    hand: Hand | None = None  # the hand it shows (largest), when one was found
    name: str = ""


def find_hands(rgb: np.ndarray, model_id: str = HANDS_MODEL) -> tuple[Hand, ...]:
    """The hands a registry model finds (the first stage of the composite gesture models)."""
    from tasks.base import infer
    from zoo.registry import get_spec

    result, _ = infer(get_spec(model_id), rgb)
    return result.hands


def largest(hands: Sequence[Hand]) -> Hand | None:
    return max(hands, key=lambda h: (h.box[2] - h.box[0]) * (h.box[3] - h.box[1])) if hands else None


def find_hand(rgb: np.ndarray) -> Hand | None:
    """The largest hand in the frame, found in this process (the command line's way)."""
    return largest(find_hands(rgb))


def load_folder(root: str | Path) -> tuple[list[Sample], list[str]]:
    """A folder of class subfolders of images -> samples, and the problems met (one line each)."""
    from zoo.images import ImageError, load_image

    root = Path(root)
    if not root.is_dir():
        raise TeachError(f"{root}: not a folder")
    classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    samples, problems = [], []
    for folder in classes:
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            problems.append(f"class '{folder.name}' is empty")
        for f in files:
            try:
                samples.append(Sample(folder.name, load_image(f), name=f"{folder.name}/{f.name}"))
            except ImageError as exc:
                problems.append(f"skipped {folder.name}/{f.name}: {exc}")
    return samples, problems


def check_classes(labels: Sequence[str], counts: dict[str, int]) -> None:
    empty = [c for c, n in counts.items() if n == 0]
    if empty:
        raise TeachError(f"class '{empty[0]}' has no usable samples")
    names = list(dict.fromkeys(labels))
    if len(names) < MIN_CLASSES:
        raise TeachError(f"need at least {MIN_CLASSES} classes with samples, got {len(names)}"
                         + (f" ({names[0]})" if names else ""))
    if len(names) > MAX_CLASSES:
        raise TeachError(f"at most {MAX_CLASSES} classes, got {len(names)}")


# --- training ------------------------------------------------------------------------------------
@dataclass
class Trained:
    kind: str  # "landmark" | "image"
    classes: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray | None
    b2: np.ndarray | None
    backbone: str | None = None
    backbone_revision: str | None = None
    accuracy: float = float("nan")  # held out
    confusion: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), int))
    n_train: int = 0
    n_test: int = 0
    problems: list[str] = field(default_factory=list)

    def logits(self, x: np.ndarray) -> np.ndarray:
        z = (np.asarray(x, np.float32) - self.mean) / self.std
        h = z @ self.w1 + self.b1
        if self.w2 is not None:
            h = np.maximum(h, 0) @ self.w2 + self.b2
        return h

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        lg = self.logits(np.atleast_2d(x))
        e = np.exp(lg - lg.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


def holdout_split(labels: Sequence[str], test_fraction: float = 0.25, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Stratified: each class keeps at least one sample for training and, if it has two, one for testing."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    train, test = [], []
    for c in dict.fromkeys(labels.tolist()):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_test = min(len(idx) - 1, max(1 if len(idx) >= 2 else 0, int(round(len(idx) * test_fraction))))
        test += idx[:n_test].tolist()
        train += idx[n_test:].tolist()
    return np.array(train, int), np.array(test, int)


def fit_head(x: np.ndarray, y: np.ndarray, n_classes: int, hidden: int | None, epochs: int = 300,
             seed: int = 0, progress: Callable[[float, str], None] | None = None):
    """A softmax classifier (with one hidden layer when ``hidden``), full-batch Adam, weight decay."""
    import torch

    torch.manual_seed(seed)
    xt = torch.tensor(x, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.long)
    layers = [torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, n_classes)] \
        if hidden else [torch.nn.Linear(x.shape[1], n_classes)]
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(net.parameters(), lr=0.01, weight_decay=1e-3)
    for epoch in range(epochs):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(xt), yt)
        loss.backward()
        opt.step()
        if progress is not None and epoch % 30 == 0:
            progress(0.5 + 0.5 * epoch / epochs, f"training: loss {loss.item():.3f}")
    ws = [m for m in net if isinstance(m, torch.nn.Linear)]
    w1, b1 = ws[0].weight.detach().numpy().T.copy(), ws[0].bias.detach().numpy().copy()
    if hidden:
        return w1, b1, ws[1].weight.detach().numpy().T.copy(), ws[1].bias.detach().numpy().copy()
    return w1, b1, None, None


def train(samples: Sequence[Sample], head: str = "landmark", backbone: str | None = None,
          progress: Callable[[float, str], None] | None = None, problems: Sequence[str] = (),
          backbone_revision: str | None = None,
          hand_finder: Callable[[np.ndarray], Hand | None] = find_hand) -> Trained:
    """Train a head from labelled samples; hold out a quarter of each class to measure it. ``hand_finder``
    finds each sample's hand: in this process by default (the command line); the app passes one that runs
    the hands model where its backend runs models (this process, or Ray Serve)."""
    if head not in ("landmark", "image"):
        raise TeachError(f"unknown head '{head}': landmark or image")
    problems = list(problems)
    check_classes([s.label for s in samples], {})
    feats, labels = [], []
    embedder = None
    if head == "image":
        try:
            embedder = Backbone(backbone or DEFAULT_BACKBONE, backbone_revision)
        except ZooError as exc:
            raise TeachError(f"the image head needs its backbone, which is not available: {exc}. "
                             "The landmark head works offline.") from exc
    crops = []
    for i, s in enumerate(samples):
        if progress is not None:
            progress(0.5 * i / max(1, len(samples)), f"finding hands: sample {i + 1} of {len(samples)}")
        hand = s.hand or hand_finder(s.image)
        if hand is None:
            if head == "landmark":
                problems.append(f"no hand found in {s.name or 'a ' + s.label + ' sample'}: skipped")
                continue
            crops.append(s.image)
        else:
            s.hand = hand
            if head == "landmark":
                feats.append(landmark_features(np.array(hand.keypoints), hand.handedness))
            else:
                crops.append(hand_crop(s.image, hand.box))
        labels.append(s.label)
    if head == "image" and crops:
        feats = list(embedder.embed(crops))
    classes = tuple(dict.fromkeys(s.label for s in samples))
    counts = {c: labels.count(c) for c in classes}
    check_classes(labels, counts)
    x = np.stack(feats).astype(np.float32)
    y = np.array([classes.index(l) for l in labels])
    tr, te = holdout_split(labels)
    mean, std = x[tr].mean(axis=0), x[tr].std(axis=0) + 1e-3
    w1, b1, w2, b2 = fit_head((x[tr] - mean) / std, y[tr], len(classes), 32 if head == "landmark" else None,
                              progress=progress)
    model = Trained(head, classes, mean.astype(np.float32), std.astype(np.float32), w1, b1, w2, b2,
                    backbone=(embedder.repo_id if embedder else None),
                    backbone_revision=(embedder.revision if embedder else None), n_train=len(tr), n_test=len(te),
                    problems=problems)
    if len(te):
        pred = model.predict_proba(x[te]).argmax(axis=1)
        model.accuracy = float((pred == y[te]).mean())
        conf = np.zeros((len(classes), len(classes)), int)
        for t, p in zip(y[te], pred):
            conf[t, p] += 1
        model.confusion = conf
    if progress is not None:
        progress(1.0, "trained")
    return model


# --- export / import -----------------------------------------------------------------------------
def to_onnx(model: Trained) -> bytes:
    """The head as an ONNX graph (normalise, Gemm[, Relu, Gemm], Softmax) with its metadata."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    init = [numpy_helper.from_array(model.mean, "mean"), numpy_helper.from_array(model.std, "std"),
            numpy_helper.from_array(model.w1.astype(np.float32), "w1"),
            numpy_helper.from_array(model.b1.astype(np.float32), "b1")]
    nodes = [helper.make_node("Sub", ["features", "mean"], ["centred"]),
             helper.make_node("Div", ["centred", "std"], ["z"]),
             helper.make_node("Gemm", ["z", "w1", "b1"], ["h1"])]
    last = "h1"
    if model.w2 is not None:
        init += [numpy_helper.from_array(model.w2.astype(np.float32), "w2"),
                 numpy_helper.from_array(model.b2.astype(np.float32), "b2")]
        nodes += [helper.make_node("Relu", ["h1"], ["r1"]), helper.make_node("Gemm", ["r1", "w2", "b2"], ["h2"])]
        last = "h2"
    nodes.append(helper.make_node("Softmax", [last], ["probabilities"], axis=1))
    dim = int(model.mean.shape[0])
    graph = helper.make_graph(
        nodes, "gesture_head",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["n", dim])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["n", len(model.classes)])], init)
    onx = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="vision-playground")
    onx.ir_version = 8
    meta = {"format": FORMAT, "head": model.kind, "classes": json.dumps(list(model.classes)),
            "backbone": model.backbone or "", "backbone_revision": model.backbone_revision or "",
            "hands_model": HANDS_MODEL,
            "held_out_accuracy": f"{model.accuracy:.4f}"}
    for k, v in meta.items():
        onx.metadata_props.add(key=k, value=v)
    onnx.checker.check_model(onx)
    return onx.SerializeToString()


def label_hands(hands: Sequence[Hand], probs: np.ndarray, classes: Sequence[str]) -> GestureResult:
    """Each hand with its most probable class (one row of ``probs`` per hand) as its gesture."""
    return GestureResult(tuple(
        replace(h, gesture=Gesture(str(classes[int(np.argmax(p))]), float(min(1.0, np.max(p)))))
        for h, p in zip(hands, probs)), tuple(str(c) for c in classes))


class GestureHeadRunner:
    """A trained head as a zoo model: MediaPipe hands, then the head on each hand (through its backbone
    for an image head). Its output is already a GestureResult."""

    def __init__(self, path: Path):
        import onnxruntime as ort

        self.meta = read_metadata(path)
        self.classes = tuple(self.meta["classes"])
        self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self.backbone = (Backbone(self.meta["backbone"], self.meta.get("backbone_revision") or None)
                         if self.meta["head"] == "image" else None)

    def features(self, rgb: np.ndarray, hands: Sequence[Hand]) -> np.ndarray:
        if self.meta["head"] == "landmark":
            return np.stack([landmark_features(np.array(h.keypoints), h.handedness) for h in hands])
        return self.backbone.embed([hand_crop(rgb, h.box) for h in hands])

    def __call__(self, rgb: np.ndarray) -> GestureResult:
        hands = find_hands(rgb, self.meta.get("hands_model", HANDS_MODEL))
        if not hands:
            return GestureResult((), self.classes)
        probs = self.session.run(["probabilities"], {"features": self.features(rgb, hands).astype(np.float32)})[0]
        return label_hands(hands, probs, self.classes)


def spec_for_file(model_id: str, *, path: str | Path | None = None) -> ModelSpec:
    """``file:PATH`` of an exported head -> its zoo entry (the command line). The app gives a head the
    session trained an id of its own (``mine:...``) and its ``path``, which never reaches the visitor."""
    path = Path(path if path is not None else model_id[len("file:"):]).expanduser()
    if not path.is_file():
        raise TeachError(f"{path}: no such file")
    meta = read_metadata(path)
    return ModelSpec(
        id=model_id, task="gesture", name=f"My gestures: {', '.join(meta['classes'])} ({meta['head']} head)",
        runtime="gesture_head", pipeline=TRAINED_HEAD, source=LocalSource(str(path.resolve())), input_size=None,
        labels=tuple(meta["classes"]), license="yours", reference="https://arxiv.org/abs/1801.04381",
        note=f"Trained in the gesture lab ({meta['head']} head"
             + (f" on {meta['backbone']}" if meta.get("backbone") else "") + ").")


@register_runtime("gesture_head")  # a trained head: MediaPipe hands, then the head on each hand
def load_runner(spec, path: Path | None) -> GestureHeadRunner:
    if path is None:
        raise TeachError(f"{spec.id}: file not found")
    return GestureHeadRunner(path)


class HandCropClassifier:
    """A Hub image classifier as a gesture model: MediaPipe hands, then the classifier on each hand crop
    (top class and its probability). Loaded with safetensors only, never remote code."""

    def __init__(self, folder: Path):
        import torch

        from zoo.runtimes.transformers_rt import load_pretrained

        self.processor, self.model = load_pretrained(folder, "image_classification")
        self.labels = [str(self.model.config.id2label[i]) for i in sorted(self.model.config.id2label)]
        self._torch = torch
        self._lock = threading.Lock()

    def __call__(self, rgb: np.ndarray) -> GestureResult:
        hands = find_hands(rgb)
        if not hands:
            return GestureResult((), tuple(self.labels))
        inputs = self.processor(images=[hand_crop(rgb, h.box) for h in hands], return_tensors="pt")
        with self._lock, self._torch.inference_mode():
            probs = self._torch.softmax(self.model(**inputs).logits.float(), dim=-1).numpy()
        return label_hands(hands, probs, self.labels)


@register_runtime("hand_crop_classifier", requires=("torch", "transformers"))  # a Hub classifier on each hand crop
def load_crop_classifier(spec, path: Path | None) -> HandCropClassifier:
    if path is None:
        raise TeachError(f"{spec.id}: model files not found")
    return HandCropClassifier(path if path.is_dir() else path.parent)
