"""The gateway's ASGI application: GraphQL over HTTP and WebSocket (graphql-transport-ws), health, tracing.

Run: ``python -m gateway`` (uvicorn). The GraphQL schema is graphene's; ariadne's ASGI app serves it because it
speaks the graphql-transport-ws protocol. The edge around it:

* HTTP: ``POST /graphql`` with ``Content-Type: application/json`` only (no form, multipart or text bodies, no GET
  queries: a browser cannot send one cross-site without a CORS preflight, and CORS is closed unless
  GRAPHQL_CORS_ORIGINS names origins). The body is read up to GRAPHQL_MAX_BODY_BYTES; a JSON array (a batch) is
  refused unless GRAPHQL_BATCH_MAX allows it. ``GET /graphql`` serves GraphiQL when GRAPHIQL=on.
* The caller: ``Authorization: Bearer <token>`` (gateway.auth); no header is the anonymous principal.
* WebSocket: the Origin must be the gateway's own or one of GRAPHQL_WS_ORIGINS; ``connection_init`` must carry
  ``{"Authorization": "Bearer <token>"}`` (else the socket closes with 4403); the token is checked again for every
  operation.
* Every operation, over either transport: the limits of gateway.limits right after parsing, graphql-core's
  validation, the access log entry (gateway.audit; an operation on personal data fails closed when the log cannot
  be written), execution with [AuthorizationMiddleware, SubjectMiddleware], the entry closed with its status and
  the data subjects touched. Errors are formatted by gateway.errors.format_error (codes always; faults masked with
  a reference id; no values in answers or logs).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from urllib.parse import urlparse

from ariadne.asgi import GraphQL
from ariadne.asgi.handlers import GraphQLHTTPHandler, GraphQLTransportWSHandler
from ariadne.asgi.handlers.graphql_transport_ws import ClientContext
from graphql import GraphQLError, validate
from opentelemetry.trace import SpanKind
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from gateway import graphiql
from gateway.audit import AccessLog, AccessLogUnavailable, SubjectMiddleware, operation_fields
from gateway.auth import AuthError, Authenticator
from gateway.authz import AuthorizationMiddleware
from gateway.errors import SILENT, format_error, mark_validation, remember_request
from gateway.limits import Limits, parse_within
from gateway.rpc import NoAnswer, RpcPool, ServiceUnavailable
from gateway.schema import build_schema
from kit import tracing
from kit.principal import ANONYMOUS, GATEWAY
from kit.settings import Settings

log = logging.getLogger("actionplan.gateway")

JSON = "application/json"
WS_FORBIDDEN = 4403  # graphql-transport-ws: the server refused the connection (no or bad token, foreign origin)
WS_TOO_LARGE = 1009
AUTH_STATUS = {"unauthenticated": 401, "forbidden": 403, "service_unavailable": 503}


def refusal(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status,
                        headers=headers)


class TooLarge(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused (TooLarge) as soon as it passes ``limit`` bytes, declared or streamed."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


DRAIN_LIMIT = 4 * 1024 * 1024


async def drain_body(request: Request) -> None:
    """Read and drop the rest of a refused body (up to DRAIN_LIMIT bytes) before answering: a client still sending
    would otherwise get a broken pipe or a reset instead of the 413 and its code. Beyond the limit the connection is
    cut, and such a client sees the reset."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > DRAIN_LIMIT:
        return
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > DRAIN_LIMIT:
                return
    except Exception:  # the client went away or the stream was already read: nothing left to drain
        return


