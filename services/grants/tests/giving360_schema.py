"""The 360Giving JSON Schemas from ../shared/standards, made usable offline by jsonschema.

The shared files are read where they lie beside the repository (ACTIONPLAN_SHARED overrides the place).
"""
import json
import os
import re
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SHARED = Path(os.environ.get("ACTIONPLAN_SHARED", Path(__file__).resolve().parents[3].parent / "shared"))
STANDARDS = SHARED / "standards" / "360giving"
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def validator() -> Draft202012Validator:
    grant_schema = json.loads((STANDARDS / "360-giving-schema.json").read_text())
    package_schema = json.loads((STANDARDS / "360-giving-package-schema.json").read_text())
    # their "$schema" is http://, not the https:// dialect id referencing knows: name the draft explicitly
    resource = Resource(contents=grant_schema, specification=DRAFT202012)
    # the 1.4.3 package schema refers to the grant schema by its 1.4.2 URL: serve the local file under both
    ref = package_schema["properties"]["grants"]["items"]["$ref"]
    registry = Registry().with_resources([(grant_schema["$id"], resource), (ref, resource)])
    # the schema's oneOf(format date-time | date pattern) only works when date-time is really checked;
    # jsonschema checks it only with an optional package, so give it a strict RFC 3339 check here
    formats = FormatChecker()
    formats.checks("date-time")(lambda value: not isinstance(value, str) or bool(_RFC3339.fullmatch(value)))
    return Draft202012Validator(package_schema, registry=registry, format_checker=formats)
