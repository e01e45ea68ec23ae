"""The tab every task shares: A/B pickers with their controls, live webcam, image, video, readouts.

Written once; each task module only supplies its TaskDef.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Callable

import gradio as gr
import numpy as np
import pandas as pd

from tasks import TASKS
from tasks.base import TaskDef
from tasks.draw import stamp
from playground.components import ImageInput, Inline, OutputImage, OutputSlider
from playground.limits import one_at_a_time
from playground.live import SideOutput, StreamSession, predict_pair, user_message
from playground.video import MAX_VIDEO_SECONDS, video_steps
from zoo import hub, stats
from zoo.hub_registry import UNAVAILABLE
from zoo.errors import ZooError
from zoo.registry import all_specs, get_spec, offline_available
from zoo.registry import row as registry_row
from zoo.images import fit_within, sample_image_path

log = logging.getLogger(__name__)

STREAM_EVERY = 0.02  # seconds between webcam captures; a capture waits while the previous frame is in flight
# While streaming, the latency and rate ride on the pictures themselves (tasks.draw.stamp); the text readouts
# and the agreement refresh on a timer (seconds), the JSON less often, and the timer stops with the stream.
READOUT_EVERY = 1.0
# Give to launch(css=...): the live webcam preview shown like a mirror (see build_task_tab).
MIRRORED_PREVIEW_CSS = ".mirrored-preview video { transform: scaleX(-1); }"
JSON_EVERY = 3.0
STREAM_IDLE_S = 5.0
# Streamed pictures are sent at most this wide: each sits in a third of the page, and every extra pixel is
# decoded by the browser 10-15 times a second (640x480 -> 480x360 was worth about a frame per second here).
LIVE_MAX_SIDE = 480
# While a video is processed, the page hears from it at least this often (seconds): each message is also
# Gradio's chance to stop the work when the visitor has left.
VIDEO_PULSE_S = 1.0
# Panels that only one task has, registered by the module that builds them (the gesture tab's Teach panel):
# task name -> build(pickers, session state, choices function).
EXTRA_PANELS: dict[str, Callable[..., None]] = {}


def register_panel(task: str) -> Callable:
    """Decorator: a function that adds a panel to one task's tab."""

    def deco(build: Callable[..., None]) -> Callable[..., None]:
        EXTRA_PANELS[task] = build
        return build

    return deco


def model_choices(task: str, session: StreamSession | None = None) -> list[tuple[str, str]]:
    """The picker's entries: the registry's models for the task, then the ones this session added or trained."""
    out = []
    for spec in all_specs(task):
        where = "offline" if offline_available(spec) else ("Hub, not cached" if not spec.bundled else "not installed")
        out.append((f"{spec.name} [{spec.id}] ({where})", spec.id))
    for spec in session.offer.own() if session is not None else ():
        out.append((f"{spec.name} [{spec.id}] (yours)", spec.id))
    return out


def default_pair(task: str) -> tuple[str, str]:
    offline = [s.id for s in all_specs(task) if offline_available(s)]
    picks = [m for m in TASKS[task].default_pair if m in offline]
    picks += [m for m in offline if m not in picks]
    picks += [s.id for s in all_specs(task) if s.id not in picks]
    return picks[0], picks[1] if len(picks) > 1 else picks[0]


def example_images() -> list[str]:
    """Real photos that installed packages ship; found at run time, never copied into the repo."""
    candidates = [sample_image_path(), Path(gr.__file__).parent / "media_assets" / "images" / "bus.png"]
    return [str(p) for p in candidates if p.is_file()]


def readout(side: str, model_id: str, out: SideOutput | None, rate: float | None = None,
            loading: bool = False, note: str = "") -> str:
    head = f"**{side}** · `{model_id}`"
    if loading:
        return f"{head} · loading the model (first use)…" + (f" {note}" if note else "")
    if out is None:
        return f"{head} · waiting for a frame"
    if out.error:
        return f"{head} · ⚠️ {out.error}"
    parts = [f"{out.prediction.latency_ms:.1f} ms model latency"]
    if rate is not None:
        parts.append(f"{rate:.1f} fps processed")
    return f"{head} · " + " · ".join(parts)


