"""A partner-facing listener in front of the local broker, so older librdkafka clients (Debian's kcat 1.7.1 with
librdkafka 2.0.2) can read the partner topics as they would from a real Kafka cluster.

Why: Tansu 0.6.0 answers ApiVersions v3 with every tagged field written out, also at its default value
(SupportedFeatures empty, FinalizedFeaturesEpoch -1, FinalizedFeatures empty, ZkMigrationReady false). Apache Kafka
leaves default-valued tagged fields out, and librdkafka 2.0.2 fails to skip these ("Read underflow" at the end of
the ApiVersion response, then it gives up on the broker). Newer librdkafka (2.16) and kafka-python read them fine.

What it does, and nothing more: it forwards every Kafka frame both ways unchanged, except
* ApiVersions v3+ responses: the trailing tagged fields are dropped (a Kafka broker sends none at these values);
* Metadata and FindCoordinator responses: a broker or coordinator port equal to the broker's is replaced by this
  listener's port (same width, in place), so the client's later connections come back through here.
It is a development aid of the embedded stack (deploy/local/stack.py starts it); production clients talk to Kafka.

Run: python deploy/local/kafka_compat.py --port 19093 --upstream-port 19092
"""
from __future__ import annotations

import argparse
import asyncio
import signal
import struct

API_VERSIONS, METADATA, FIND_COORDINATOR = 18, 3, 10


def _uvarint(buf: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, i
        shift += 7


def _skip_tags(buf: bytes, i: int) -> int:
    count, i = _uvarint(buf, i)
    for _ in range(count):
        _, i = _uvarint(buf, i)
        size, i = _uvarint(buf, i)
        i += size
    return i


def _skip_string(buf: bytes, i: int, compact: bool) -> int:
    if compact:
        size, i = _uvarint(buf, i)
        return i + max(size - 1, 0)
    (size,) = struct.unpack_from(">h", buf, i)
    return i + 2 + max(size, 0)


def api_versions(frame: bytes, version: int) -> bytes:
    """Drop the body's tagged fields of an ApiVersions v3+ response (its header is v0 in every version)."""
    if version < 3:
        return frame
    i = 4 + 2  # correlation id, error code
    count, i = _uvarint(frame, i)
    for _ in range(max(count - 1, 0)):
        i = _skip_tags(frame, i + 6)  # api key, min and max version
    i += 4  # throttle time
    return frame[:i] + b"\x00"


def _port_at(frame: bytearray, i: int, old: int, new: int) -> int:
    (port,) = struct.unpack_from(">i", frame, i)
    if port == old:
        struct.pack_into(">i", frame, i, new)
    return i + 4


def metadata(frame: bytes, version: int, old: int, new: int) -> bytes:
    out = bytearray(frame)
    flexible = version >= 9
    i = 4
    if flexible:
        i = _skip_tags(out, i)  # response header v1
    if version >= 3:
        i += 4  # throttle time
    if flexible:
        count, i = _uvarint(out, i)
        count -= 1
    else:
        (count,) = struct.unpack_from(">i", out, i)
        i += 4
    for _ in range(max(count, 0)):
        i += 4  # node id
        i = _skip_string(out, i, flexible)
        i = _port_at(out, i, old, new)
        if version >= 1:
            i = _skip_string(out, i, flexible)  # rack
        if flexible:
            i = _skip_tags(out, i)
    return bytes(out)


def find_coordinator(frame: bytes, version: int, old: int, new: int) -> bytes:
    out = bytearray(frame)
    flexible = version >= 3
    i = 4
    if flexible:
        i = _skip_tags(out, i)
    if version >= 1:
        i += 4  # throttle time
    if version <= 3:
        i += 2  # error code
        if version >= 1:
            i = _skip_string(out, i, flexible)  # error message
        i += 4  # node id
        i = _skip_string(out, i, flexible)
        _port_at(out, i, old, new)
        return bytes(out)
    count, i = _uvarint(out, i)
    for _ in range(max(count - 1, 0)):
        i = _skip_string(out, i, True)  # key
        i += 4
        i = _skip_string(out, i, True)
        i = _port_at(out, i, old, new)
        i += 2
        i = _skip_string(out, i, True)
        i = _skip_tags(out, i)
    return bytes(out)


async def _frames(reader: asyncio.StreamReader):
    while True:
        head = await reader.readexactly(4)
        (size,) = struct.unpack(">i", head)
        yield await reader.readexactly(size)


class Compat:
    def __init__(self, host: str, upstream_port: int, port: int) -> None:
        self.host, self.upstream_port, self.port = host, upstream_port, port

    def rewrite(self, frame: bytes, request: tuple[int, int] | None) -> bytes:
        if request is None:
            return frame
        key, version = request
        try:
            if key == API_VERSIONS:
                return api_versions(frame, version)
            if key == METADATA:
                return metadata(frame, version, self.upstream_port, self.port)
            if key == FIND_COORDINATOR:
                return find_coordinator(frame, version, self.upstream_port, self.port)
        except (IndexError, struct.error):
            pass  # a shape this listener does not know: pass it on as the broker sent it
        return frame

    async def serve(self, client_reader, client_writer) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(self.host, self.upstream_port)
        except OSError:
            client_writer.close()
            return
        pending: dict[int, tuple[int, int]] = {}

        async def requests():
            async for frame in _frames(client_reader):
                key, version, correlation = struct.unpack_from(">hhi", frame, 0)
                pending[correlation] = (key, version)
                upstream_writer.write(struct.pack(">i", len(frame)) + frame)
                await upstream_writer.drain()

        async def responses():
            async for frame in _frames(upstream_reader):
                (correlation,) = struct.unpack_from(">i", frame, 0)
                frame = self.rewrite(frame, pending.pop(correlation, None))
                client_writer.write(struct.pack(">i", len(frame)) + frame)
                await client_writer.drain()

        tasks = [asyncio.ensure_future(requests()), asyncio.ensure_future(responses())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for writer in (client_writer, upstream_writer):
                writer.close()


async def main(host: str, port: int, upstream_port: int) -> None:
    compat = Compat(host, upstream_port, port)
    server = await asyncio.start_server(compat.serve, host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream-port", type=int, required=True)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.host, arguments.port, arguments.upstream_port))
