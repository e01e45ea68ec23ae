"""The gesture tab's Teach panel: name classes, collect samples, train a head, use it as A or B."""
from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from tasks import gesture_lab as lab
from tasks.live import user_message

log = logging.getLogger(__name__)


def _names(text: str) -> list[str]:
    return list(dict.fromkeys(n.strip() for n in (text or "").split(",") if n.strip()))


def _gallery(samples: list[tuple[str, np.ndarray]]) -> list[tuple[np.ndarray, str]]:
    return [(img, label) for label, img in samples]


def _counts(samples: list[tuple[str, np.ndarray]], names: list[str]) -> str:
    counts = {n: 0 for n in names}
    for label, _ in samples:
        counts[label] = counts.get(label, 0) + 1
    return " · ".join(f"**{k}**: {v}" for k, v in counts.items()) or "no samples yet"


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


def build_teach_panel(pickers: dict[str, Any], added: gr.State, choices_fn, session: gr.State) -> None:
    """Inside the gesture tab. ``added`` holds this session's extra picker entries; ``session`` is the
    tab's live stream, whose frames the burst capture takes."""
    with gr.Accordion("Teach your own gestures", open=False):
        gr.Markdown("Name 2 to 10 gestures, give each a few samples (a burst from the live webcam above, or "
                    "uploads), then train. "
                    "The **landmark head** reads the bundled hand landmarks and works offline; the **image "
                    "head** (a MobileNetV2 backbone with a trained linear head, the brief's transfer learning) "
                    "reads the hand crop. The trained model joins the A/B pickers and can be downloaded as one "
                    "ONNX file (`python -m zoo run file:FILE`).")
        samples = gr.State([])
        with gr.Row():
            names = gr.Textbox(value="fist, open hand", label="Gesture names (comma separated)",
                               elem_id="teach-names")
            target = gr.Dropdown(["fist", "open hand"], value="fist", label="Add samples to",
                                 elem_id="teach-target")
        with gr.Row():
            with gr.Column():
                burst_n = gr.Slider(1, 30, value=10, step=1, label="Frames per burst")
                burst_btn = gr.Button("Capture a burst from the live webcam", variant="primary",
                                      elem_id="teach-burst")
                gr.Markdown("Start the live webcam above, hold the gesture, press the button: it takes a "
                            "frame every 0.2 s.")
            with gr.Column():
                uploads = gr.File(file_count="multiple", file_types=["image"], label="Or upload images",
                                  elem_id="teach-uploads")
                add_btn = gr.Button("Add the uploads to the gesture", elem_id="teach-add")
        delete_btn = gr.Button("Delete the selected sample", size="sm")
        counts = gr.Markdown("no samples yet", elem_id="teach-counts")
        gallery = gr.Gallery(label="Samples", columns=8, height=180, allow_preview=False)
        selected = gr.State(None)
        with gr.Row():
            head = gr.Radio(["landmark", "image"], value="landmark", label="Head")
            backbone = gr.Textbox(value=lab.DEFAULT_BACKBONE, label="Backbone for the image head (Hub id)")
            train_btn = gr.Button("Train", variant="primary", elem_id="teach-train")
        report = gr.Markdown(elem_id="teach-report")
        with gr.Row():
            plot = gr.Plot(label="Confusion matrix")
            export = gr.File(label="Download the trained model (ONNX)", interactive=False)

        def on_names(text):
            n = _names(text)
            return gr.update(choices=n, value=n[0] if n else None)

        names.change(on_names, [names], [target], api_visibility="private")

        def on_burst(label, n, samples_, text, live):
            if not label:
                raise gr.Error("name the gestures first", print_exception=False)
            if live is None or live.latest_camera_frame() is None:
                raise gr.Error("start the live webcam above first (Record), then capture", print_exception=False)
            samples_ = list(samples_)
            for _ in range(int(n)):
                samples_.append((label, live.latest_camera_frame()))
                yield samples_, _gallery(samples_), _counts(samples_, _names(text))
                time.sleep(0.2)

        burst_btn.click(on_burst, [target, burst_n, samples, names, session], [samples, gallery, counts],
                        api_visibility="private")

        def on_add(label, files, samples_, text):
            if not label:
                raise gr.Error("name the gestures first", print_exception=False)
            new = []
            from zoo.images import ImageError, load_image

            skipped = []
            for f in files or []:
                try:
                    new.append(load_image(getattr(f, "name", f)))
                except ImageError as exc:
                    skipped.append(str(exc))
            if not new:
                raise gr.Error("upload images first" + (f" ({'; '.join(skipped)})" if skipped else ""),
                               print_exception=False)
            if skipped:
                gr.Warning("; ".join(skipped))
            samples_ = samples_ + [(label, img) for img in new]
            return samples_, _gallery(samples_), _counts(samples_, _names(text)), None

        add_btn.click(on_add, [target, uploads, samples, names], [samples, gallery, counts, uploads],
                      api_visibility="private")

        def on_select(evt: gr.SelectData):
            return evt.index

        gallery.select(on_select, None, [selected], api_visibility="private")

        def on_delete(index, samples_, text):
            if index is None or not (0 <= index < len(samples_)):
                raise gr.Error("click a sample in the gallery first", print_exception=False)
            samples_ = samples_[:index] + samples_[index + 1:]
            return samples_, _gallery(samples_), _counts(samples_, _names(text)), None

        delete_btn.click(on_delete, [selected, samples, names], [samples, gallery, counts, selected],
                         api_visibility="private")

        def on_train(samples_, kind, backbone_id, extra, progress=gr.Progress(track_tqdm=True)):
            try:
                model = lab.train([lab.Sample(label, img, name=f"{label} sample {i + 1}")
                                   for i, (label, img) in enumerate(samples_)],
                                  head=kind, backbone=(backbone_id or "").strip() or None,
                                  progress=lambda f, d: progress(f, desc=d))
            except Exception as exc:  # noqa: BLE001
                raise gr.Error(user_message(exc), print_exception=False) from None
            folder = Path(tempfile.mkdtemp(prefix="gesture-lab-"))
            path = folder / f"my-gestures-{kind}.onnx"
            path.write_bytes(lab.to_onnx(model))
            model_id = f"file:{path}"
            label = f"My gestures ({kind} head) [{model_id}]"
            extra = [e for e in extra if not e[1].startswith("file:")] + [(label, model_id)]
            choices = choices_fn() + extra
            acc = ("not measured (too few samples to hold any out)" if model.n_test == 0
                   else f"**{model.accuracy:.0%}** on {model.n_test} held-out samples")
            warn = "".join(f"\n- {p}" for p in model.problems[:8])
            msg = (f"Trained a {kind} head on {model.n_train} samples: held-out accuracy {acc}. "
                   f"It is now in both pickers as *My gestures*; set it as A and the built-in recogniser as B."
                   + (f"\n\nSkipped:{warn}" if warn else ""))
            return (msg, confusion_figure(model) if model.n_test else None, str(path),
                    gr.update(choices=choices, value=model_id), gr.update(choices=choices), extra)

        train_btn.click(on_train, [samples, head, backbone, added],
                        [report, plot, export, pickers["a"], pickers["b"], added], api_visibility="private")
