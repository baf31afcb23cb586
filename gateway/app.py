"""The gateway's ASGI application: GraphQL over HTTP and WebSocket (graphql-transport-ws), health, tracing.

Run: ``python -m gateway`` (uvicorn). The GraphQL schema is graphene's; ariadne's ASGI app serves it because it
speaks the graphql-transport-ws protocol.
"""
from __future__ import annotations

import contextlib
import json
import logging
import re

from ariadne.asgi import GraphQL
from ariadne.asgi.handlers import GraphQLHTTPHandler, GraphQLTransportWSHandler
from ariadne.explorer import ExplorerGraphiQL
from opentelemetry.trace import SpanKind
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from gateway.audit import AccessLog
from gateway.limits import QueryLimits
from gateway.rpc import NoAnswer, RpcPool, ServiceUnavailable
from gateway.schema import build_schema
from kit import tracing
from kit.settings import Settings

log = logging.getLogger("actionplan.gateway")
_ACTOR = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def actor_of(headers) -> str:
    """The caller's pseudonymous id from the authenticating proxy's header; malformed values are not trusted."""
    raw = headers.get("x-actor", "")
    return raw if _ACTOR.match(raw) else "unidentified"


class TracingMiddleware:
    """One server span per HTTP request, continuing the caller's traceparent; the access log entry is written
    when the response starts, with the span's trace id."""

    def __init__(self, app, access_log_ref: dict) -> None:
        self.app = app
        self.access_log_ref = access_log_ref

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", ())}
        body_chunks: list[bytes] = []

        async def receive_and_keep():
            message = await receive()
            if message["type"] == "http.request" and scope["path"] == "/graphql":
                body_chunks.append(message.get("body", b""))
            return message

        with tracing.span_from(headers, f"{scope['method']} {scope['path']}", SpanKind.SERVER,
                               {"http.request.method": scope["method"], "url.path": scope["path"]}) as span:
            async def send_and_audit(message):
                if message["type"] == "http.response.start":
                    span.set_attribute("http.response.status_code", message["status"])
                    if scope["path"] == "/graphql" and scope["method"] == "POST":
                        self._audit(headers, b"".join(body_chunks), span, message["status"])
                await send(message)
            await self.app(scope, receive_and_keep, send_and_audit)

    def _audit(self, headers, body: bytes, span, status: int) -> None:
        access_log = self.access_log_ref.get("log")
        if access_log is None:
            return
        try:
            operation = json.loads(body or b"{}").get("operationName")
        except (ValueError, AttributeError):
            operation = None
        trace_id = format(span.get_span_context().trace_id, "032x")
        access_log.record(actor=actor_of(headers), operation=operation, trace_id=trace_id, status=status)


def create_app(settings: Settings) -> Starlette:
    schema = build_schema()
    rpc = RpcPool(settings)
    state: dict = {}

    def context_value(request, _data=None):
        return {"request": request, "rpc": rpc, "actor": actor_of(request.headers)}

    graphql_app = GraphQL(
        schema.graphql_schema,
        context_value=context_value,
        validation_rules=[QueryLimits],
        explorer=ExplorerGraphiQL(title="actionplan GraphQL"),
        http_handler=GraphQLHTTPHandler(),
        websocket_handler=GraphQLTransportWSHandler(),
        debug=False,
    )

    async def healthz(_request):
        return JSONResponse({"status": "ok"})

    async def readyz(_request):
        problems = {}
        for service in settings.gateway_services:
            try:
                await rpc.call(service, "health")
            except (ServiceUnavailable, NoAnswer) as exc:
                problems[service] = str(exc)
        try:
            await state["log"].ping()
        except Exception as exc:
            problems["gateway-db"] = type(exc).__name__
        status = 200 if not problems else 503
        return JSONResponse({"status": "ready" if not problems else "not ready", "problems": problems},
                            status_code=status)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        state["log"] = AccessLog(settings)
        yield
        await state["log"].close()
        rpc.close()

    app = Starlette(routes=[Route("/healthz", healthz), Route("/readyz", readyz),
                            Route("/graphql", graphql_app, methods=["GET", "POST"]),
                            WebSocketRoute("/graphql", graphql_app)], lifespan=lifespan)
    app.state.rpc = rpc
    return TracingMiddleware(app, state)
