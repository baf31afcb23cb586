"""``python -m gateway``: serve the GraphQL gateway with uvicorn on GATEWAY_HOST:GATEWAY_PORT."""
import sys

import uvicorn

from gateway.app import create_app
from kit import tracing
from kit.logs import configure as configure_logs
from kit.settings import SettingsError, load


def main() -> int:
    try:
        settings = load("gateway", keys=("principal_key",))  # the gateway holds no data keys
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 78
    configure_logs("gateway")
    tracing.setup("gateway", settings.trace_exporter)
    print(f"GraphiQL: http://{settings.gateway_host}:{settings.gateway_port}/graphql", flush=True)
    uvicorn.run(create_app(settings), host=settings.gateway_host, port=settings.gateway_port,
                log_level="warning", lifespan="on")
    tracing.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