class Edge:
    """What both transports share: the authenticator, the access log, the limits and the per-operation steps."""

    def __init__(self, settings: Settings, rpc: RpcPool, authenticator: Authenticator, state: dict) -> None:
        self.settings = settings
        self.rpc = rpc
        self.authenticator = authenticator
        self.state = state
        self.limits = Limits.from_settings(settings)

    @property
    def access_log(self) -> AccessLog | None:
        return self.state.get("log")

    def context(self, connection, _data=None) -> dict:
        principal = getattr(connection.state, "principal", None) or ANONYMOUS
        transport = "websocket" if isinstance(connection, WebSocket) else "http"
        return {"request": connection, "rpc": self.rpc, "principal": principal, "actor": principal.subject,
                "subjects": set(), "access_log": self.access_log, "transport": transport}

    def parse(self, _context, data):
        return parse_within(data["query"], self.limits, data.get("variables"))

    @staticmethod
    def validate(schema, document, rules=None, max_errors=None, **kwargs):
        return mark_validation(validate(schema, document, rules=rules, max_errors=max_errors, **kwargs))

    async def open_entry(self, context, operation_name, _variables, document):
        """ariadne's root_value hook: runs after validation, right before execution. Opens the access log entry
        from the server's own parse; an operation on personal data does not run when it cannot be written."""
        access_log = context.get("access_log")
        if access_log is None:
            return None
        operation_type, fields = operation_fields(document, operation_name)
        try:
            context["access_entry"] = await access_log.open(context["principal"], operation_type, fields,
                                                            context["transport"])
        except AccessLogUnavailable:
            if access_log.personal(fields):
                log.error("access log unavailable: refused a %s on personal data", operation_type)
                raise GraphQLError("the access log cannot be written, so personal data is not served; try again "
                                   "later", extensions={"code": "access_log_unavailable"}) from None
        return None

    async def close_entry(self, context, result: dict) -> dict:
        entry = context.get("access_entry")
        access_log = context.get("access_log")
        if entry is None or access_log is None:
            return result
        errors = result.get("errors") or ()
        status = "ok" if not errors else str((errors[0].get("extensions") or {}).get("code") or "error")
        try:
            await access_log.close(entry, status, context.get("subjects") or set())
        except AccessLogUnavailable:
            if getattr(entry, "personal", True):
                log.error("access log unavailable: withheld the answer of an operation on personal data")
                return {"data": None, "errors": [{
                    "message": "the access log cannot be written, so personal data is not served; try again later",
                    "extensions": {"code": "access_log_unavailable"}}]}
        return result

    async def principal(self, authorization: str | None):
        return await self.authenticator.principal(authorization)


class EdgeHTTPHandler(GraphQLHTTPHandler):
    def __init__(self, edge: Edge, **kwargs) -> None:
        super().__init__(**kwargs)
        self.edge = edge

    async def handle_request_override(self, request: Request) -> Response | None:
        settings = self.edge.settings
        if request.method in ("GET", "HEAD"):
            if settings.graphiql:
                return graphiql.page()
            return refusal(405, "method_not_allowed", "send GraphQL operations as POST with application/json",
                           {"Allow": "POST"})
        if request.method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": "POST, OPTIONS"})
        if request.method != "POST":
            return refusal(405, "method_not_allowed", "send GraphQL operations as POST with application/json",
                           {"Allow": "POST"})
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != JSON:
            return refusal(415, "unsupported_media_type", "the body must be application/json (no forms, multipart "
                                                          "or text)")
        try:
            body = await read_body(request, settings.graphql_max_body_bytes)
        except TooLarge:
            await drain_body(request)
            return refusal(413, "body_too_large", f"the body is larger than {settings.graphql_max_body_bytes} bytes")
        try:
            data = json.loads(body)
        except ValueError:
            return refusal(400, "invalid_json", "the body is not valid JSON")
        try:
            request.state.principal = await self.edge.principal(request.headers.get("authorization"))
        except AuthError as exc:
            return refusal(AUTH_STATUS.get(exc.code, 401), exc.code, exc.message,
                           {"WWW-Authenticate": "Bearer"} if exc.code == "unauthenticated" else None)
        if isinstance(data, list):
            if not settings.graphql_batch_max:
                return refusal(400, "batching_disabled", "one operation per request (batching is not enabled)")
            if not data or len(data) > settings.graphql_batch_max:
                return refusal(400, "batch_too_large", f"a batch holds 1 to {settings.graphql_batch_max} operations")
            results = []
            for item in data:
                _success, result = await self.run(request, item)
                results.append(result)
            return JSONResponse(results)
        success, result = await self.run(request, data)
        return await self.create_json_response(request, result, success)

    async def run(self, request: Request, data):
        if not isinstance(data, dict):
            return False, {"errors": [{"message": "an operation is a JSON object with a query",
                                       "extensions": {"code": "invalid_request"}}]}
        remember_request(data)
        return await self.execute_graphql_query(request, data)

    async def execute_graphql_query(self, request, data, *, context_value=None, query_document=None):
        if context_value is None:
            context_value = await self.get_context_for_request(request, data)
        success, result = await super().execute_graphql_query(request, data, context_value=context_value,
                                                              query_document=query_document)
        result = await self.edge.close_entry(context_value, result)
        return success and not result.get("errors"), result


