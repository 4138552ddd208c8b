"""The study's web app (FastAPI) and a way to run it in a background thread (tests, screenshots).

Routes: /  participant id;  /trial  the participant's open trial (a reload shows the same one);
/image/<trial id>  its PNG;  POST /answer  one answer per trial id, then 303 back to /trial;
/results  and  /results.csv.  Everything from the client is validated; images come only from the
two pools, looked up by the trial id's server-side row.
"""
from __future__ import annotations

import contextlib
import re
import threading
import time
from urllib.parse import parse_qs, urlencode

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.middleware.trustedhost import TrustedHostMiddleware

from pipeline.study import LABELS, results, stats, store
from pipeline.study.config import StudyConfig
from pipeline.study.draw import draw
from pipeline.study.images import render_png
from pipeline.study.pages import SCRIPT, render_page

PARTICIPANT_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
MAX_RESPONSE_MS = 3_600_000
HEADERS = {"Content-Security-Policy": "default-src 'none'; img-src 'self'; script-src 'self'; "
           "style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


class BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def error_page(status: int, message: str) -> HTMLResponse:
    return HTMLResponse(render_page("error", status=status, message=message), status_code=status)


def parse_answer(body: bytes) -> tuple[str, str, int | None]:
    """(trial_id, answer, response_ms) from the urlencoded form, or BadRequest(400)."""
    try:
        form = parse_qs(body.decode("ascii"), keep_blank_values=True, max_num_fields=4)
    except (UnicodeDecodeError, ValueError):
        raise BadRequest(400, "the answer form is not a valid urlencoded body") from None
    field = {k: v[0] for k, v in form.items() if len(v) == 1}
    trial_id, answer, ms = field.get("trial_id", ""), field.get("answer", ""), field.get("response_ms", "")
    if not store.TRIAL_ID_RE.match(trial_id):
        raise BadRequest(400, "malformed trial id: expected the 22-character id the server issued")
    if answer not in LABELS:
        raise BadRequest(400, f"answer must be one of {', '.join(LABELS)}")
    if ms and not (ms.isdigit() and int(ms) <= MAX_RESPONSE_MS):
        raise BadRequest(400, f"response_ms must be an integer between 0 and {MAX_RESPONSE_MS}")
    return trial_id, answer, int(ms) if ms else None


def create_app(cfg: StudyConfig, allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))  # DNS rebinding
    keys = {label: pool.keys for label, pool in cfg.pools.items()}

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.update(HEADERS)
        return response

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, exc: BadRequest):
        return error_page(exc.status, str(exc))

    @app.get("/", response_class=HTMLResponse)
    def start():
        return render_page("start", n_trials=cfg.n_trials, domain=cfg.domain)

    @app.get("/trial", response_class=HTMLResponse)
    def trial(participant: str = ""):
        if not PARTICIPANT_RE.match(participant):
            raise BadRequest(400, "participant id must be 1-40 letters, digits, _ or -")
        choose = lambda seq, shown: draw(keys, shown, cfg.seed, participant, seq)  # noqa: E731
        current = store.current_trial(cfg.db, participant, cfg.n_trials, choose)
        answered = store.progress(cfg.db, participant)
        if current is None:
            return render_page("done", participant=participant, answered=answered, n_trials=cfg.n_trials)
        return render_page("trial", participant=participant, trial_id=current.trial_id,
                           answered=answered, n_trials=cfg.n_trials)

    @app.get("/image/{trial_id}")
    def image(trial_id: str):
        if not store.TRIAL_ID_RE.match(trial_id):
            raise BadRequest(400, "malformed trial id")
        try:
            t = store.get_trial(cfg.db, trial_id)
        except store.UnknownTrial as e:
            raise BadRequest(404, str(e)) from None
        return Response(render_png(cfg.domain, cfg.pools[t.truth].sample(t.key), cfg.display_px),
                        media_type="image/png")

    @app.post("/answer")
    async def answer(request: Request):
        if request.headers.get("content-type", "").split(";")[0] != "application/x-www-form-urlencoded":
            raise BadRequest(415, "send the answer as an urlencoded form")
        body = await request.body()
        if len(body) > 1024:
            raise BadRequest(413, "answer form too large")
        trial_id, choice, ms = parse_answer(body)
        try:
            t = await run_in_threadpool(store.record_answer, cfg.db, trial_id, choice, ms)
        except store.UnknownTrial as e:
            raise BadRequest(404, str(e)) from None
        except store.AnsweredTrial as e:
            raise BadRequest(409, str(e)) from None
        return RedirectResponse(f"/trial?{urlencode({'participant': t.participant})}", status_code=303)

    @app.get("/results", response_class=HTMLResponse)
    def results_page():
        summary = stats.summarize(store.read_answers(cfg.db))
        return render_page("results", s=summary, domain=cfg.domain, info=cfg.info,
                           paper_reported=stats.PAPER["p_value_reported"])

    @app.get("/results.csv")
    def results_csv():
        return PlainTextResponse(results.answers_csv(store.read_answers(cfg.db)), media_type="text/csv")

    @app.get("/study.js")
    def script():
        return Response(SCRIPT, media_type="text/javascript")

    return app


@contextlib.contextmanager
def running(app: FastAPI, host: str = "127.0.0.1", port: int = 0):
    """Serve `app` from a background thread; yields the base URL (port 0: a free port)."""
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"study server did not start on {host}:{port}")
        time.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
