"""The vision playground: one tab per task, two models side by side, and the zoo.

    python app.py [--host 0.0.0.0] [--port 7860] [--share]
"""
from __future__ import annotations

import argparse
import logging

import gradio as gr

from playground import gesture_ui  # noqa: F401 - registers the gesture tab's Teach panel
from playground import backends, device, device_fetch, guard, limits
from playground.live_socket import LiveSocket
from playground.ui import build_task_tab, build_zoo_tab, learn_download_sizes, wire_links
from tasks import TASKS
from zoo import settings

TITLE = "Vision playground: two models, side by side"
INTRO = (
    "Pick a task, point your webcam or drop an image, and watch two models run on the same frames: "
    "their speed, their results and how much they agree. In the live view the models run in your browser when "
    "they can, else on the playground's server (each side says where); the built-in ones need no network."
)

# Gradio's own files (uploads, outputs) older than an hour are deleted every ten minutes.
with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(600, 3600)) as demo:
    gr.Markdown(f"# {TITLE}\n{INTRO}")
    with gr.Tabs() as tabs:
        parts = [build_task_tab(name) for name in TASKS]
        build_zoo_tab()
    wire_links(demo, tabs, parts)  # a shared link (?tab=...&a=...&b=...) reopens its view


def launch(**kwargs):
    """Queue and launch the playground (the server, the tests and the benchmark all start it here), with
    its limits (a bounded queue, an upload size cap, the app's own temporary files swept), the visitor
    policy of ``playground.guard`` on every route and connection, and the live view's socket, served in
    front of Gradio on the same port."""
    changed = settings.check()  # every setting read once: a value it cannot take stops the start with a sentence
    if changed:
        logging.getLogger(__name__).info("settings other than their defaults: %s", ", ".join(changed))
    limits.limit_malloc_arenas()
    limits.responsive_event_loop()
    limits.WORKSPACE.start_sweeping()
    learn_download_sizes()  # the pickers' download sizes, asked of the Hub once (in the background)
    device_fetch.start()  # a host without the in-page runtime (a Space: no npm) fetches it once, in the background
    backends.current()  # ZOO_BACKEND=ray: join (or start) the model cluster now; a sentence if it cannot
    kwargs.setdefault("max_file_size", f"{limits.max_upload_mb()}mb")
    kwargs.setdefault("state_session_capacity", guard.max_sessions())
    # The event functions (models, videos) get a thread pool of their own: with Gradio's default (40 threads,
    # the pool everything else uses too) a full load of them leaves uploads and file reads waiting for a thread
    kwargs.setdefault("max_threads", settings.get("PLAYGROUND_EVENT_THREADS"))
    from starlette.middleware import Middleware

    guard.install()  # header timeout, connections per address, trusted proxies (see playground/guard.py)
    # outermost first: COOP/COEP (when asked for) on every response, the live routes' and the worker's too
    kwargs.setdefault("app_kwargs", {"middleware": [Middleware(device.CrossOriginIsolation),
                                                    Middleware(guard.Guard, blocks=demo), Middleware(LiveSocket)]})
    return demo.queue(default_concurrency_limit=4, max_size=limits.queue_max_size()).launch(**kwargs)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=TITLE)
    p.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1; 0.0.0.0 for all)")
    p.add_argument("--port", type=int, default=None, help="port (default 7860, or GRADIO_SERVER_PORT)")
    p.add_argument("--share", action="store_true", help="also open a public gradio.live link")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    launch(server_name=args.host, server_port=args.port, share=args.share)


if __name__ == "__main__":
    main()
