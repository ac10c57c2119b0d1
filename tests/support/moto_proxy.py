"""Loopback proxy between bedform's tests and moto_server.

It works around moto 5.2.5's deviations from AWS, each named where it is handled:
- Bedrock times come back as "2026-11-25 01:33:32"; AWS sends RFC 3339, which the
  Rust SDK requires. They are rewritten to "2026-11-25T01:33:32Z".
- S3 GetBucketVersioning of a never-versioned bucket answers with the root element
  <GetBucketVersioningResponse/>; AWS sends <VersioningConfiguration/>, and the SDK
  rejects any other root.
- GetModelCustomizationJob's outputModelName is "<jobName>-<customModelName>";
  AWS returns the customModelName the job was created with.
- moto has no provisioned throughput, model agreements, model availability or
  use-case form (HTTP 500). Those operations are answered by a small in-memory
  stub below (`Stub`), which follows the API's shapes and rules: unique names,
  client request tokens, Creating then InService, commitment expiry (deleting
  before it is a ConflictException), pages of two summaries (so pagination is
  exercised), offers whose tokens change on every listing, tags on throughput ARNs.

It also counts requests by operation (GET /__counts) for the tests.

Usage: python moto_proxy.py LISTEN_PORT MOTO_PORT
"""

import http.client
import json
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LISTEN_PORT = int(sys.argv[1])
MOTO_PORT = int(sys.argv[2])
TIME = re.compile(rb'"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.\d+)?"')
COUNTS = {}
LOCK = threading.Lock()


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class StubError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Stub:
    """What moto lacks of Bedrock, kept in memory for the life of the proxy."""

    PAGE = 2
    ACCOUNT = "123456789012"
    REGION = "us-east-1"

    def __init__(self):
        self.throughputs = {}  # name -> dict
        self.tokens = {}  # clientRequestToken -> name
        self.tags = {}  # arn -> {key: value}
        self.agreements = set()
        self.offer_serial = 0
        self.use_case_form = None
        self.serial = 0

    def find(self, ident):
        ident = urllib.parse.unquote(ident)
        for t in self.throughputs.values():
            if ident in (t["provisionedModelName"], t["provisionedModelArn"]):
                return t
        raise StubError(404, "ResourceNotFoundException", f"Provisioned model {ident} not found")

    def refresh(self, t):
        if t["status"] in ("Creating", "Updating") and time.time() - t["changed"] >= 1.0:
            t["status"] = "InService"
            t["modelArn"] = t["desiredModelArn"]
            t["modelUnits"] = t["desiredModelUnits"]

    def model_arn(self, model_id):
        if model_id.startswith("arn:"):
            return model_id
        return f"arn:aws:bedrock:{self.REGION}::foundation-model/{model_id}"

    def summary(self, t):
        self.refresh(t)
        out = {k: v for k, v in t.items() if k not in ("changed", "token", "created")}
        out["creationTime"] = iso(t["created"])
        out["lastModifiedTime"] = iso(t["changed"])
        return out

    def handle(self, method, path, query, body):
        """Returns (status, json) for the operations it serves, or None."""
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["provisioned-model-throughput"] and method == "POST" and len(parts) == 1:
            return self.create(body)
        if parts[:1] == ["provisioned-model-throughput"] and len(parts) == 2:
            t = self.find(parts[1])
            if method == "GET":
                return 200, self.summary(t)
            if method == "PATCH":
                return self.update(t, body)
            if method == "DELETE":
                return self.delete(t)
        if parts == ["provisioned-model-throughputs"] and method == "GET":
            return self.list(query)
        if parts[:1] == ["list-foundation-model-agreement-offers"] and method == "GET":
            model = urllib.parse.unquote(parts[1])
            self.offer_serial += 1
            return 200, {"modelId": model, "offers": [{"offerId": "public-offer", "offerToken": f"{model}|{self.offer_serial}"}]}
        if parts == ["create-foundation-model-agreement"] and method == "POST":
            if not body.get("offerToken", "").startswith(body.get("modelId", "") + "|"):
                raise StubError(400, "ValidationException", "the offer token is not an offer for this model")
            self.agreements.add(body["modelId"])
            return 200, {"modelId": body["modelId"]}
        if parts == ["delete-foundation-model-agreement"] and method == "POST":
            if body.get("modelId") not in self.agreements:
                raise StubError(404, "ResourceNotFoundException", "no agreement for this model")
            self.agreements.discard(body["modelId"])
            return 200, {}
        if parts[:1] == ["foundation-model-availability"] and method == "GET":
            model = urllib.parse.unquote(parts[1])
            agreed = model in self.agreements or model.startswith("amazon.")
            return 200, {
                "modelId": model,
                "agreementAvailability": {"status": "AVAILABLE" if agreed else "NOT_AVAILABLE"},
                "authorizationStatus": "AUTHORIZED",
                "entitlementAvailability": "AVAILABLE" if agreed else "NOT_AVAILABLE",
                "regionAvailability": "AVAILABLE",
            }
        if parts == ["use-case-for-model-access"]:
            if method == "POST":
                self.use_case_form = body.get("formData")
                return 201, {}
            if self.use_case_form is None:
                raise StubError(404, "ResourceNotFoundException", "no use-case form on file")
            return 200, {"formData": self.use_case_form}
        if parts and parts[0] in ("tagResource", "untagResource", "listTagsForResource"):
            arn = body.get("resourceARN", "")
            if ":provisioned-model/" not in arn:
                return None
            if not any(t["provisionedModelArn"] == arn for t in self.throughputs.values()):
                raise StubError(404, "ResourceNotFoundException", f"{arn} not found")
            tags = self.tags.setdefault(arn, {})
            if parts[0] == "tagResource":
                tags.update({t["key"]: t["value"] for t in body.get("tags", [])})
            elif parts[0] == "untagResource":
                for key in body.get("tagKeys", []):
                    tags.pop(key, None)
            else:
                return 200, {"tags": [{"key": k, "value": v} for k, v in sorted(tags.items())]}
            return 200, {}
        return None

    def create(self, body):
        token = body.get("clientRequestToken")
        name = body["provisionedModelName"]
        if token and token in self.tokens:
            if self.tokens[token] == name:
                return 201, {"provisionedModelArn": self.throughputs[name]["provisionedModelArn"]}
            raise StubError(409, "ConflictException", "the client request token was used for another request")
        if name in self.throughputs:
            raise StubError(409, "ConflictException", f"Provisioned model {name} already exists")
        if body.get("modelUnits", 0) < 1:
            raise StubError(400, "ValidationException", "modelUnits must be at least 1")
        self.serial += 1
        now = time.time()
        arn = f"arn:aws:bedrock:{self.REGION}:{self.ACCOUNT}:provisioned-model/{self.serial:012d}"
        model = self.model_arn(body["modelId"])
        t = {
            "provisionedModelName": name,
            "provisionedModelArn": arn,
            "modelArn": model,
            "desiredModelArn": model,
            "foundationModelArn": model if ":foundation-model/" in model else "",
            "modelUnits": body["modelUnits"],
            "desiredModelUnits": body["modelUnits"],
            "status": "Creating",
            "created": now,
            "changed": now,
        }
        months = {"OneMonth": 1, "SixMonths": 6}.get(body.get("commitmentDuration"))
        if months:
            t["commitmentDuration"] = body["commitmentDuration"]
            t["commitmentExpirationTime"] = iso(now + months * 30 * 86400)
        self.throughputs[name] = t
        if token:
            self.tokens[token] = name
        self.tags[arn] = {x["key"]: x["value"] for x in body.get("tags", [])}
        return 201, {"provisionedModelArn": arn}

    def update(self, t, body):
        new_name = body.get("desiredProvisionedModelName")
        if new_name and new_name != t["provisionedModelName"]:
            if new_name in self.throughputs:
                raise StubError(409, "ConflictException", f"Provisioned model {new_name} already exists")
            del self.throughputs[t["provisionedModelName"]]
            t["provisionedModelName"] = new_name
            self.throughputs[new_name] = t
        if body.get("desiredModelId"):
            model = self.model_arn(body["desiredModelId"])
            if ":custom-model/" not in model:
                raise StubError(400, "ValidationException", "only a custom model can be set on an existing throughput")
            t["desiredModelArn"] = model
            t["status"] = "Updating"
            t["changed"] = time.time()
        return 200, {}

    def delete(self, t):
        expiry = t.get("commitmentExpirationTime")
        if expiry and expiry > iso(time.time()):
            raise StubError(409, "ConflictException", f"The provisioned model is under commitment until {expiry} and cannot be deleted")
        del self.throughputs[t["provisionedModelName"]]
        return 200, {}

    def list(self, query):
        names = sorted(self.throughputs)
        start = int(query.get("nextToken", ["0"])[0] or 0)
        page = names[start:start + self.PAGE]
        out = {"provisionedModelSummaries": [self.summary(self.throughputs[n]) for n in page]}
        if start + self.PAGE < len(names):
            out["nextToken"] = str(start + self.PAGE)
        return 200, out


STUB = Stub()
STUB_LOCK = threading.Lock()


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
        if service == "bedrock":
            parsed = urllib.parse.urlsplit(self.path)
            try:
                payload = json.loads(body) if body else {}
            except ValueError:
                payload = {}
            try:
                with STUB_LOCK:
                    answer = STUB.handle(self.command, parsed.path, urllib.parse.parse_qs(parsed.query), payload)
            except StubError as e:
                return self.reply(e.status, json.dumps({"message": e.message}).encode(), "application/json", e.code)
            if answer is not None:
                status, data = answer
                return self.reply(status, json.dumps(data).encode(), "application/json")
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

    def reply(self, status, data, content_type, error_type=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if error_type:
            self.send_header("x-amzn-ErrorType", error_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = handle_any


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", LISTEN_PORT), Proxy)
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()
