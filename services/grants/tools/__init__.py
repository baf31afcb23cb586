"""Command-line helpers of the grants service (none yet): a helper lives here, never in the service's modules, so
importing the service never pulls in argument parsing or a script's side effects."""
