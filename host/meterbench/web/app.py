"""The lab server's ASGI application: server-rendered pages and the JSON API behind them.

Pages and API call the same operations (`service`, `documents`, `live`, `public`), so the API
(documented at ``/docs``, schema at ``/openapi.json``) can do everything the pages do. Pages
and API share the session cookie; every state-changing request carries the session's CSRF
token (form field ``csrf_token`` or header ``X-CSRF-Token``) or is refused.

No ``from __future__ import annotations`` here: FastAPI reads the routes' annotations, which
name dependencies local to `create_app`, at definition time.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field

from meterbench import __version__
from meterbench.results import RunStatus, StoreError, to_plain
from meterbench.results.connector import is_database_url
from meterbench.results.paths import data_dir
from meterbench.results.signing import LabKey
from meterbench.web import documents, live, public, service
from meterbench.web.access import LabStore
from meterbench.web.auth import (
    CAN_ADMIN,
    AuthError,
    User,
    csrf_ok,
    login,
    logout,
    session_user,
)
from meterbench.web.service import Lab, Refused
from meterbench.web.workers import Workers

COOKIE = "meterbench_session"
_HERE = files("meterbench.web")


class LoginIn(BaseModel):
    username: str
    password: str


class StartIn(BaseModel):
    bench: str
    plan: str
    meter_list: str | None = Field(None, description="A meter list as CSV text")
    meter_type: str | None = Field(None, description="With serials: the meters' type")
    serials: dict[int, str] = Field(default_factory=dict, description="position -> serial")
    addresses: dict[int, str] = Field(default_factory=dict, description="position -> address")


class ControlIn(BaseModel):
    action: str = Field(description="pause, continue, abort or take_out")
    position: int | None = None
    reason: str = ""


class ManualIn(BaseModel):
    item: str = Field(description="visual, ac_voltage or tightness")
    positions: list[int] | None = Field(None, description="None: every position with the item")
    passed: bool
    note: str | None = None


class SignoffIn(BaseModel):
    stage: str = Field(description="check (核验) or approve (批准)")
    note: str = ""


def _state_dir(db: str | Path) -> Path:
    """Where the server keeps worker logs and uploaded meter lists: beside an SQLite file,
    or beside the user's default database for a lab's PostgreSQL server."""
    if is_database_url(db):
        return data_dir() / "lab-server"
    path = Path(db)
    return path.with_name(path.name + ".lab")


def create_app(
    db: str | Path,
    *,
    benches: list[Path] | None = None,
    plans: list[Path] | None = None,
    state_dir: Path | None = None,
    time_scale: float | None = None,
    public_limit: int = 30,
    checker: public.Checker | None = None,
    signer: LabKey | None = None,
) -> FastAPI:
    """The application for one results database and the benches it offers.

    With the lab's ``signer`` key the server signs every sign-off it appends, and the public
    lookup checks the lab's signature as well as the hash chain."""
    store = LabStore(db)
    state = state_dir or _state_dir(db)
    if checker is None and signer is not None:
        checker = public.signed_checker(signer.public)
    lab = Lab(
        store=store,
        workers=Workers(store, state, time_scale),
        benches=service.load_benches(benches or []),
        plans=service.load_plans(plans or []),
        state_dir=state,
        checker=checker,
        signer=signer,
    )
    limiter = public.RateLimit(public_limit, 60.0)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    app = FastAPI(
        lifespan=lifespan,
        title="meterbench lab server",
        version=__version__,
        description="Live benches, runs, sign-off, documents and the public certificate lookup.",
    )
    app.state.lab = lab
    templates = Jinja2Templates(directory=str(_HERE / "templates"))
    app.mount("/static", StaticFiles(directory=str(_HERE / "static")), name="static")

    # -- plumbing ------------------------------------------------------------------------

    def client(request: Request) -> str | None:
        return request.client.host if request.client else None

    def user_of(request: Request) -> User | None:
        return session_user(store, request.cookies.get(COOKIE))

    def api_user(request: Request) -> User:
        user = user_of(request)
        if user is None:
            raise HTTPException(401, "log in first (POST /api/session)")
        return user

    def api_writer(request: Request, user: Annotated[User, Depends(api_user)]) -> User:
        if not csrf_ok(user, request.headers.get("x-csrf-token")):
            store.audit(user.username, "csrf", request.url.path, "refused", None, client(request))
            raise HTTPException(403, "missing or wrong CSRF token (X-CSRF-Token header)")
        return user

    class LoginNeeded(Exception):
        pass

    def page_user(request: Request) -> User:
        user = user_of(request)
        if user is None:
            raise LoginNeeded()
        return user

    async def page_writer(request: Request, user: Annotated[User, Depends(page_user)]) -> User:
        form = await request.form()
        token = form.get("csrf_token")
        if not csrf_ok(user, token if isinstance(token, str) else None):
            store.audit(user.username, "csrf", request.url.path, "refused", None, client(request))
            raise Refused(403, "missing or wrong CSRF token: reload the page and try again")
        return user

    @app.exception_handler(LoginNeeded)
    async def _login_needed(request: Request, exc: LoginNeeded) -> Response:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": exc.message}, status_code=exc.status)
        return templates.TemplateResponse(
            request,
            "error.html",
            {"user": user_of(request), "message": exc.message},
            status_code=exc.status,
        )

    @app.exception_handler(StoreError)
    async def _store_error(request: Request, exc: StoreError) -> Response:
        return await _refused(request, Refused(409, str(exc)))

    def page(request: Request, name: str, user: User | None, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, name, {"user": user, "lab": lab, **context})

    def back(url: str, message: str = "") -> RedirectResponse:
        suffix = f"?msg={quote(message)}" if message else ""
        return RedirectResponse(url + suffix, status_code=303)

    def sse(compute: Callable[[], Any], closed: Callable[[Any], bool]) -> StreamingResponse:
        return StreamingResponse(
            live.stream(compute, closed),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    def run_closed(state: dict[str, Any]) -> bool:
        return state["status"] in (RunStatus.COMPLETED.value, RunStatus.ABORTED.value) and (
            len(state["signoffs"]) >= 2
        )

    def filtered_runs(q: str, status: str, bench: str) -> list[Any]:
        runs = list(reversed(store.list_runs()))
        if status:
            runs = [r for r in runs if r.status and r.status.value == status]
        if bench:
            runs = [r for r in runs if r.bench == bench]
        if q:
            hits = {h.run_id for h in store.find_meters(q)}
            runs = [r for r in runs if q in r.run_id or q in r.plan or r.run_id in hits]
        return runs

    # -- session -------------------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, next: str = "/") -> HTMLResponse:
        return page(request, "login.html", None, next=next, error=None)

    @app.post("/login", include_in_schema=False)
    def login_form(
        request: Request,
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        next: Annotated[str, Form()] = "/",
    ) -> Response:
        try:
            token = login(store, username, password)
        except AuthError as exc:
            store.audit(username, "login", None, "refused", str(exc), client(request))
            response = page(request, "login.html", None, next=next, error=str(exc))
            response.status_code = 401
            return response
        store.audit(username, "login", None, "ok", None, client(request))
        target = next if next.startswith("/") and not next.startswith("//") else "/"
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="lax")
        return response

    @app.post("/logout", include_in_schema=False)
    def logout_form(request: Request, user: Annotated[User, Depends(page_writer)]) -> Response:
        logout(store, request.cookies.get(COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @app.post("/api/session", tags=["session"])
    def api_login(request: Request, body: LoginIn) -> JSONResponse:
        """Log in: sets the session cookie; send the returned CSRF token with every change."""
        try:
            token = login(store, body.username, body.password)
        except AuthError as exc:
            store.audit(body.username, "login", None, "refused", str(exc), client(request))
            raise HTTPException(401, str(exc)) from None
        store.audit(body.username, "login", None, "ok", "api", client(request))
        user = session_user(store, token)
        assert user is not None
        response = JSONResponse(
            {"username": user.username, "roles": sorted(user.roles), "csrf_token": user.csrf_token}
        )
        response.set_cookie(COOKIE, token, httponly=True, samesite="lax")
        return response

    # -- benches and runs ----------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(
        request: Request, user: Annotated[User, Depends(page_user)], msg: str = ""
    ) -> HTMLResponse:
        return page(request, "index.html", user, benches=live.benches_state(lab), msg=msg)

    @app.get("/api/benches", tags=["benches"])
    def api_benches(user: Annotated[User, Depends(api_user)]) -> list[dict[str, Any]]:
        """Every bench this server offers, its worker and its open run."""
        return live.benches_state(lab)

    @app.get("/api/benches/live", tags=["benches"])
    def api_benches_live(user: Annotated[User, Depends(api_user)]) -> StreamingResponse:
        """The benches as server-sent events (one JSON list per change)."""
        return sse(lambda: live.benches_state(lab), lambda _: False)

    @app.get("/start", response_class=HTMLResponse, include_in_schema=False)
    def start_page(
        request: Request, user: Annotated[User, Depends(page_user)], bench: str = ""
    ) -> HTMLResponse:
        chosen = lab.benches.get(bench) or next(iter(lab.benches.values()), None)
        return page(request, "start.html", user, chosen=chosen)

    @app.post("/start", include_in_schema=False)
    async def start_form(request: Request, user: Annotated[User, Depends(page_writer)]) -> Response:
        form = await request.form()
        bench_id = str(form.get("bench") or "")
        upload = form.get("meters_file")
        text = ""
        if upload is not None and not isinstance(upload, str):
            content = await upload.read()
            try:
                text = content.decode("utf-8")
            except UnicodeDecodeError:
                raise Refused(400, "the meter list is not UTF-8 text") from None
        if not text.strip():
            bench = lab.benches.get(bench_id)
            if bench is None:
                raise Refused(404, f"no bench {bench_id} on this server")
            serials = {p: str(form.get(f"serial_{p}") or "") for p in bench.positions}
            addresses = {p: str(form.get(f"address_{p}") or "") for p in bench.positions}
            text = service.meter_list_from_serials(
                bench, str(form.get("meter_type") or ""), serials, addresses
            )
        service.start_run(lab, user, bench_id, str(form.get("plan") or ""), text, client(request))
        return back("/", f"run started on {bench_id}")

    @app.post("/api/runs", tags=["runs"])
    def api_start(
        request: Request, body: StartIn, user: Annotated[User, Depends(api_writer)]
    ) -> dict[str, Any]:
        """Start a run: a meter list as CSV, or serials position by position."""
        text = body.meter_list or ""
        if not text.strip():
            bench = lab.benches.get(body.bench)
            if bench is None:
                raise Refused(404, f"no bench {body.bench} on this server")
            text = service.meter_list_from_serials(
                bench, body.meter_type or "", body.serials, body.addresses
            )
        pid = service.start_run(lab, user, body.bench, body.plan, text, client(request))
        return {"bench": body.bench, "worker": pid}

    @app.post("/benches/{bench_id}/resume", include_in_schema=False)
    def resume_form(
        request: Request, bench_id: str, user: Annotated[User, Depends(page_writer)]
    ) -> Response:
        service.resume_run(lab, user, bench_id, client(request))
        return back("/", f"resumed on {bench_id}")

    @app.post("/api/benches/{bench_id}/resume", tags=["benches"])
    def api_resume(
        request: Request, bench_id: str, user: Annotated[User, Depends(api_writer)]
    ) -> dict[str, Any]:
        """Resume the bench's interrupted (or crashed) run in a new worker."""
        return {"worker": service.resume_run(lab, user, bench_id, client(request))}

    @app.get("/runs", response_class=HTMLResponse, include_in_schema=False)
    def runs_page(
        request: Request,
        user: Annotated[User, Depends(page_user)],
        q: str = "",
        status: str = "",
        bench: str = "",
    ) -> HTMLResponse:
        runs = filtered_runs(q, status, bench)
        return page(request, "runs.html", user, runs=runs, q=q, status=status, bench=bench)

    @app.get("/api/runs", tags=["runs"])
    def api_runs(
        user: Annotated[User, Depends(api_user)], q: str = "", status: str = "", bench: str = ""
    ) -> list[dict[str, Any]]:
        """Runs, newest first; ``q`` matches run id, plan, meter serial, asset or lot."""
        return [to_plain(r) for r in filtered_runs(q, status, bench)]  # type: ignore[misc]

    @app.get("/runs/{run_id}", response_class=HTMLResponse, include_in_schema=False)
    def run_page(
        request: Request, run_id: str, user: Annotated[User, Depends(page_user)], msg: str = ""
    ) -> HTMLResponse:
        state = live.run_state(lab, run_id)
        return page(
            request,
            "run.html",
            user,
            state=state,
            items=service.manual_items(lab, run_id),
            msg=msg,
            approved=any(s["stage"] == "approve" for s in state["signoffs"]),
        )

    @app.get("/api/runs/{run_id}", tags=["runs"])
    def api_run(run_id: str, user: Annotated[User, Depends(api_user)]) -> dict[str, Any]:
        """Everything stored for a run: meters, readings, conclusions, events, sign-offs."""
        return store.load_run(run_id).to_plain()  # type: ignore[return-value]

    @app.get("/api/runs/{run_id}/state", tags=["runs"])
    def api_run_state(run_id: str, user: Annotated[User, Depends(api_user)]) -> dict[str, Any]:
        """The live view of a run: step N/M, times, per-position rows, events."""
        return live.run_state(lab, run_id)

    @app.get("/api/runs/{run_id}/live", tags=["runs"])
    def api_run_live(run_id: str, user: Annotated[User, Depends(api_user)]) -> StreamingResponse:
        """The live view as server-sent events, one JSON object per change."""
        live.run_state(lab, run_id)  # unknown run: refused now, not inside the stream
        return sse(lambda: live.run_state(lab, run_id), run_closed)

    @app.post("/runs/{run_id}/control", include_in_schema=False)
    async def control_form(
        request: Request, run_id: str, user: Annotated[User, Depends(page_writer)]
    ) -> Response:
        form = await request.form()
        position = str(form.get("position") or "").strip()
        message = service.control(
            lab,
            user,
            run_id,
            str(form.get("action") or ""),
            int(position) if position.isdigit() else None,
            str(form.get("reason") or ""),
            client(request),
        )
        return back(f"/runs/{run_id}", message)

    @app.post("/api/runs/{run_id}/control", tags=["runs"])
    def api_control(
        request: Request, run_id: str, body: ControlIn, user: Annotated[User, Depends(api_writer)]
    ) -> dict[str, str]:
        """Pause, continue, abort, or take a position out (through the run's record)."""
        message = service.control(
            lab, user, run_id, body.action, body.position, body.reason, client(request)
        )
        return {"detail": message}

    @app.post("/runs/{run_id}/manual", include_in_schema=False)
    async def manual_form(
        request: Request, run_id: str, user: Annotated[User, Depends(page_writer)]
    ) -> Response:
        form = await request.form()
        where = str(form.get("positions") or "all").strip()
        try:
            positions = (
                None if where == "all" else [int(p) for p in where.replace(",", " ").split()]
            )
        except ValueError:
            raise Refused(400, f"positions: 'all' or numbers, got {where!r}") from None
        count = service.record_manual(
            lab,
            user,
            run_id,
            str(form.get("item") or ""),
            positions,
            form.get("outcome") == "pass",
            str(form.get("note") or "") or None,
            client(request),
        )
        return back(f"/runs/{run_id}", f"{count} manual results recorded")

    @app.post("/api/runs/{run_id}/manual", tags=["runs"])
    def api_manual(
        request: Request, run_id: str, body: ManualIn, user: Annotated[User, Depends(api_writer)]
    ) -> dict[str, int]:
        """Record a manual item for some positions (or all that have it)."""
        count = service.record_manual(
            lab, user, run_id, body.item, body.positions, body.passed, body.note, client(request)
        )
        return {"recorded": count}

    @app.post("/runs/{run_id}/signoff", include_in_schema=False)
    async def signoff_form(
        request: Request, run_id: str, user: Annotated[User, Depends(page_writer)]
    ) -> Response:
        form = await request.form()
        message = service.sign_off(
            lab,
            user,
            run_id,
            str(form.get("stage") or ""),
            str(form.get("note") or ""),
            client(request),
        )
        return back(f"/runs/{run_id}", message)

    @app.post("/api/runs/{run_id}/signoff", tags=["runs"])
    def api_signoff(
        request: Request, run_id: str, body: SignoffIn, user: Annotated[User, Depends(api_writer)]
    ) -> dict[str, str]:
        """Check (核验) or approve (批准) a completed run; appended to its hash chain."""
        message = service.sign_off(lab, user, run_id, body.stage, body.note, client(request))
        return {"detail": message}

    def download(run_id: str, kind: str, meter: str | None, lang: str) -> Response:
        name, content = documents.document(lab, run_id, kind, meter, lang)
        media = {
            ".pdf": "application/pdf",
            ".csv": "text/csv",
            ".json": "application/json",
        }.get(Path(name).suffix, "application/octet-stream")
        return Response(
            content,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @app.get("/runs/{run_id}/documents/{kind}", include_in_schema=False)
    def document_page(
        run_id: str,
        kind: str,
        user: Annotated[User, Depends(page_user)],
        meter: str | None = None,
        lang: str = "zh",
    ) -> Response:
        return download(run_id, kind, meter, lang)

    @app.get("/api/runs/{run_id}/documents/{kind}", tags=["documents"])
    def api_document(
        run_id: str,
        kind: str,
        user: Annotated[User, Depends(api_user)],
        meter: Annotated[str | None, Query(description="serial number")] = None,
        lang: str = "zh",
    ) -> Response:
        """certificate (approved runs only), record, batch (PDF), csv or json export."""
        return download(run_id, kind, meter, lang)

    @app.get("/runs/{run_id}/plots", response_class=HTMLResponse, include_in_schema=False)
    def plots_page(
        request: Request, run_id: str, user: Annotated[User, Depends(page_user)]
    ) -> HTMLResponse:
        return page(
            request, "plots.html", user, run_id=run_id, plots=documents.plots_svg(lab, run_id)
        )

    @app.get("/api/runs/{run_id}/plots", tags=["documents"])
    def api_plots(run_id: str, user: Annotated[User, Depends(api_user)]) -> list[dict[str, str]]:
        """The run's error curves and distributions as SVG."""
        return [{"title": t, "svg": s} for t, s in documents.plots_svg(lab, run_id)]

    # -- meters, lots, audit -------------------------------------------------------------

    @app.get("/meters", response_class=HTMLResponse, include_in_schema=False)
    def meters_page(
        request: Request, user: Annotated[User, Depends(page_user)], q: str = ""
    ) -> HTMLResponse:
        hits = store.find_meters(q) if q.strip() else []
        return page(request, "meters.html", user, q=q, hits=hits)

    @app.get("/api/meters", tags=["meters"])
    def api_meters(user: Annotated[User, Depends(api_user)], q: str) -> list[dict[str, Any]]:
        """Meters whose serial, asset number or lot contains ``q``, with their runs."""
        return [to_plain(h) for h in store.find_meters(q)]  # type: ignore[misc]

    @app.get("/lots", response_class=HTMLResponse, include_in_schema=False)
    def lots_page(request: Request, user: Annotated[User, Depends(page_user)]) -> HTMLResponse:
        return page(request, "lots.html", user, lots=store.lots())

    @app.get("/api/lots", tags=["meters"])
    def api_lots(user: Annotated[User, Depends(api_user)]) -> list[dict[str, str]]:
        """Lot verdicts, newest first."""
        return [
            {"lot": lot, "run_id": run, "verdict": verdict, "consequence": consequence}
            for lot, run, verdict, consequence in store.lots()
        ]

    @app.get("/audit", response_class=HTMLResponse, include_in_schema=False)
    def audit_page(request: Request, user: Annotated[User, Depends(page_user)]) -> HTMLResponse:
        if not user.may(CAN_ADMIN):
            raise Refused(403, f"{user.username} may not read the audit trail (needs admin)")
        return page(request, "audit.html", user, rows=store.audit_trail())

    @app.get("/api/audit", tags=["session"])
    def api_audit(user: Annotated[User, Depends(api_user)]) -> list[dict[str, Any]]:
        """The audit trail (admin): every login, request and refusal, newest first."""
        if not user.may(CAN_ADMIN):
            raise Refused(403, f"{user.username} may not read the audit trail (needs admin)")
        return [to_plain(r) for r in store.audit_trail()]  # type: ignore[misc]

    # -- public lookup -------------------------------------------------------------------

    def public_answer(request: Request, q: str) -> list[public.PublicEntry]:
        if not limiter.allow(client(request) or "?"):
            raise Refused(429, "too many lookups from this address: try again in a minute")
        return public.lookup(lab, q)

    @app.get("/public", response_class=HTMLResponse, include_in_schema=False)
    def public_page(request: Request, q: str = "") -> HTMLResponse:
        entries = public_answer(request, q) if q.strip() else []
        return templates.TemplateResponse(
            request, "public.html", {"q": q, "entries": entries, "user": None}
        )

    @app.get("/api/public/lookup", tags=["public"])
    def api_public(request: Request, q: str) -> list[dict[str, Any]]:
        """No login: a certificate by meter serial or certificate number (rate-limited)."""
        return [to_plain(e) for e in public_answer(request, q)]  # type: ignore[misc]

    return app


__all__ = ["COOKIE", "create_app"]
