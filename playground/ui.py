"""The tab every task shares: A/B pickers with their controls, live webcam, image, video, bring your own.

Written once; each task module only supplies its TaskDef. :func:`build_task_tab` lays the tab out and
calls one wiring function per input (live, image, video, bring-your-own); the handlers are module-level
functions of (task name, inputs...) that tests call without a browser.
"""
from __future__ import annotations

import json
import logging
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Callable

import gradio as gr
import numpy as np
import pandas as pd

from tasks import TASKS
from tasks.base import TaskDef
from playground import backends, device
from playground.components import ImageInput, OutputImage, OutputSlider
from playground.limits import WORKSPACE, one_at_a_time
from playground.live import StreamSession
from playground.pair import predict_pair, user_message
from playground.live_socket import VIEW_SCRIPTS, open_live, script_url
from playground.video import MAX_VIDEO_SECONDS, video_steps
from zoo import hub, stats
from zoo.hub_registry import UNAVAILABLE
from zoo.errors import ZooError
from zoo.registry import all_specs, get_spec, offline_available
from zoo.runtimes import runtime
from zoo.registry import row as registry_row
from zoo.images import save_image

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"  # the live view's browser code
# While a video is processed, the page hears from it at least this often (seconds): each message is also
# Gradio's chance to stop the work when the visitor has left.
VIDEO_PULSE_S = 1.0
STILL_AT_ONCE = 4  # still images run at once, all tabs together (see build_image)
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
    """The picker's entries, in plain words: the models that run now first, then the ones this session added
    or trained, then those that first need a download (or a package this server lacks), each saying so."""
    ready, later = [], []
    for spec in all_specs(task):
        if offline_available(spec):
            ready.append((spec.name, spec.id))
        elif spec.bundled or not runtime(spec.runtime).installed():
            later.append((f"{spec.name} · not installed on this server", spec.id))
        else:
            later.append((f"{spec.name} · {download_note(spec)}", spec.id))
    own = [(f"{spec.name} · yours, this session only", spec.id)
           for spec in (session.offer.own() if session is not None else ())]
    return ready + own + later


def download_note(spec) -> str:
    """What a Hub model needs before it runs, with its size once the Hub has told it (zoo.hub.learn_sizes)."""
    sizes = [hub.download_size(s) for s in spec.hub_sources()]
    if sizes and all(n is not None for n in sizes):
        total = sum(sizes)
        size = f"{total / 1e6:.1f} MB" if total >= 1e6 else f"{max(1, round(total / 1e3))} kB"
        return f"downloads {size} first from the Hugging Face Hub (needs the network)"
    return "downloads first from the Hugging Face Hub (needs the network)"


def learn_download_sizes() -> threading.Thread | None:
    """At the app's start, in the background: the Hub models' download sizes, asked once where the Hub is
    reachable (a picker shows them from the next page load on; ``PLAYGROUND_ASK_HUB_SIZES=0`` turns it off)."""
    from zoo import settings

    if not settings.get("PLAYGROUND_ASK_HUB_SIZES"):
        return None
    sources = [s for spec in all_specs() for s in spec.hub_sources()]
    thread = threading.Thread(target=hub.learn_sizes, args=(sources,), name="hub-sizes", daemon=True)
    thread.start()
    return thread


def default_pair(task: str) -> tuple[str, str]:
    offline = [s.id for s in all_specs(task) if offline_available(s)]
    picks = [m for m in TASKS[task].default_pair if m in offline]
    picks += [m for m in offline if m not in picks]
    picks += [s.id for s in all_specs(task) if s.id not in picks]
    return picks[0], picks[1] if len(picks) > 1 else picks[0]


@lru_cache(maxsize=None)
def example_files(task_name: str) -> tuple[tuple[str, str], ...]:
    """A task's example images as files (made once per process from what installed packages carry, never
    copied into the repository) with their labels."""
    folder = Path(tempfile.mkdtemp(prefix=f"playground-examples-{task_name}-"))
    out = []
    for i, example in enumerate(TASKS[task_name].examples):
        path = folder / f"example-{i + 1}.png"
        save_image(path, example.make())
        out.append((str(path), example.label))
    return tuple(out)


