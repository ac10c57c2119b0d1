"""Loopback proxy between bedform's tests and moto_server.

It works around moto 5.2.5's deviations from AWS, each named where it is handled:
- Bedrock times come back as "2026-11-25 01:33:32"; AWS sends RFC 3339, which the
  Rust SDK requires. They are rewritten to "2026-11-25T01:33:32Z".
- S3 GetBucketVersioning of a never-versioned bucket answers with the root element
  <GetBucketVersioningResponse/>; AWS sends <VersioningConfiguration/>, and the SDK
  rejects any other root.
- GetModelCustomizationJob's outputModelName is "<jobName>-<customModelName>";
  AWS returns the customModelName the job was created with.
- moto has no provisioned throughput (HTTP 500): ListProvisionedModelThroughputs is
  answered with an empty list, as AWS answers for an account without any.

It also counts requests by operation (GET /__counts) for the tests.

Usage: python moto_proxy.py LISTEN_PORT MOTO_PORT
"""

import http.client
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LISTEN_PORT = int(sys.argv[1])
MOTO_PORT = int(sys.argv[2])
TIME = re.compile(rb'"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.\d+)?"')
COUNTS = {}
LOCK = threading.Lock()


def service_of(headers):
    auth = headers.get("Authorization", "")
    match = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", auth)
    return match.group(1) if match else "unknown"


def fix_output_model_name(data):
    try:
        job = json.loads(data)
    except ValueError:
        return data
    prefix = f"{job.get('jobName', '')}-"
    name = job.get("outputModelName", "")
    if name.startswith(prefix):
        job["outputModelName"] = name[len(prefix):]
    return json.dumps(job).encode()


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        service = service_of(self.headers)
        target = self.headers.get("X-Amz-Target") or ""
        operation = target.split(".")[-1] if target else f"{self.command} {self.path.split('?')[0]}"
        if self.path == "/__counts":
            with LOCK:
                return self.reply(200, json.dumps(COUNTS).encode(), "application/json")
        with LOCK:
            key = f"{service}:{operation}"
            COUNTS[key] = COUNTS.get(key, 0) + 1
        if service == "bedrock" and self.command == "GET" and self.path.startswith("/provisioned-model-throughputs"):
            return self.reply(200, b'{"provisionedModelSummaries": []}', "application/json")
        conn = http.client.HTTPConnection("127.0.0.1", MOTO_PORT, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        headers["Host"] = f"127.0.0.1:{MOTO_PORT}"
        headers["Content-Length"] = str(len(body))
        conn.request(self.command, self.path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        if service == "bedrock":
            data = TIME.sub(rb'"\1T\2Z"', data)
        if service == "bedrock" and b'"outputModelName"' in data:
            data = fix_output_model_name(data)
        if service == "s3" and b"<GetBucketVersioningResponse" in data:
            data = data.replace(b"GetBucketVersioningResponse", b"VersioningConfiguration")
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() in ("content-length", "transfer-encoding", "connection", "server", "date"):
                continue
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        conn.close()

    def reply(self, status, data, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = handle_any


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", LISTEN_PORT), Proxy)
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()