class EdgeWSHandler(GraphQLTransportWSHandler):
    def __init__(self, edge: Edge, **kwargs) -> None:
        super().__init__(**kwargs)
        self.edge = edge

    def origin_allowed(self, websocket: WebSocket) -> bool:
        origin = websocket.headers.get("origin")
        if origin is None:  # not a browser: cross-site WebSocket hijacking needs one; the token is still required
            return True
        origin = origin.rstrip("/").lower()
        if origin in (o.lower() for o in self.edge.settings.graphql_ws_origins):
            return True
        own = urlparse(origin)
        host = websocket.headers.get("host", "").lower()
        scheme = "https" if websocket.url.scheme == "wss" else "http"
        return bool(host) and own.scheme == scheme and own.netloc == host

    async def handle_websocket_message(self, websocket, message, client_context):
        if not isinstance(message, dict):
            await websocket.close(code=4400)
            return
        await super().handle_websocket_message(websocket, message, client_context)

    async def handle_websocket_connection_init_message(self, websocket, message, client_context):
        if client_context.connection_init_received:
            await websocket.close(code=4429)
            return
        client_context.connection_init_received = True
        payload = message.get("payload")
        authorization = None
        if isinstance(payload, dict):
            authorization = payload.get("Authorization") or payload.get("authorization")
        if not isinstance(authorization, str) or not authorization.strip():
            log.info("websocket refused: no token in connection_init")
            await websocket.close(code=WS_FORBIDDEN, reason="unauthenticated: connection_init needs Authorization")
            return
        try:
            websocket.state.principal = await self.edge.principal(authorization)
        except AuthError as exc:
            log.info("websocket refused: %s", exc.code)
            await websocket.close(code=WS_FORBIDDEN, reason=exc.code)
            return
        websocket.state.authorization = authorization
        await websocket.send_json({"type": self.GQL_CONNECTION_ACK})
        client_context.connection_acknowledged = True

    async def handle_websocket_subscribe(self, websocket, data, operation_id, client_context):
        if client_context.connection_acknowledged:
            try:  # the token may have expired since connection_init: every operation is authenticated again
                websocket.state.principal = await self.edge.principal(websocket.state.authorization)
            except AuthError as exc:
                await websocket.close(code=WS_FORBIDDEN, reason=exc.code)
                return
            if not isinstance(data, dict) or not isinstance(data.get("query"), str):
                await websocket.send_json({"type": self.GQL_ERROR, "id": operation_id, "payload": [
                    {"message": "an operation is a JSON object with a query",
                     "extensions": {"code": "invalid_request"}}]})
                return
            remember_request(data)
        await super().handle_websocket_subscribe(websocket, data, operation_id, client_context)

    async def handle_websocket(self, websocket: WebSocket):
        """The origin check, then ariadne's loop with a bounded reader."""
        if not self.origin_allowed(websocket):
            log.warning("websocket refused: origin not allowed")
            await websocket.close(code=WS_FORBIDDEN)
            return
        await self._serve(websocket)

    async def _serve(self, websocket: WebSocket):
        """ariadne's loop, reading text frames with the HTTP body limit."""
        await websocket.accept("graphql-transport-ws")
        client_context = ClientContext()
        client_context.connection_init_timeout_task = asyncio.create_task(
            self.handle_connection_init_timeout(websocket, client_context))
        limit = self.edge.settings.graphql_max_body_bytes
        try:
            while WebSocketState.DISCONNECTED not in (websocket.client_state, websocket.application_state):
                text = await websocket.receive_text()
                if len(text) > limit:
                    await websocket.close(code=WS_TOO_LARGE, reason="body_too_large")
                    break
                try:
                    message = json.loads(text)
                except ValueError:
                    await websocket.close(code=4400, reason="invalid_json")
                    break
                await self.handle_websocket_message(websocket, message, client_context)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            client_context.connection_init_timeout_task.cancel()
            for operation_id in list(client_context.operations.keys()):
                await self.stop_websocket_operation(websocket, operation_id, client_context)