def found_text(result: Any) -> str:
    """What one side found, in words: "found 3 faces", "found no hands", "person: 59% of the picture"."""
    if not isinstance(result, dict):
        return ""
    for key, one in (("faces", "face"), ("hands", "hand"), ("people", "person")):
        if key in result:
            n = len(result[key])
            return f"found {'no' if n == 0 else n} {one if n == 1 else key}"
    coverage = result.get("coverage")
    if isinstance(coverage, dict):
        shown = sorted(((v, k) for k, v in coverage.items() if k != "background" and v > 0), reverse=True)[:2]
        return " · ".join(f"{k}: {v:.0%} of the picture" for v, k in shown) or "found nothing to outline"
    return ""


def readout(side: str, model_id: str, payload: dict[str, Any] | None = None) -> str:
    """A still image's readout for one side, from its part of the API's answer: what it found and how long
    its model took ("**A** · found 3 faces · 41 ms")."""
    spec = _spec_or_none(model_id)
    head = f"**{side}** · {spec.name if spec is not None else model_id}"
    if not payload:
        return head
    if "error" in payload:
        return f"{head} · ⚠️ {payload['error']}"
    note = backends.note()  # e.g. the model cluster is unreachable and this machine runs the models
    found = found_text(payload.get("result"))
    return (f"{head} · " + (f"{found} · " if found else "") + f"{payload.get('latency_ms', 0):.0f} ms"
            + (f" · ⚠️ {note}" if note else ""))


def agreement_text(agreement: dict[str, Any] | None) -> str:
    if not agreement:
        return "**Agreement of A and B:** —"
    if agreement.get("score") is None:  # nothing to compare
        return f"**Agreement of A and B:** — {agreement['summary']}"
    return f"**Agreement of A and B: {agreement['score']:.0%}** — {agreement['summary']}"


def _spec_or_none(model_id: str, state: StreamSession | None = None):
    try:
        return state.offer.spec(model_id) if state is not None else get_spec(model_id)
    except ZooError:
        return None


def control_default(control, model_id: str, state: StreamSession | None = None) -> float:
    """A control's starting value for a model: the score threshold its reference code uses."""
    spec = _spec_or_none(model_id, state) if control.name == "min_score" else None
    return spec.thresholds.score if spec is not None else control.value


def control_minimum(control, model_id: str, state: StreamSession | None = None) -> float:
    """A control's lowest value for a model: for the score, the floor its decode produces results from, so
    that the whole slider has an effect (``Thresholds.floor``)."""
    spec = _spec_or_none(model_id, state) if control.name == "min_score" else None
    return max(control.minimum, spec.thresholds.floor) if spec is not None else control.minimum


def reference_text(model_id: str, state: StreamSession | None = None) -> str:
    spec = _spec_or_none(model_id, state)
    if spec is None:
        return ""
    t = spec.thresholds
    nms = f"; two finds that overlap more than {t.nms:.0%} count as one" if t.nms is not None else ""
    floor = f" The slider starts at {t.floor:g}, the lowest score this model reports." if t.floor > 0 else ""
    about = f"*{spec.note}*\n\n" if spec.note else ""  # the model in one plain line, where its entry has one
    return f"{about}This model's own defaults: score threshold {t.score:g}{nms} ({t.source}).{floor}"


def controls_by_side(task: TaskDef, values: tuple[Any, ...]) -> dict[str, dict[str, Any]]:
    n = len(task.controls)
    values = list(values)
    return {"a": dict(zip((c.name for c in task.controls), values[:n])),
            "b": dict(zip((c.name for c in task.controls), values[n:2 * n]))}


# ----- handlers (module level: tests call them without a browser) -------------------------------------------

def on_pick(task_name: str, side: str, model_id: str, state: StreamSession):
    """A new model on one side: the live stream runs it from the next frame; its readout, and its settings
    at the model's reference defaults (or at what a shared link asked for)."""
    state.set_model(side, model_id)
    linked = state.linked_controls.pop(side, None)
    values = []
    for c in TASKS[task_name].controls:
        low = control_minimum(c, model_id, state)
        value = linked[c.name] if linked and c.name in linked else control_default(c, model_id, state)
        values.append(gr.update(value=max(low, value), minimum=low) if c.name == "min_score" else
                      gr.update(value=value) if linked and c.name in linked else gr.skip())
    return readout(side.upper(), model_id), reference_text(model_id, state), *values


# ----- links that reopen a view: ?tab=face&a=MODEL&b=MODEL&a.min_score=0.4 ... ------------------------------

