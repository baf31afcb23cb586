"""The partner listener's rewrites, on frames as the local broker sends them (captured from Tansu 0.6.0)."""
from __future__ import annotations

import struct

from deploy.local.kafka_compat import api_versions, find_coordinator, metadata

# ApiVersions v3 response tail: throttle 0, then 4 tagged fields written at their defaults (the part librdkafka
# 2.0.2 cannot skip): SupportedFeatures [], FinalizedFeaturesEpoch -1, FinalizedFeatures [], ZkMigrationReady false
TAGS = bytes.fromhex("040001010108ffffffffffffffff020101030100")


def versions_frame(tags: bytes) -> bytes:
    keys = [(0, 0, 9), (3, 0, 12), (18, 0, 3)]
    body = struct.pack(">ih", 7, 0) + bytes([len(keys) + 1])
    for key in keys:
        body += struct.pack(">hhh", *key) + b"\x00"
    return body + struct.pack(">i", 0) + tags


def test_api_versions_v3_loses_its_default_valued_tags_and_nothing_else():
    rewritten = api_versions(versions_frame(TAGS), 3)
    assert rewritten == versions_frame(b"\x00")
    assert api_versions(versions_frame(TAGS), 2) == versions_frame(TAGS)  # v0-2 have no tagged fields


def test_metadata_v12_advertises_the_listener_port_for_the_broker_port_only():
    host = b"127.0.0.1"
    broker = struct.pack(">i", 111) + bytes([len(host) + 1]) + host + struct.pack(">i", 19092) + b"\x00" + b"\x00"
    other = struct.pack(">i", 112) + bytes([len(host) + 1]) + host + struct.pack(">i", 29092) + b"\x00" + b"\x00"
    frame = struct.pack(">i", 9) + b"\x00" + struct.pack(">i", 0) + bytes([3]) + broker + other + b"rest"
    rewritten = metadata(frame, 12, 19092, 19093)
    assert rewritten == frame.replace(struct.pack(">i", 19092), struct.pack(">i", 19093), 1)
    assert struct.pack(">i", 29092) in rewritten and len(rewritten) == len(frame)


def test_metadata_v1_and_find_coordinator_v0_are_rewritten_in_place():
    host = b"localhost"
    broker = struct.pack(">ih", 1, len(host)) + host + struct.pack(">i", 19092) + struct.pack(">h", -1)
    frame = struct.pack(">i", 3) + struct.pack(">i", 1) + broker
    assert metadata(frame, 1, 19092, 19093).endswith(struct.pack(">i", 19093) + struct.pack(">h", -1))
    coordinator = struct.pack(">ihih", 4, 0, 1, len(host)) + host + struct.pack(">i", 19092)
    assert find_coordinator(coordinator, 0, 19092, 19093).endswith(struct.pack(">i", 19093))