def live_readouts(state: StreamSession) -> tuple[str, str, str]:
    """The A and B readouts and the agreement line for a live stream, from its session."""
    out = []
    for key in ("a", "b"):
        side, model_id = state.sides[key], state.models.get(key, "")
        last = side.last
        if last is not None and (side.model_id != model_id or (last.prediction and last.prediction.model != model_id)):
            last = None  # the picker has just changed: the new model's first frame is on its way
        loading = state.loading.get(key, False)
        text = readout(key.upper(), model_id, last, side.meter.rate(), loading,
                       state.load_note.get(key, "") if loading else "")
        if state.error:
            text += f" · ⚠️ {state.error}"
        out.append(text)
    return out[0], out[1], agreement_text(state.agreement)


def agreement_text(agreement: dict[str, Any] | None) -> str:
    if not agreement:
        return "**Agreement of A and B:** —"
    if agreement.get("score") is None:  # nothing to compare
        return f"**Agreement of A and B:** — {agreement['summary']}"
    return f"**Agreement of A and B: {agreement['score']:.0%}** — {agreement['summary']}"


def compact(pred_json: dict[str, Any]) -> dict[str, Any]:
    """A streamed result without dense meshes (hundreds of points a face): the page has frames to draw."""
    result = pred_json.get("result", {})
    for items in result.values():
        if isinstance(items, list):
            for item in items:
                if isinstance(item, dict) and "landmarks" in item:
                    item["landmarks"] = f"{len(item['landmarks'])} points (in the image API's result)"
    return pred_json


def _controls(values: list[Any], task: TaskDef) -> dict[str, Any]:
    return {c.name: v for c, v in zip(task.controls, values)}


def _spec_or_none(model_id: str, state: StreamSession | None = None):
    try:
        return state.offer.spec(model_id) if state is not None else get_spec(model_id)
    except ZooError:
        return None


def control_default(control, model_id: str, state: StreamSession | None = None) -> float:
    """A control's starting value for a model: the score threshold its reference code uses."""
    spec = _spec_or_none(model_id, state) if control.name == "min_score" else None
    return spec.thresholds.score if spec is not None else control.value


def reference_text(model_id: str, state: StreamSession | None = None) -> str:
    spec = _spec_or_none(model_id, state)
    if spec is None:
        return ""
    t = spec.thresholds
    nms = f", NMS overlap {t.nms:g}" if t.nms is not None else ""
    return f"Reference defaults: score {t.score:g}{nms} ({t.source})."


def controls_by_side(task: TaskDef, values: tuple[Any, ...]) -> dict[str, dict[str, Any]]:
    n = len(task.controls)
    return {"a": _controls(list(values[:n]), task), "b": _controls(list(values[n:2 * n]), task)}