def share_query(task_name: str, model_a: str, model_b: str, *values) -> str:
    """The query string of a link that reopens this tab with these models and settings."""
    from urllib.parse import urlencode

    controls = controls_by_side(TASKS[task_name], values)
    params = {"tab": task_name, "a": model_a, "b": model_b}
    for side in ("a", "b"):
        params.update({f"{side}.{k}": f"{float(v):g}" for k, v in controls[side].items() if v is not None})
    return urlencode(params)


def parse_link(params: Any) -> dict[str, Any] | None:
    """A link's query, checked: a known tab, registry models of that task that run here, settings clipped to
    their sliders' ranges. Anything else in it is ignored (a link is a visitor's input like any other)."""
    task_name = str(params.get("tab", ""))[:40]
    if task_name not in TASKS:
        return None
    task = TASKS[task_name]
    runnable = {s.id for s in all_specs(task_name) if offline_available(s)}
    out: dict[str, Any] = {"task": task_name, "models": {}, "controls": {"a": {}, "b": {}}}
    for side, fallback in zip(("a", "b"), default_pair(task_name)):
        model = str(params.get(side, ""))[:200]
        if model in runnable:
            out["models"][side] = model
        for c in task.controls:
            raw = params.get(f"{side}.{c.name}")
            try:
                v = float(str(raw)[:40])
            except (TypeError, ValueError):
                continue
            if np.isfinite(v):  # within the slider, whose score starts at the model's floor
                low = control_minimum(c, out["models"].get(side, fallback))
                out["controls"][side][c.name] = float(min(c.maximum, max(low, v)))
    return out


@dataclass
class TabParts:
    """What a task tab's link needs: its pickers, sliders and session."""

    task: str
    pickers: dict
    sliders: dict
    session: gr.State


def wire_links(demo: gr.Blocks, tabs: gr.Tabs, parts: list[TabParts]) -> None:
    """On page load, a link's query (``?tab=...``) opens its tab with its models and settings, and every
    picker's list is brought up to date (a model the server has cached since start, a download size learned)."""
    outputs: list[Any] = [tabs]
    for p in parts:
        outputs += [p.pickers["a"], p.pickers["b"], *p.sliders["a"], *p.sliders["b"], p.session]

    def open_link(request: gr.Request, *sessions):
        link = parse_link(dict(getattr(request, "query_params", {}) or {}))
        updates: list[Any] = [gr.update(selected=link["task"]) if link else gr.skip()]
        for p, state in zip(parts, sessions):
            n = len(p.sliders["a"]) * 2 + 3
            choices = model_choices(p.task, state)  # as of now: a model cached since, a size learned since
            if not link or link["task"] != p.task:
                updates += [gr.update(choices=choices)] * 2 + [gr.skip()] * (n - 2)
                continue
            state.linked_controls = {side: dict(link["controls"][side]) for side in ("a", "b")}
            updates += [gr.update(choices=choices, value=link["models"][side]) if side in link["models"]
                        else gr.update(choices=choices) for side in ("a", "b")]
            for side, fallback in zip(("a", "b"), default_pair(p.task)):
                model = link["models"].get(side, fallback)
                updates += [gr.update(value=link["controls"][side][c.name], minimum=control_minimum(c, model))
                            if c.name in link["controls"][side] else gr.skip() for c in TASKS[p.task].controls]
            updates.append(state)
        return updates

    demo.load(open_link, inputs=[p.session for p in parts], outputs=outputs, api_visibility="private",
              show_progress="hidden")


def on_controls(task_name: str, state: StreamSession, *values) -> None:
    """Sliders moved: the live stream uses them from the next frame."""
    state.set_controls(controls_by_side(TASKS[task_name], values))


def on_start_live(state: StreamSession, request: gr.Request = None) -> str:
    """Start pressed: the ticket the page's live view opens its socket with (playground.live_socket)."""
    try:
        return open_live(state, address=client_address(request))
    except ZooError as exc:
        raise gr.Error(user_message(exc), print_exception=False) from None


