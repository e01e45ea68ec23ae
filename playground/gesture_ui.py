"""The gesture tab's Teach panel: name classes, collect samples, train a head, use it as A or B."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import partial
from types import SimpleNamespace
from typing import Any, Callable

import cv2
import gradio as gr
import numpy as np

from playground.engine import predict
from playground.limits import WORKSPACE, one_at_a_time
from playground.live import StreamSession
from playground.pair import user_message
from playground.ui import register_panel
from tasks import gesture_lab as lab
from zoo.errors import clip
from zoo.images import ImageError, fit_within, load_image
from zoo.registry import all_specs

log = logging.getLogger(__name__)

MAX_SAMPLES = 200  # per session
SAMPLE_MAX_SIDE = 640  # samples are kept as JPEGs of at most this size (a few tens of kB each)
THUMB_SIDE = 128
MAX_NAME = 40


@dataclass(frozen=True)
class Sample:
    """One teaching sample as the session keeps it: compressed, with a thumbnail for the gallery."""

    label: str
    jpeg: bytes
    thumb: np.ndarray

    @classmethod
    def of(cls, label: str, rgb: np.ndarray) -> "Sample":
        small, _ = fit_within(rgb, SAMPLE_MAX_SIDE)
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        if not ok:
            raise ImageError("could not keep the sample")
        return cls(label, buf.tobytes(), fit_within(small, THUMB_SIDE)[0])

    def image(self) -> np.ndarray:
        return load_image(self.jpeg)


def _names(text: str) -> list[str]:
    names = [clip(n.strip(), MAX_NAME) for n in (text or "")[:2000].split(",") if n.strip()]
    return list(dict.fromkeys(names))[: lab.MAX_CLASSES + 1]


def _gallery(samples: list[Sample]) -> list[tuple[np.ndarray, str]]:
    return [(s.thumb, s.label) for s in samples]


def _counts(samples: list[Sample], names: list[str]) -> str:
    counts = {n: 0 for n in names}
    for s in samples:
        counts[s.label] = counts.get(s.label, 0) + 1
    return " · ".join(f"**{k}**: {v}" for k, v in counts.items()) or "no samples yet"


def _room(samples: list[Sample]) -> int:
    if len(samples) >= MAX_SAMPLES:
        raise gr.Error(f"a session keeps at most {MAX_SAMPLES} samples: delete some first", print_exception=False)
    return MAX_SAMPLES - len(samples)


def backbone_choices(state: StreamSession | None) -> list[tuple[str, str]]:
    """The image head's backbones: the registry's image classifiers and the ones this session added."""
    specs = [s for s in all_specs("gesture") if s.runtime == "hand_crop_classifier"]
    specs += [s for s in (state.offer.own() if state is not None else ()) if s.runtime == "hand_crop_classifier"]
    return [(f"{s.source.repo_id} [{s.id}]", s.id) for s in specs]


def confusion_figure(model: lab.Trained):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3.4))
    ax.imshow(model.confusion, cmap="Blues")
    ax.set_xticks(range(len(model.classes)), model.classes, rotation=30, ha="right")
    ax.set_yticks(range(len(model.classes)), model.classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for (i, j), v in np.ndenumerate(model.confusion):
        ax.text(j, i, str(v), ha="center", va="center")
    ax.set_title("held-out samples")
    fig.tight_layout()
    return fig


def find_hand(rgb: np.ndarray):
    """The largest hand in a sample, found by the hands model where the backend runs models (this process
    or Ray Serve), as every other model call of the app."""
    return lab.largest(predict(lab.HANDS_MODEL, rgb).result.hands)


# ----- the panel's handlers (module level: tests call them without a browser) -----------------------------

def on_names(text):
    n = _names(text)
    return gr.update(choices=n, value=n[0] if n else None)


def on_burst(label, n, samples_, text, live):
    """A frame every 0.2 s from the live webcam, added to the gesture."""
    if not label or label not in _names(text):
        raise gr.Error("name the gestures first", print_exception=False)
    if live is None or live.latest_camera_frame() is None:
        raise gr.Error("start the live webcam above first (Start camera), then capture", print_exception=False)
    samples_ = list(samples_)
    for _ in range(min(int(max(1, min(30, n or 1))), _room(samples_))):
        samples_.append(Sample.of(label, live.latest_camera_frame()))
        yield samples_, _gallery(samples_), _counts(samples_, _names(text))
        time.sleep(0.2)


def on_add(label, files, samples_, text):
    if not label or label not in _names(text):
        raise gr.Error("name the gestures first", print_exception=False)
    new, skipped = [], []
    room = _room(samples_)
    for f in (files or [])[:room]:
        try:
            new.append(Sample.of(label, load_image(getattr(f, "name", f), max_side=SAMPLE_MAX_SIDE)))
        except ImageError as exc:
            skipped.append(user_message(exc))
    if len(files or []) > room:
        skipped.append(f"only {room} more samples fit (at most {MAX_SAMPLES})")
    if not new:
        raise gr.Error("upload images first" + (f" ({'; '.join(skipped)})" if skipped else ""),
                       print_exception=False)
    if skipped:
        gr.Warning("; ".join(skipped))
    samples_ = samples_ + new
    return samples_, _gallery(samples_), _counts(samples_, _names(text)), None


def on_select(evt: gr.SelectData):
    return evt.index


def on_delete(index, samples_, text):
    if not isinstance(index, int) or not (0 <= index < len(samples_)):
        raise gr.Error("click a sample in the gallery first", print_exception=False)
    samples_ = samples_[:index] + samples_[index + 1:]
    return samples_, _gallery(samples_), _counts(samples_, _names(text)), None


def train_head(samples_, kind: str, backbone_id: str, state: StreamSession, progress) -> tuple[lab.Trained, Any, Any]:
    """Train on the samples, one training per session at a time: the model, its file, its offer entry."""
    with one_at_a_time("training", state.token):
        if kind not in ("landmark", "image"):
            raise lab.TeachError("pick the landmark head or the image head")
        source = None
        if kind == "image":  # only a backbone this session was offered
            spec = state.offer.spec(backbone_id)
            if spec.runtime != "hand_crop_classifier":
                raise lab.TeachError(f"{spec.id} is not an image backbone")
            source = spec.source
        model = lab.train([lab.Sample(s.label, s.image(), name=f"{s.label} sample {i + 1}")
                           for i, s in enumerate(samples_)],
                          head=kind, backbone=source.repo_id if source else None,
                          backbone_revision=source.revision if source else None,
                          progress=lambda f, d: progress(f, desc=d), hand_finder=find_hand)
        path = WORKSPACE.new_dir("gesture-heads") / f"my-gestures-{kind}.onnx"
        path.write_bytes(lab.to_onnx(model))
        return model, path, state.offer.add_trained(path, kind)


def on_train(choices_fn, samples_, kind, backbone_id, state: StreamSession, progress=gr.Progress(track_tqdm=True)):
    try:
        model, path, spec = train_head(samples_, kind, backbone_id, state, progress)
    except Exception as exc:  # noqa: BLE001
        raise gr.Error(user_message(exc), print_exception=False) from None
    choices = choices_fn(state)
    acc = ("not measured (too few samples to hold any out)" if model.n_test == 0
           else f"**{model.accuracy:.0%}** on {model.n_test} held-out samples")
    warn = "".join(f"\n- {p}" for p in model.problems[:8])
    msg = (f"Trained a {kind} head on {model.n_train} samples: held-out accuracy {acc}. "
           f"It is now in both pickers as *My gestures*; set it as A and the built-in recogniser as B."
           + (f"\n\nSkipped:{warn}" if warn else ""))
    return (msg, confusion_figure(model) if model.n_test else None, str(path),
            gr.update(choices=choices, value=spec.id), gr.update(choices=choices),
            gr.update(choices=backbone_choices(state)))


# ----- the panel ----------------------------------------------------------------------------------------

TEACH_INTRO = ("Name 2 to 10 gestures, give each a few samples (a burst from the live webcam above, or uploads), "
               "then train. The **landmark head** reads the bundled hand landmarks and works offline; the **image "
               "head** (a MobileNetV2 image model with a small trained layer on top: transfer learning) reads "
               "the hand crop. The trained model joins the A/B pickers and can be downloaded as one ONNX file "
               "(`python -m zoo run file:FILE`).")


def teach_layout() -> SimpleNamespace:
    """The panel's components, laid out."""
    ui = SimpleNamespace()
    gr.Markdown(TEACH_INTRO)
    ui.samples = gr.State([])
    with gr.Row():
        ui.names = gr.Textbox(value="fist, open hand", label="Gesture names (comma separated)", elem_id="teach-names")
        ui.target = gr.Dropdown(["fist", "open hand"], value="fist", label="Add samples to", elem_id="teach-target")
    with gr.Row():
        with gr.Column():
            ui.burst_n = gr.Slider(1, 30, value=10, step=1, label="Frames per burst")
            ui.burst = gr.Button("Capture a burst from the live webcam", variant="primary", elem_id="teach-burst")
            gr.Markdown("Start the live webcam above (Live webcam, Start camera), hold the gesture, press the "
                        "button: it takes a frame every 0.2 s.")
        with gr.Column():
            ui.uploads = gr.File(file_count="multiple", file_types=["image"], label="Or upload images",
                                 elem_id="teach-uploads")
            ui.add = gr.Button("Add the uploads to the gesture", elem_id="teach-add")
    ui.delete = gr.Button("Delete the selected sample", size="sm")
    ui.counts = gr.Markdown("no samples yet", elem_id="teach-counts")
    ui.gallery = gr.Gallery(label="Samples", columns=8, height=180, allow_preview=False)
    ui.selected = gr.State(None)
    with gr.Row():
        ui.head = gr.Radio(["landmark", "image"], value="landmark", label="Head")
        first = backbone_choices(None)
        ui.backbone = gr.Dropdown(first, value=first[0][1] if first else None,
                                  label="Backbone for the image head (the zoo's, or one you added above)")
        ui.train = gr.Button("Train", variant="primary", elem_id="teach-train")
    ui.report = gr.Markdown(elem_id="teach-report")
    with gr.Row():
        ui.plot = gr.Plot(label="Confusion matrix")
        ui.export = gr.File(label="Download the trained model (ONNX)", interactive=False)
    return ui