class TracingMiddleware:
    """One server span per HTTP request, continuing the caller's traceparent."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", ())}
        with tracing.span_from(headers, f"{scope['method']} {scope['path']}", SpanKind.SERVER,
                               {"http.request.method": scope["method"], "url.path": scope["path"]}) as span:
            async def send_and_note(message):
                if message["type"] == "http.response.start":
                    span.set_attribute("http.response.status_code", message["status"])
                await send(message)
            await self.app(scope, receive, send_and_note)


def create_app(settings: Settings, *, access_log: AccessLog | None = None,
               authenticator: Authenticator | None = None):
    """The gateway. ``access_log``/``authenticator`` replace the ones built from ``settings`` (tests); without
    ``access_log`` the lifespan opens the gateway's own (MongoDB)."""
    schema = build_schema()
    rpc = RpcPool(settings)
    state: dict = {} if access_log is None else {"log": access_log}
    edge = Edge(settings, rpc, authenticator or Authenticator(settings), state)
    middleware = [AuthorizationMiddleware(schema), SubjectMiddleware()]

    graphql_app = GraphQL(
        schema.graphql_schema,
        context_value=edge.context,
        root_value=edge.open_entry,
        query_parser=edge.parse,
        query_validator=edge.validate,
        introspection=settings.graphql_introspection,
        explorer=None,
        logger=SILENT,
        error_formatter=format_error,
        http_handler=EdgeHTTPHandler(edge, middleware=middleware),
        websocket_handler=EdgeWSHandler(edge),
        debug=False,
    )

    async def healthz(_request):
        return JSONResponse({"status": "ok"})

    async def readyz(_request):
        problems = {}
        for service in settings.gateway_services:
            try:
                await rpc.call(service, "health", principal=GATEWAY)
            except (ServiceUnavailable, NoAnswer) as exc:
                problems[service] = str(exc)
        if graphiql.missing() and settings.graphiql:
            problems["graphiql"] = "assets not installed (make setup)"
        try:
            await state["log"].ping()
        except Exception as exc:
            problems["gateway-db"] = type(exc).__name__
        status = 200 if not problems else 503
        return JSONResponse({"status": "ready" if not problems else "not ready", "problems": problems},
                            status_code=status)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        own = "log" not in state
        if own:
            state["log"] = AccessLog(settings)
        yield
        if own:
            await state["log"].close_client()
        rpc.close()

    routes = [Route("/healthz", healthz), Route("/readyz", readyz),
              Route("/graphql", graphql_app, methods=["GET", "HEAD", "POST", "OPTIONS", "PUT", "DELETE", "PATCH"]),
              WebSocketRoute("/graphql", graphql_app)]
    if settings.graphiql:
        routes.append(Route(graphiql.PREFIX + "{name}", graphiql.asset))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.rpc = rpc
    app.state.edge = edge
    outer = app
    if settings.graphql_cors_origins:
        outer = CORSMiddleware(app, allow_origins=list(settings.graphql_cors_origins), allow_methods=["POST"],
                               allow_headers=["Authorization", "Content-Type"], max_age=600)
    return TracingMiddleware(outer)