def on_image(task_name: str, image, model_a: str, model_b: str, state: StreamSession, *values,
             progress=gr.Progress(track_tqdm=True)):
    """Both models on a still image: the two pictures and the API's JSON (also the /TASK endpoint)."""
    try:  # a model's first use loads it here, its download shown by the progress bar
        a, b, payload = predict_pair(task_name, image, model_a, model_b, controls_by_side(TASKS[task_name], values),
                                     progress=lambda f, d: progress(f, desc=d), offer=state.offer)
    except Exception as exc:  # noqa: BLE001
        raise gr.Error(user_message(exc), print_exception=False) from None
    if a.error and b.error:
        raise gr.Error(f"A: {a.error} · B: {b.error}", print_exception=False)
    return a.annotated, b.annotated, payload


def on_image_again(task_name: str, image, model_a: str, model_b: str, state: StreamSession, *values,
                   progress=gr.Progress(track_tqdm=True)):
    """A model or a setting changed: the image shown runs again with it (nothing when there is none)."""
    if not image:
        return gr.skip(), gr.skip(), gr.skip()
    return on_image(task_name, image, model_a, model_b, state, *values, progress=progress)


# a run that succeeded closes the error toasts of earlier runs (they would otherwise stay for ten seconds)
CLOSE_ERRORS = "() => { document.querySelectorAll('.toast-body.error .toast-close').forEach((b) => b.click()); }"


def after_image(task_name: str, img_a, img_b, payload, model_a: str, model_b: str):
    """The slider, the readouts and the results as a file to download, from what :func:`on_image` answered."""
    if not payload:
        return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
    pair = (img_a, img_b) if img_a is not None and img_b is not None else None
    path = WORKSPACE.new_dir("results") / f"{task_name}-a-b.json"
    path.write_text(json.dumps(payload, indent=1))
    return (pair, readout("A", model_a, payload.get("a")), readout("B", model_b, payload.get("b")),
            agreement_text(payload.get("agreement")), str(path))


def on_video(task_name: str, path, model_a: str, model_b: str, state: StreamSession, *values,
             progress=gr.Progress(track_tqdm=True)):
    """A generator: each step is Gradio's chance to stop the work when the visitor has left."""
    if not path:
        raise gr.Error("no video: upload one first", print_exception=False)
    try:
        with one_at_a_time("video", state.token):
            steps = video_steps(task_name, path, {"a": model_a, "b": model_b},
                                controls_by_side(TASKS[task_name], values), offer=state.offer)
            last = time.monotonic()
            try:
                while True:
                    fraction, text = next(steps)
                    progress(fraction, desc=text)
                    if time.monotonic() - last >= VIDEO_PULSE_S:
                        last = time.monotonic()
                        yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
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
    csv_path = WORKSPACE.new_dir("results") / f"{task_name}-a-b-per-frame.csv"
    pd.DataFrame(rep.csv_rows({"a": model_a, "b": model_b})).to_csv(csv_path, index=False)
    yield rep.path, pd.DataFrame(rows), summary, str(csv_path)


def client_address(request: gr.Request | None) -> str:
    """The visitor's address (after the trusted-proxy rewrite: playground.guard)."""
    return getattr(getattr(request, "client", None), "host", None) or "unknown"


def add_handler(task_name: str):
    """:func:`on_add` for one tab, as a function whose parameters Gradio reads (a functools.partial hides its
    gr.Request parameter from Gradio, which then passes none)."""
    def add(repo_id: str, revision: str, state: StreamSession, request: gr.Request):
        return on_add(task_name, repo_id, revision, state, client_address(request))

    return add


def on_add(task_name: str, repo_id: str, revision: str, state: StreamSession, address: str | None = None):
    """Bring your own: a Hub model joins both pickers for this session (also the /TASK_add endpoint), counted
    against the visitor's ``address``."""
    try:
        spec = state.offer.add_hub(repo_id, revision, address=address)
    except Exception as exc:  # noqa: BLE001
        return gr.skip(), gr.skip(), f"⚠️ {user_message(exc)}"
    choices = model_choices(task_name, state)
    msg = (f"✅ Added `{spec.id}` (revision `{spec.source.revision[:12]}`) for this session. Pick it as A "
           "or B; it is downloaded on first use.")
    return gr.update(choices=choices), gr.update(choices=choices), msg


# ----- layout and wiring ---------------------------------------------------------------------------------