@register_panel("gesture")
def build_teach_panel(pickers: dict[str, Any], session: gr.State,
                      choices_fn: Callable[[StreamSession], list[tuple[str, str]]]) -> None:
    """Inside the gesture tab. ``session`` is the tab's live stream (whose frames the burst capture takes)
    and holds the models this session may run, which a trained head joins."""
    with gr.Accordion("Teach your own gestures", open=False):
        ui = teach_layout()
    shown = [ui.samples, ui.gallery, ui.counts]
    private = {"api_visibility": "private"}
    ui.names.change(on_names, [ui.names], [ui.target], **private)
    ui.burst.click(on_burst, [ui.target, ui.burst_n, ui.samples, ui.names, session], shown, **private)
    ui.add.click(on_add, [ui.target, ui.uploads, ui.samples, ui.names], [*shown, ui.uploads], **private)
    ui.gallery.select(on_select, None, [ui.selected], **private)
    ui.delete.click(on_delete, [ui.selected, ui.samples, ui.names], [*shown, ui.selected], **private)
    ui.train.click(partial(on_train, choices_fn), [ui.samples, ui.head, ui.backbone, session],
                   [ui.report, ui.plot, ui.export, pickers["a"], pickers["b"], ui.backbone], concurrency_limit=1,
                   **private)
