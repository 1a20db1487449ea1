"""The training pages on a local web server (Starlette on uvicorn): the trainee's potline page, the instructor's
page and the debrief, with the line's state streamed as server-sent events.

The stream sends what changed, at most ``UPDATES_PER_S`` times a wall second whatever the plant speed: the clock,
the tiles whose shown value changed, the alarms when they change and the selected cell's new trend records. Actions
come as POSTs, are checked before anything reaches the model (a refused one answers 400 with its reason) and are
applied at the plant time the page showed.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from importlib import resources

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from twin.drivers.training import ACTIONS, INSTRUCTOR, ActionError
from twin.training.session import ALARMS, TrainingSession

__all__ = ["make_app", "serve"]

UPDATES_PER_S = 4.0


def _page(name: str) -> str:
    return resources.files("twin.training").joinpath("pages", name).read_text(encoding="utf-8")


def make_app(session: TrainingSession) -> Starlette:
    """The pages and the API of one session."""

    def info() -> dict:
        sc = session.scenario
        return {"title": sc.title, "brief": sc.brief, "pots": session.cell_names, "watch": session.watch,
                "alarms": list(ALARMS), "actions": {k: {"label": v[0], "value": v[1], "unit": v[2]}
                                                    for k, v in ACTIONS.items() if k not in INSTRUCTOR},
                "faults": {k: ACTIONS[k][0] for k in INSTRUCTOR}, "targets": sc.targets.model_dump(mode="json")}

    async def trainee(_request: Request) -> HTMLResponse:
        return HTMLResponse(_page("train.html"))

    async def instructor(_request: Request) -> HTMLResponse:
        return HTMLResponse(_page("instructor.html"))

    async def debrief_page(_request: Request) -> HTMLResponse:
        return HTMLResponse(_page("debrief.html"))

    async def script(_request: Request) -> Response:
        return Response(_page("common.js"), media_type="text/javascript")

    async def api_info(_request: Request) -> JSONResponse:
        return JSONResponse(info())

    async def api_cell(request: Request) -> JSONResponse:
        k = _int(request.query_params.get("cell", "0"))
        if k is None or not 0 <= k < len(session.cell_names):
            return JSONResponse({"error": f"no cell {request.query_params.get('cell')!r}"}, status_code=400)
        return JSONResponse(session.cell(k, _int(request.query_params.get("since", "0")) or 0))

    async def stream(request: Request) -> StreamingResponse:
        selected = _int(request.query_params.get("cell", str(session.watch)))

        async def events() -> AsyncIterator[str]:
            shown: dict = {}
            alarms: list = []
            version, count = -1, 0
            while True:
                if await request.is_disconnected():
                    return
                if session.version != version:
                    version = session.version
                    message: dict = {"state": session.state()}
                    tiles = session.tiles()
                    changed = {name: _changed(shown.get(name), values) for name, values in tiles.items()}
                    shown = tiles
                    message["tiles"] = {name: c for name, c in changed.items() if c}
                    now = session.alarms()
                    if now != alarms:
                        message["alarms"] = alarms = now
                    if selected is not None and 0 <= selected < len(session.cell_names):
                        cell = session.cell(selected, count)
                        count = cell["count"]
                        message["cell"] = cell
                    yield f"data: {json.dumps(message)}\n\n"
                    if session.finished:
                        return
                await asyncio.sleep(1.0 / UPDATES_PER_S)

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def act(request: Request, instructor: bool) -> JSONResponse:
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ActionError("an action is a JSON object: {\"kind\": ..., \"cell\": ..., \"value\": ...}")
            kind = body.get("kind")
            cell = body.get("cell", 0)
            value = _number(body.get("value", 0.0))
            if not isinstance(kind, str) or not isinstance(cell, int | str) or isinstance(cell, bool):
                raise ActionError("an action needs a kind (text) and a cell (a pot name or an index)")
            action = session.act(kind, cell, value, instructor=instructor)
        except ActionError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except json.JSONDecodeError:
            return JSONResponse({"error": "the action is not JSON"}, status_code=400)
        return JSONResponse({"ok": f"{ACTIONS[action.kind][0]} on {session.cell_names[action.cell]} at plant "
                                   f"time {session.state()['plant_time']}", "time_s": action.time_s})

    async def api_action(request: Request) -> JSONResponse:
        return await act(request, instructor=False)

    async def api_fault(request: Request) -> JSONResponse:
        return await act(request, instructor=True)

    async def api_clock(request: Request) -> JSONResponse:
        try:
            body = await request.json()
            speed = body.get("speed")
            session.set_clock(speed=_number(speed) if speed is not None else None, paused=body.get("paused"))
        except (ActionError, AttributeError, json.JSONDecodeError) as exc:
            return JSONResponse({"error": str(exc) or "the clock takes {\"speed\": N} or {\"paused\": true}"},
                                status_code=400)
        return JSONResponse(session.state())

    async def api_end(_request: Request) -> JSONResponse:
        await asyncio.get_running_loop().run_in_executor(None, session.end)
        return JSONResponse({"ok": "session ended", "out": str(session.out)})

    async def api_debrief(_request: Request) -> JSONResponse:
        if not session.finished:
            return JSONResponse({"error": "the session is still running: end it first"}, status_code=409)
        from twin.training.score import debrief

        return JSONResponse(await asyncio.get_running_loop().run_in_executor(None, debrief, session.out))

    routes = [Route("/", trainee), Route("/instructor", instructor), Route("/debrief", debrief_page),
              Route("/static/common.js", script),
              Route("/api/info", api_info), Route("/api/cell", api_cell), Route("/api/stream", stream),
              Route("/api/action", api_action, methods=["POST"]), Route("/api/fault", api_fault, methods=["POST"]),
              Route("/api/clock", api_clock, methods=["POST"]), Route("/api/end", api_end, methods=["POST"]),
              Route("/api/debrief", api_debrief)]
    return Starlette(routes=routes)


def _changed(before: list[float] | None, now: list[float]) -> dict[int, float]:
    """The values of ``now`` that differ from ``before`` (all of them at first), by index."""
    return {i: v for i, v in enumerate(now) if before is None or before[i] != v}


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _number(value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ActionError(f"a value is a number, got {value!r}")
    try:
        return float(value)
    except ValueError:
        raise ActionError(f"a value is a number, got {value!r}") from None


def serve(session: TrainingSession, port: int = 8600, host: str = "127.0.0.1"):
    """A uvicorn server of the session's pages (``server.run()`` serves until stopped; ``should_exit`` stops it)."""
    import uvicorn

    config = uvicorn.Config(make_app(session), host=host, port=port, log_level="warning", lifespan="off",
                            timeout_graceful_shutdown=2)
    return uvicorn.Server(config)