def live_view_js(task_name: str) -> str:
    """The live view's code for a gr.HTML's js_on_load: load its scripts once per page, in order (served by
    playground.live_socket, versioned by its content), then build this tab's view. The scripts are not
    inlined: every new Gradio session copies the page's configuration, and five copies of them were most of it."""
    options = {"task": task_name, "workerUrl": script_url("live_worker.js"), **device.options(),
               # a panel of this tab reads the camera on the server (the gesture lab's burst capture)
               "feedServer": task_name in EXTRA_PANELS}
    return f"""
const base = (window.gradio_config && window.gradio_config.root) || window.location.href;
const at = (rel) => new URL(rel, base.endsWith("/") ? base : base + "/").href;
const load = (src) => new Promise((ok, fail) => {{
  const s = document.createElement("script");
  s.src = at(src);
  s.onload = ok;
  s.onerror = () => fail(new Error("the live view's script did not load"));
  document.head.append(s);
}});
window.__playgroundScript = window.__playgroundScript ||
  {json.dumps([script_url(n) for n in VIEW_SCRIPTS])}.reduce((p, src) => p.then(() => load(src)), Promise.resolve());
const options = {json.dumps(options)};
options.workerUrl = at(options.workerUrl);
if (options.device) {{
  for (const k of ["workerUrl", "wasmDir", "ortDir", "specUrl"]) options.device[k] = at(options.device[k]);
  options.device.base = at("");
}}
window.__playgroundScript.then(() => createLiveView(element, options), (err) => {{
  element.textContent = "The live view could not load: reload the page.";
  console.error(err);
}});
"""


# the words the settings must use, said plainly once
GLOSSARY = ("*Score threshold*: how sure a model must be before it shows something (lower finds more, and "
            "makes more mistakes). *Max results*: the most it shows at once.")


def build_pickers(task: TaskDef, a0: str, b0: str):
    pickers, sliders, refs = {}, {}, {}
    choices = model_choices(task.name)
    with gr.Row():
        for side, default in (("a", a0), ("b", b0)):
            with gr.Column():
                pickers[side] = gr.Dropdown(choices, value=default, label=f"Model {side.upper()}",
                                            allow_custom_value=True, elem_id=f"{task.name}-model-{side}")
                with gr.Accordion(f"Model {side.upper()} settings", open=False,
                                  elem_id=f"{task.name}-settings-{side}"):
                    sliders[side] = [gr.Slider(control_minimum(c, default), c.maximum, value=control_default(c, default),
                                               step=c.step, label=c.label) for c in task.controls]
                    refs[side] = gr.Markdown(reference_text(default), elem_id=f"{task.name}-reference-{side}")
                    gr.Markdown(GLOSSARY)
    return pickers, sliders, refs


def build_live(task: TaskDef, session: gr.State) -> None:
    """The live webcam: the browser's own view (playground/static), its socket opened with a ticket that
    the Start event gives this session."""
    with gr.Row():
        start = gr.Button("Start camera", variant="primary", elem_id=f"{task.name}-live-start")
        stop = gr.Button("Stop", elem_id=f"{task.name}-live-stop")
    gr.HTML(js_on_load=live_view_js(task.name), css_template=(STATIC / "live.css").read_text(),
            elem_id=f"{task.name}-live", padding=False)
    ticket = gr.Textbox(visible=False)
    view = f"window.__playgroundLive[{json.dumps(task.name)}].view"
    start.click(on_start_live, inputs=[session], outputs=[ticket], api_visibility="private",
                show_progress="hidden", concurrency_limit=None
                ).success(None, inputs=[ticket], js=f"(ticket) => {{ {view}.start(ticket); }}")
    stop.click(None, js=f"() => {{ {view}.stop(); }}")


