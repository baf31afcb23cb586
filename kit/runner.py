"""Start one nameko service with settings from the environment: ``python -m kit.runner services.grants.service``.

Settings are read and checked before anything connects, so a bad one stops the process with its name.
"""
import warnings

# nameko runs on eventlet; its deprecation notice is known and would repeat in every service log
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()  # noqa: E402 - must precede every other import that touches sockets or threads

import importlib  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

from nameko.runners import ServiceRunner  # noqa: E402

from kit import tracing  # noqa: E402
from kit.logs import configure as configure_logs  # noqa: E402
from kit.nameko_kit import SETTINGS_KEY  # noqa: E402
from kit.settings import SettingsError, forget_keys, keys_of, load  # noqa: E402

log = logging.getLogger("actionplan.runner")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m kit.runner <module with SERVICE>", file=sys.stderr)
        return 2
    module = importlib.import_module(argv[0])
    service_cls = module.SERVICE
    try:
        required = tuple(getattr(module, "REQUIRED_SETTINGS", ()))
        settings = load(service_cls.name, required=required, keys=keys_of(module))
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 78  # EX_CONFIG
    forget_keys()
    configure_logs(service_cls.name)
    tracing.setup(service_cls.name, settings.trace_exporter)
    config = {"AMQP_URI": settings.amqp_uri, SETTINGS_KEY: settings, "serializer": "json", "max_workers": 20}
    runner = ServiceRunner(config)
    runner.add_service(service_cls)

    def stop(*_):
        eventlet.spawn_n(runner.stop)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    runner.start()
    log.info("service %s started (database %s)", service_cls.name, settings.database)
    runner.wait()
    tracing.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
