"""GraphiQL served by the gateway from the project's own installed files (``gateway/static``), never from a CDN.

``make setup`` installs GraphiQL, React and ReactDOM with npm into ``gateway/static/node_modules`` (versions pinned
in ``gateway/static/package.json`` and its lock file); the gateway serves exactly the files in ``ASSETS`` and
nothing else from there. The page has no inline script, and its Content-Security-Policy lets it load scripts, styles
and fonts only from the gateway and talk only to the gateway. On when GRAPHIQL=on (the local default), off in the
production configuration.
"""
from __future__ import annotations

from pathlib import Path

from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response

STATIC = Path(__file__).resolve().parent / "static"
MODULES = STATIC / "node_modules"
PREFIX = "/graphiql/"

# URL name -> file; the only files served
ASSETS: dict[str, tuple[Path, str]] = {
    "react.production.min.js": (MODULES / "react/umd/react.production.min.js", "text/javascript"),
    "react-dom.production.min.js": (MODULES / "react-dom/umd/react-dom.production.min.js", "text/javascript"),
    "graphiql.min.js": (MODULES / "graphiql/graphiql.min.js", "text/javascript"),
    "graphiql.min.css": (MODULES / "graphiql/graphiql.min.css", "text/css"),
    "graphiql-init.js": (STATIC / "graphiql-init.js", "text/javascript"),
}

# 'unsafe-inline' for styles only: GraphiQL and CodeMirror set style attributes; no script runs but the files above
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "X-Frame-Options": "DENY", "Cross-Origin-Opener-Policy": "same-origin",
           "Cross-Origin-Resource-Policy": "same-origin"}

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="stylesheet" href="{prefix}graphiql.min.css">
  <style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL...</div>
  <script src="{prefix}react.production.min.js"></script>
  <script src="{prefix}react-dom.production.min.js"></script>
  <script src="{prefix}graphiql.min.js"></script>
  <script src="{prefix}graphiql-init.js"></script>
</body>
</html>
"""
# the inline <style> above needs 'unsafe-inline' in style-src (granted); scripts are all files


def missing() -> list[str]:
    """Asset files that are not installed (``make setup`` installs them)."""
    return [name for name, (path, _) in ASSETS.items() if not path.is_file()]


def page(title: str = "actionplan GraphQL") -> Response:
    if missing():
        return JSONResponse({"errors": [{"message": "GraphiQL's files are not installed: run `make setup`",
                                         "extensions": {"code": "graphiql_not_installed"}}]}, status_code=503)
    return HTMLResponse(PAGE.format(title=title, prefix=PREFIX), headers={**HEADERS, "Cache-Control": "no-store"})


async def asset(request) -> Response:
    name = request.path_params["name"]
    found = ASSETS.get(name)
    if found is None or not found[0].is_file():
        return JSONResponse({"errors": [{"message": "not found", "extensions": {"code": "not_found"}}]},
                            status_code=404)
    path, media_type = found
    return FileResponse(path, media_type=media_type, headers={**HEADERS, "Cache-Control": "public, max-age=3600"})