def build_image(task: TaskDef, pickers, session: gr.State, ctl_inputs, results: gr.JSON, download: gr.File, a0: str,
                b0: str):
    name = task.name
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            # the app decodes the file itself, behind its checks (playground.components)
            still = ImageInput(sources=["upload", "webcam", "clipboard"], type="filepath", label="Image",
                               elem_id=f"{name}-image")
            run_btn = gr.Button("Run A and B", variant="primary")
            examples = example_files(name)
            if examples:
                gr.Examples(examples=[[p] for p, _ in examples], inputs=[still], label="Examples (click one)",
                            example_labels=[c for _, c in examples])
                gr.Markdown("\n".join(f"- **{e.label}**: {e.caption}." for e in task.examples),
                            elem_id=f"{name}-examples-captions")
            elif task.no_examples:
                gr.Markdown(task.no_examples, elem_id=f"{name}-no-examples")
        # A and B stay side by side in a phone-sized window: they wrap below the input together, not apart
        with gr.Column(scale=2, min_width=300):
            with gr.Row(equal_height=False):
                with gr.Column(scale=1, min_width=140):
                    out_a = OutputImage(label="A", format="jpeg", interactive=False, type="filepath",
                                        elem_id=f"{name}-out-a")
                    rd_a = gr.Markdown(readout("A", a0), elem_id=f"{name}-readout-a")
                with gr.Column(scale=1, min_width=140):
                    out_b = OutputImage(label="B", format="jpeg", interactive=False, type="filepath",
                                        elem_id=f"{name}-out-b")
                    rd_b = gr.Markdown(readout("B", b0), elem_id=f"{name}-readout-b")
    agree = gr.Markdown(agreement_text(None), elem_id=f"{name}-agreement")
    with gr.Accordion("A over B", open=False):
        slider = OutputSlider(label="A | B", type="filepath", interactive=False)
    inputs = [still, pickers["a"], pickers["b"], session, *ctl_inputs]
    show = {"fn": partial(after_image, name), "inputs": [out_a, out_b, results, pickers["a"], pickers["b"]],
            "outputs": [slider, rd_a, rd_b, agree, download], "api_visibility": "private"}
    # Still images of every tab share four places at once (STILL_AT_ONCE): on two cores more only added threads
    # contending with the live view (a crowd plus 8 API clients took it to 71% of its speed without the
    # crowd, 82% with one count for all tabs; bench.soak)
    run = run_btn.click(partial(on_image, name), inputs=inputs, outputs=[out_a, out_b, results], api_name=name,
                        concurrency_limit=STILL_AT_ONCE, concurrency_id="still-image")
    run.success(None, js=CLOSE_ERRORS).then(**show)
    # a new model or setting reruns the image shown (a slider when let go, not at every step of a drag)
    for trigger in (pickers["a"].change, pickers["b"].change, *(s.release for s in ctl_inputs)):
        again = trigger(partial(on_image_again, name), inputs=inputs, outputs=[out_a, out_b, results],
                        api_visibility="private", concurrency_limit=STILL_AT_ONCE, concurrency_id="still-image",
                        show_progress="minimal")
        again.success(None, js=CLOSE_ERRORS).then(**show)
    return {"a": rd_a, "b": rd_b}


def build_video(task: TaskDef, pickers, session: gr.State, ctl_inputs, results: gr.JSON, download: gr.File) -> None:
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            video_in = gr.Video(sources=["upload"], label=f"Video (the first {MAX_VIDEO_SECONDS} s are used)")
            video_btn = gr.Button("Process video", variant="primary")
        with gr.Column(scale=2):
            video_out = gr.Video(label="A | B, side by side", interactive=False, format=None)
            plot = gr.LinePlot(x="frame", y="latency_ms", color="model", label="Model latency per frame (ms)")
    video_btn.click(partial(on_video, task.name), inputs=[video_in, pickers["a"], pickers["b"], session, *ctl_inputs],
                    outputs=[video_out, plot, results, download], concurrency_limit=2, api_name=f"{task.name}_video")


def build_add(task: TaskDef, pickers, session: gr.State) -> None:
    with gr.Accordion("Add a model from the Hub", open=False):
        gr.Markdown(f"A Hugging Face model id (owner/name) whose card fits this tab "
                    f"({task.hub_hint}). Safetensors weights only, no custom code, "
                    f"at most {hub.max_download_bytes() // 2**20} MiB. It joins both pickers for this session.")
        with gr.Row():
            repo_box = gr.Textbox(label="Hub model id", placeholder="owner/name", elem_id=f"{task.name}-byo-id")
            rev_box = gr.Textbox(label="Revision (optional)", placeholder="main, a tag or a commit hash")
            add_btn = gr.Button("Add", variant="secondary")
        add_status = gr.Markdown(elem_id=f"{task.name}-byo-status")
    add_btn.click(add_handler(task.name), inputs=[repo_box, rev_box, session],
                  outputs=[pickers["a"], pickers["b"], add_status], api_name=f"{task.name}_add", concurrency_limit=2)