def build_task_tab(task_name: str) -> None:
    """Build one task's tab inside the current Blocks."""
    task = TASKS[task_name]
    choices = model_choices(task_name)
    a0, b0 = default_pair(task_name)
    with gr.Tab(task.title, id=task_name):
        gr.Markdown(task.description)
        pickers, sliders, refs = {}, {}, {}
        with gr.Row():
            for side, default in (("a", a0), ("b", b0)):
                with gr.Column():
                    pickers[side] = gr.Dropdown(choices, value=default, label=f"Model {side.upper()}", allow_custom_value=True,
                                                elem_id=f"{task_name}-model-{side}")
                    with gr.Accordion(f"Model {side.upper()} settings", open=False):
                        sliders[side] = [gr.Slider(c.minimum, c.maximum, value=control_default(c, default),
                                                   step=c.step, label=c.label) for c in task.controls]
                        refs[side] = gr.Markdown(reference_text(default), elem_id=f"{task_name}-reference-{side}")
        # Three columns: the input as you see it, A, B. Keeping each picture about a third of the page wide
        # also keeps the browser's per-frame drawing small, which matters on a small machine.
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=280):
                with gr.Tabs():
                    with gr.Tab("Live webcam"):
                        # The browser sends the camera's frames as they are (mirror=False: Gradio would
                        # otherwise draw every frame twice to flip it) and only its preview is mirrored, by
                        # CSS (MIRRORED_PREVIEW_CSS); the outputs are drawn mirrored on the server.
                        cam = ImageInput(sources=["webcam"], streaming=True, type="filepath", label="Webcam (mirrored)",
                                       webcam_options=gr.WebcamOptions(
                                           mirror=False, constraints={"video": {"width": {"ideal": 640},
                                                                               "height": {"ideal": 480}}}),
                                       elem_classes=["mirrored-preview"], elem_id=f"{task_name}-cam")
                    with gr.Tab("Image"):
                        # the app decodes the file itself, behind its checks (playground.components)
                        still = ImageInput(sources=["upload", "webcam", "clipboard"], type="filepath", label="Image",
                                           elem_id=f"{task_name}-image")
                        run_btn = gr.Button("Run A and B", variant="primary")
                        examples = example_images()
                        if examples:
                            gr.Examples(examples=[[p] for p in examples], inputs=[still], label="Examples")
                    with gr.Tab("Video file"):
                        video_in = gr.Video(sources=["upload"],
                                            label=f"Video (the first {MAX_VIDEO_SECONDS} s are used)")
                        video_btn = gr.Button("Process video", variant="primary")
            with gr.Column(scale=1, min_width=280):
                # no label badge: it would cover the latency and rate written on the live picture
                out_a = OutputImage(label="A", show_label=False, format="jpeg", interactive=False, streaming=True,
                                    type="filepath", elem_id=f"{task_name}-out-a")
                rd_a = gr.Markdown(readout("A", a0, None), elem_id=f"{task_name}-readout-a")
            with gr.Column(scale=1, min_width=280):
                out_b = OutputImage(label="B", show_label=False, format="jpeg", interactive=False, streaming=True,
                                    type="filepath", elem_id=f"{task_name}-out-b")
                rd_b = gr.Markdown(readout("B", b0, None), elem_id=f"{task_name}-readout-b")
        agree = gr.Markdown(agreement_text(None), elem_id=f"{task_name}-agreement")
        with gr.Accordion("A over B (still image)", open=False):
            slider = OutputSlider(label="A | B", type="filepath", interactive=False)
        with gr.Accordion("Video result", open=False):
            video_out = gr.Video(label="A | B, side by side", interactive=False, format=None)
            plot = gr.LinePlot(x="frame", y="latency_ms", color="model", label="Model latency per frame (ms)")
        results = gr.JSON(label="Results (A, B, agreement)", elem_id=f"{task_name}-results")
        with gr.Accordion("Add a model from the Hub", open=False):
            gr.Markdown(f"A Hugging Face model id (owner/name) whose card fits this tab "
                        f"({task.hub_hint}). Safetensors weights only, no custom code, "
                        f"at most {hub.max_download_bytes() // 2**20} MiB. It joins both pickers for this session.")
            with gr.Row():
                repo_box = gr.Textbox(label="Hub model id", placeholder="owner/name", elem_id=f"{task_name}-byo-id")
                rev_box = gr.Textbox(label="Revision (optional)", placeholder="main, a tag or a commit hash")
                add_btn = gr.Button("Add", variant="secondary")
            add_status = gr.Markdown(elem_id=f"{task_name}-byo-status")
        defaults = {k: {c.name: control_default(c, m) for c in task.controls} for k, m in (("a", a0), ("b", b0))}
        # Each browser session (and each API client) gets its own copy (StreamSession.__deepcopy__): its
        # trackers, rates, models, and the models it may run (its offer).
        session = gr.State(StreamSession(task_name, {"a": a0, "b": b0}, defaults), delete_callback=StreamSession.close)
        ticker = gr.Timer(READOUT_EVERY, active=False)

        ctl_inputs = sliders["a"] + sliders["b"]

        # A streamed frame carries only the picture: the models and controls live in the session (set by
        # the pickers' and sliders' own events), and the readouts, agreement and JSON are refreshed by a
        # timer. Every extra input or output of the stream costs the browser work on each frame; on this
        # small machine the page's main thread is what limits the frame rate.
        def on_frame(frame, state: StreamSession):
            if frame is None:
                return gr.skip(), gr.skip(), gr.skip()
            try:
                up = state.submit(frame)
            except Exception as exc:  # noqa: BLE001 - shown by the readouts
                state.error = user_message(exc)
                return gr.skip(), gr.skip(), gr.skip()
            start_ticker = gr.skip()
            if not state.ticking:
                state.ticking = True
                start_ticker = gr.Timer(active=True)
            return _stamped(up.a, up.rate_a), _stamped(up.b, up.rate_b), start_ticker

        cam.stream(on_frame, inputs=[cam, session], outputs=[out_a, out_b, ticker], stream_every=STREAM_EVERY,
                   concurrency_limit=8, show_progress="hidden", api_visibility="private")

        def on_tick(state: StreamSession):
            now = time.monotonic()
            texts = live_readouts(state)
            payload = gr.skip()
            if now - state.json_at >= JSON_EVERY:
                state.json_at = now
                sa, sb = state.sides["a"].last, state.sides["b"].last
                payload = {"a": compact(sa.prediction.to_json()) if sa and sa.prediction else None,
                           "b": compact(sb.prediction.to_json()) if sb and sb.prediction else None,
                           "agreement": state.agreement or {}}
            stop = gr.skip()
            if now - state.frame_at > STREAM_IDLE_S:  # the stream has stopped: so does the timer
                state.ticking = False
                stop = gr.Timer(active=False)
            return (*texts, payload, stop)

        ticker.tick(on_tick, inputs=[session], outputs=[rd_a, rd_b, agree, results, ticker],
                    show_progress="hidden", concurrency_limit=None, api_visibility="private")

        def on_controls(state: StreamSession, *values):
            state.set_controls(controls_by_side(task, values))

        for sl in ctl_inputs:
            sl.change(on_controls, inputs=[session, *ctl_inputs], outputs=None, show_progress="hidden",
                      concurrency_limit=None, api_visibility="private")

        def on_image(image, model_a, model_b, state: StreamSession, *values, progress=gr.Progress(track_tqdm=True)):
            try:  # a model's first use loads it here, its download shown by the progress bar
                a, b, payload = predict_pair(task_name, image, model_a, model_b, controls_by_side(task, values),
                                             progress=lambda f, d: progress(f, desc=d), offer=state.offer)
            except Exception as exc:  # noqa: BLE001
                raise gr.Error(user_message(exc), print_exception=False) from None
            if a.error and b.error:
                raise gr.Error(f"A: {a.error} · B: {b.error}", print_exception=False)
            return a.annotated, b.annotated, payload

        def after_image(img_a, img_b, payload, model_a, model_b):
            if not payload:
                return gr.skip(), gr.skip(), gr.skip(), gr.skip()
            def side(key, mid):
                p = payload.get(key) or {}
                if "error" in p:
                    return f"**{key.upper()}** · `{mid}` · ⚠️ {p['error']}"
                return f"**{key.upper()}** · `{mid}` · {p.get('latency_ms', 0):.1f} ms model latency"
            pair = (img_a, img_b) if img_a is not None and img_b is not None else None
            return pair, side("a", model_a), side("b", model_b), agreement_text(payload.get("agreement"))

        run_btn.click(on_image, inputs=[still, pickers["a"], pickers["b"], session, *ctl_inputs],
                      outputs=[out_a, out_b, results], api_name=task_name, concurrency_limit=4
                      ).then(after_image, inputs=[out_a, out_b, results, pickers["a"], pickers["b"]],
                             outputs=[slider, rd_a, rd_b, agree], api_visibility="private")

        def on_video(path, model_a, model_b, state: StreamSession, *values, progress=gr.Progress(track_tqdm=True)):
            """A generator: each step is Gradio's chance to stop the work when the visitor has left."""
            if not path:
                raise gr.Error("no video: upload one first", print_exception=False)
            try:
                with one_at_a_time("video", state.token):
                    steps = video_steps(task_name, path, {"a": model_a, "b": model_b}, controls_by_side(task, values),
                                        offer=state.offer)
                    last = time.monotonic()
                    try:
                        while True:
                            fraction, text = next(steps)
                            progress(fraction, desc=text)
                            if time.monotonic() - last >= VIDEO_PULSE_S:
                                last = time.monotonic()
                                yield gr.skip(), gr.skip(), gr.skip()
                    except StopIteration as done:
                        rep = done.value
                    finally:
                        steps.close()
            except Exception as exc:  # noqa: BLE001
                raise gr.Error(user_message(exc), print_exception=False) from None
            rows = [{"frame": i, "latency_ms": v, "model": f"{key.upper()}: {mid}"}
                    for key, mid in (("a", model_a), ("b", model_b)) for i, v in enumerate(rep.latency[key])]
            if rep.errors:
                gr.Warning(" · ".join(rep.errors))
            summary = {"frames": rep.frames, "fps": rep.fps, "note": rep.note,
                       "a": {"model": model_a, "p50_ms": _p50(rep.latency["a"])},
                       "b": {"model": model_b, "p50_ms": _p50(rep.latency["b"])}}
            yield rep.path, pd.DataFrame(rows), summary

        video_btn.click(on_video, inputs=[video_in, pickers["a"], pickers["b"], session, *ctl_inputs],
                        outputs=[video_out, plot, results], concurrency_limit=2, api_name=f"{task_name}_video")

        def on_add(repo_id, revision, state: StreamSession):
            try:
                spec = state.offer.add_hub(repo_id, revision)
            except Exception as exc:  # noqa: BLE001
                return gr.skip(), gr.skip(), f"⚠️ {user_message(exc)}"
            choices = model_choices(task_name, state)
            msg = (f"✅ Added `{spec.id}` (revision `{spec.source.revision[:12]}`) for this session. Pick it as A "
                   "or B; it is downloaded on first use.")
            return gr.update(choices=choices), gr.update(choices=choices), msg

        add_btn.click(on_add, inputs=[repo_box, rev_box, session], outputs=[pickers["a"], pickers["b"], add_status],
                      api_name=f"{task_name}_add", concurrency_limit=2)

        panel = EXTRA_PANELS.get(task_name)
        if panel is not None:
            panel(pickers, session, lambda st: model_choices(task_name, st))

        def on_pick(model_id, state: StreamSession, side: str):
            """A new model: its readout, and its settings at the model's reference defaults."""
            state.set_model(side.lower(), model_id)
            values = [gr.update(value=control_default(c, model_id, state)) if c.name == "min_score" else gr.skip()
                      for c in task.controls]
            return readout(side, model_id, None), reference_text(model_id, state), *values

        for side, rd in (("A", rd_a), ("B", rd_b)):
            key = side.lower()
            pickers[key].change(lambda m, st, s=side: on_pick(m, st, s), inputs=[pickers[key], session],
                                outputs=[rd, refs[key], *sliders[key]], api_visibility="private",
                                show_progress="hidden", concurrency_limit=None)