def wire_pickers(task: TaskDef, pickers, sliders, refs, readouts, session: gr.State) -> None:
    ctl_inputs = sliders["a"] + sliders["b"]
    for sl in ctl_inputs:
        sl.change(partial(on_controls, task.name), inputs=[session, *ctl_inputs], outputs=None,
                  show_progress="hidden", concurrency_limit=None, api_visibility="private")
    for side in ("a", "b"):
        pickers[side].change(partial(on_pick, task.name, side), inputs=[pickers[side], session],
                             outputs=[readouts[side], refs[side], *sliders[side]], api_visibility="private",
                             show_progress="hidden", concurrency_limit=None)


def build_link(task: TaskDef, pickers, ctl_inputs) -> None:
    """A link that reopens this tab with its models and settings, to copy and share."""
    with gr.Row():
        make = gr.Button("Link to this view", size="sm", scale=0, min_width=160, elem_id=f"{task.name}-link-make")
        box = gr.Textbox(show_label=False, placeholder="press the button: a link to this tab, its models and "
                         "settings", interactive=False, buttons=["copy"], elem_id=f"{task.name}-link", scale=1)
    query = gr.Textbox(visible=False)
    make.click(partial(share_query, task.name), inputs=[pickers["a"], pickers["b"], *ctl_inputs], outputs=[query],
               api_visibility="private", show_progress="hidden", concurrency_limit=None
               ).success(None, inputs=[query], outputs=[box],
                         js="(q) => { const u = new URL(window.location.href); u.search = q; u.hash = ''; return u.href; }")


def build_task_tab(task_name: str) -> TabParts:
    """Build one task's tab inside the current Blocks."""
    task = TASKS[task_name]
    a0, b0 = default_pair(task_name)
    with gr.Tab(task.title, id=task_name):
        gr.Markdown(task.description)
        pickers, sliders, refs = build_pickers(task, a0, b0)
        defaults = {k: {c.name: control_default(c, m) for c in task.controls} for k, m in (("a", a0), ("b", b0))}
        # Each browser session (and each API client) gets its own copy (StreamSession.__deepcopy__): its
        # trackers, rates, models, and the models it may run (its offer).
        session = gr.State(StreamSession(task_name, {"a": a0, "b": b0}, defaults), delete_callback=StreamSession.close)
        ctl_inputs = sliders["a"] + sliders["b"]
        with gr.Tabs():
            with gr.Tab("Live webcam"):
                build_live(task, session)
            with gr.Tab("Image"):
                results = gr.JSON(label="Results (A, B, agreement)", elem_id=f"{task_name}-results", render=False)
                download = gr.File(label="Download the results (JSON for an image, CSV per frame for a video)",
                                   interactive=False, render=False, elem_id=f"{task_name}-download")
                readouts = build_image(task, pickers, session, ctl_inputs, results, download, a0, b0)
            with gr.Tab("Video file"):
                build_video(task, pickers, session, ctl_inputs, results, download)
        with gr.Accordion("Results (A, B, agreement): to read or download", open=False):
            download.render()
            results.render()
        build_add(task, pickers, session)
        panel = EXTRA_PANELS.get(task_name)
        if panel is not None:
            panel(pickers, session, lambda st: model_choices(task_name, st))
        build_link(task, pickers, ctl_inputs)
        wire_pickers(task, pickers, sliders, refs, readouts, session)
    return TabParts(task_name, pickers, sliders, session)


def _p50(values: list[float]) -> float | None:
    arr = np.array([v for v in values if np.isfinite(v)])
    return round(float(np.median(arr)), 2) if arr.size else None


def zoo_table() -> pd.DataFrame:
    rows = []
    for spec in all_specs():
        row = registry_row(spec)
        rows.append({
            "task": row["task"], "model": row["name"], "id": row["id"],
            "runs now": "yes" if row["offline"] else "after a download",
            "speed here (ms)": stats.latency_text(spec.id),
            "licence": row["license"], "about": row["note"], "paper or page": row["reference"],
        })
    return pd.DataFrame(rows)


def build_zoo_tab() -> None:
    with gr.Tab("Zoo", id="zoo"):
        gr.Markdown("Every model the playground knows. *Runs now*: ready on this server without a download. "
                    "*Speed here*: the model's median time per picture on this server, from the runs people made "
                    "here.")
        table = gr.Dataframe(zoo_table(), interactive=False, wrap=True, elem_id="zoo-table")
        gr.Button("Refresh").click(zoo_table, outputs=[table], api_visibility="private")
        gr.Markdown("**Asked for, not in the zoo (yet):**\n" + "\n".join(
            f"- {name} ({task}): {why}." for task, name, why in UNAVAILABLE))