def _stamped(out: SideOutput | None, rate: float):
    """A fresh annotated frame with its latency and live rate written on it; gr.skip() when none."""
    if out is None or out.annotated is None:
        return gr.skip()
    shown, _ = fit_within(out.annotated, LIVE_MAX_SIDE)
    return Inline(stamp(shown, f"{out.prediction.latency_ms:.1f} ms  {rate:.1f} fps"))


def _p50(values: list[float]) -> float | None:
    arr = np.array([v for v in values if np.isfinite(v)])
    return round(float(np.median(arr)), 2) if arr.size else None


def zoo_table() -> pd.DataFrame:
    rows = []
    for spec in all_specs():
        row = registry_row(spec)
        rows.append({
            "task": row["task"], "model": row["id"], "name": row["name"], "runtime": row["runtime"],
            "source": row["source"], "licence": row["license"], "reference": row["reference"],
            "offline now": "yes" if row["offline"] else "no",
            "latency here (ms)": stats.latency_text(spec.id),
            "note": row["note"],
        })
    return pd.DataFrame(rows)


def build_zoo_tab() -> None:
    with gr.Tab("Zoo", id="zoo"):
        gr.Markdown("Every model the playground knows. *Offline now*: runs without the network on this "
                    "machine. *Latency here*: median model latency measured on this machine (this app's runs, "
                    "or `python -m zoo bench`).")
        table = gr.Dataframe(zoo_table(), interactive=False, wrap=True, elem_id="zoo-table")
        gr.Button("Refresh").click(zoo_table, outputs=[table], api_visibility="private")
        gr.Markdown("**Named by the brief, not in the zoo:**\n" + "\n".join(
            f"- {name} ({task}): {why}." for task, name, why in UNAVAILABLE))
