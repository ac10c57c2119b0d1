"""Checks requests and answers against botocore's service models.

The stub in `moto_proxy.py` stands in for AWS where moto lacks an operation, so
what it accepts and what it answers must be what AWS would: this module holds
both to the `service-2.json` of botocore (installed with moto), the same model
the AWS SDKs are generated from.

`Checker.request(...)` takes a REST-JSON request as it arrived (method, path,
query, body), finds the operation by its HTTP binding, assembles its input from
the path, query string and body as the binding says, and returns the operation's
name with every way the input breaks the input shape: a required member missing,
a member the shape does not have, a wrong type, a value outside an enum, a length
or value outside `min`/`max`, a string the pattern does not match.
`Checker.answer(...)` does the same for the answer's status code and body
against the output shape.

JSON 1.1 services (`awsJson1_1`, such as `pricing`) have no HTTP bindings: every
request is a POST to `/` whose `X-Amz-Target` header names the operation
(`AWSPriceListService.GetProducts`) and whose body, sent as
`application/x-amz-json-1.1`, is the whole input. `Checker.request_json(...)` finds
the operation by its target and holds the body to the input shape as above, at every
depth (a member a nested structure does not have is a violation too), with the
protocol's own rules: timestamps are epoch seconds, and a string the model marks
`jsonvalue` (`GetProducts`'s `PriceList` items) must hold a JSON document. Their
answers are 200, errors `{"__type": CODE, "Message": ...}` with status 400, or 500
for an error the model calls a fault; `Checker.answer(...)` holds errors to that and
to the error's own shape.
"""

import json
import re
import urllib.parse

import botocore.loaders


class Checker:
    def __init__(self, service):
        model = botocore.loaders.Loader().load_service_model(service, "service-2")
        self.protocol = model["metadata"]["protocol"]
        if self.protocol not in ("rest-json", "json"):
            raise ValueError(f"{service} is neither a REST-JSON nor a JSON 1.1 service")
        self.service = service
        self.shapes = model["shapes"]
        self.operations = model["operations"]
        self.target_prefix = model["metadata"].get("targetPrefix", "")
        self.json_version = model["metadata"].get("jsonVersion", "1.1")
        self.routes = []
        for name, op in model["operations"].items():
            if self.protocol == "json":
                continue
            http = op["http"]
            path, _, fixed_query = http["requestUri"].partition("?")
            names = []
            pattern = ""
            for literal, label in re.findall(r"([^{]*)(?:\{([^}]*)\})?", path):
                pattern += re.escape(literal)
                if label:
                    greedy = label.endswith("+")
                    names.append(label.rstrip("+"))
                    pattern += "(.+)" if greedy else "([^/]+)"
            self.routes.append(
                (http["method"], re.compile(f"^{pattern}$"), names, fixed_query, name, op)
            )

    def operation(self, method, path):
        """(name, operation, uri labels) of the operation bound to the request."""
        found = []
        for verb, pattern, names, fixed_query, name, op in self.routes:
            m = pattern.match(path)
            if verb == method and m:
                labels = {n: urllib.parse.unquote(v) for n, v in zip(names, m.groups())}
                # The most literal binding wins (`/a/b` over `/a/{x}`).
                found.append((len(names), name, op, labels))
        if not found:
            return None
        found.sort(key=lambda f: f[0])
        _, name, op, labels = found[0]
        return name, op, labels

    def request(self, method, path, query, body):
        """(operation name, violations) of a request; (None, [why]) if no
        operation of the service is bound to it."""
        match = self.operation(method, path)
        if match is None:
            return None, [f"no {self.service} operation is {method} {path}"]
        name, op, labels = match
        shape_name = op.get("input", {}).get("shape")
        if not shape_name:
            return name, []
        shape = self.shapes[shape_name]
        members = shape.get("members", {})
        value = {}
        for member, ref in members.items():
            location = ref.get("location")
            key = ref.get("locationName", member)
            if location == "uri" and key in labels:
                value[member] = self.scalar(ref, labels[key])
            elif location == "querystring" and key in query:
                target = self.shapes[ref["shape"]]
                if target["type"] == "list":
                    value[member] = [self.scalar(target["member"], v) for v in query[key]]
                else:
                    value[member] = self.scalar(ref, query[key][0])
        problems = []
        payload = shape.get("payload")
        if payload:
            if body is not None:
                value[payload] = body
        elif isinstance(body, dict):
            in_body = {m for m, r in members.items() if r.get("location") is None}
            for member in sorted(set(body) - in_body):
                problems.append(f"{name}: `{member}` is not a member of {shape_name}")
            value.update({m: v for m, v in body.items() if m in in_body})
        elif body is not None:
            problems.append(f"{name}: the body is not a JSON object")
        problems += self.check(shape_name, value, name)
        return name, problems

    def request_json(self, method, path, target, content_type, body):
        """(operation name, violations) of a JSON 1.1 request as it arrived: its
        method, path, `X-Amz-Target` and `Content-Type` headers and raw body;
        (None, [why]) if the target names no operation of the service."""
        prefix, _, name = (target or "").rpartition(".")
        op = self.operations.get(name) if prefix == self.target_prefix else None
        if op is None:
            return None, [f"no {self.service} operation has the target {target!r} (expected {self.target_prefix}.OPERATION)"]
        problems = []
        http = op.get("http", {"method": "POST", "requestUri": "/"})
        if method != http["method"] or urllib.parse.urlsplit(path).path != http["requestUri"]:
            problems.append(f"{name}: sent as {method} {path}; the API takes {http['method']} {http['requestUri']}")
        expected = f"application/x-amz-json-{self.json_version}"
        if (content_type or "").split(";")[0].strip().lower() != expected:
            problems.append(f"{name}: Content-Type is {content_type!r}, not {expected}")
        if not body:
            problems.append(f"{name}: the body is empty; a JSON 1.1 request carries a JSON object (`{{}}` at least)")
            value = {}
        else:
            try:
                value = json.loads(body)
            except ValueError as e:
                return name, problems + [f"{name}: the body is not JSON ({e})"]
        if not isinstance(value, dict):
            return name, problems + [f"{name}: the body is not a JSON object"]
        shape_name = op.get("input", {}).get("shape")
        if not shape_name:
            if value:
                problems.append(f"{name}: the operation takes no input, the body has {sorted(value)}")
            return name, problems
        problems += self.check(shape_name, value, name, strict=True)
        return name, problems

    def answer(self, operation, status, body):
        """Violations of an answer to `operation`: status code and body."""
        op = self.operation_named(operation)
        if self.protocol == "json":
            return self.answer_json(operation, op, status, body)
        problems = []
        if 200 <= status < 300:
            expected = op["http"].get("responseCode", 200)
            if status != expected:
                problems.append(f"{operation}: answered {status}, the API answers {expected}")
            shape_name = op.get("output", {}).get("shape")
            if shape_name:
                shape = self.shapes[shape_name]
                body_members = {
                    m for m, r in shape.get("members", {}).items() if r.get("location") is None
                }
                value = {k: v for k, v in (body or {}).items()}
                unknown = sorted(set(value) - body_members)
                problems += [f"{operation} answer: `{k}` is not a member of {shape_name}" for k in unknown]
                # Members bound to headers are not in the body: not required there.
                problems += self.check(shape_name, value, f"{operation} answer", skip_located=True)
        else:
            code = (body or {}).get("__type") or ""
            errors = {e["shape"] for e in op.get("errors", [])}
            if code and code not in errors:
                problems.append(f"{operation}: answered {code}, which is not one of its errors {sorted(errors)}")
        return problems

    def answer_json(self, operation, op, status, body):
        """Violations of a JSON 1.1 answer: 200 and the output shape, or an error
        the operation has, with its status and its shape's members."""
        problems = []
        if not isinstance(body, dict):
            return [f"{operation} answer: the body is not a JSON object"]
        if 200 <= status < 300:
            if status != 200:
                problems.append(f"{operation}: answered {status}, JSON 1.1 answers 200")
            shape_name = op.get("output", {}).get("shape")
            if shape_name:
                problems += self.check(shape_name, body, f"{operation} answer", strict=True)
            elif body:
                problems.append(f"{operation} answer: the operation has no output, the body has {sorted(body)}")
            return problems
        code = str(body.get("__type") or "").rpartition("#")[2]
        errors = {e["shape"] for e in op.get("errors", [])}
        if not code:
            return [f"{operation}: an error answer without `__type`"]
        if code not in errors:
            return [f"{operation}: answered {code}, which is not one of its errors {sorted(errors)}"]
        shape = self.shapes[code]
        expected = shape.get("error", {}).get("httpStatusCode") or (500 if shape.get("fault") else 400)
        if status != expected:
            problems.append(f"{operation}: {code} answered with {status}, the API answers {expected}")
        rest = {k: v for k, v in body.items() if k != "__type"}
        problems += self.check(code, rest, f"{operation} {code}", strict=True)
        return problems

    def operation_named(self, name):
        if self.protocol == "json":
            return self.operations[name]
        for route in self.routes:
            if route[4] == name:
                return route[5]
        raise KeyError(name)

    def scalar(self, ref, text):
        """A URI or query-string value in its shape's type."""
        kind = self.shapes[ref["shape"]]["type"]
        try:
            if kind in ("integer", "long"):
                return int(text)
            if kind in ("float", "double"):
                return float(text)
            if kind == "boolean":
                return {"true": True, "false": False}[text]
        except (ValueError, KeyError):
            return text
        return text

    def check(self, shape_name, value, where, skip_located=False, strict=False, ref=None):
        """Every way `value` breaks the shape `shape_name` (reached through the
        member reference `ref`, if any). `strict`: a member a structure does not
        have is a violation at every depth, not only at the top."""
        shape = self.shapes[shape_name]
        ref = ref or {}
        kind = shape["type"]
        problems = []

        def bad(message):
            problems.append(f"{where}: {message}")

        if kind == "structure":
            if not isinstance(value, dict):
                bad(f"is {type(value).__name__}, not a {shape_name} structure")
                return problems
            members = shape.get("members", {})
            for member in shape.get("required", []):
                if skip_located and members.get(member, {}).get("location"):
                    continue
                if value.get(member) is None:
                    bad(f"required member `{member}` of {shape_name} is missing")
            if shape.get("union"):
                present = [k for k in value if value[k] is not None]
                if len(present) != 1:
                    bad(f"{shape_name} is a union: exactly one member, not {present}")
            for member, item in value.items():
                if member in members and item is not None:
                    problems += self.check(
                        members[member]["shape"], item, f"{where}.{member}", strict=strict, ref=members[member]
                    )
                elif strict and member not in members:
                    bad(f"`{member}` is not a member of {shape_name}")
            return problems
        if kind == "list":
            if not isinstance(value, list):
                bad(f"is {type(value).__name__}, not a list ({shape_name})")
                return problems
            self.bounds(shape, len(value), "items", bad)
            for i, item in enumerate(value):
                problems += self.check(shape["member"]["shape"], item, f"{where}[{i}]", strict=strict, ref=shape["member"])
            return problems
        if kind == "map":
            if not isinstance(value, dict):
                bad(f"is {type(value).__name__}, not a map ({shape_name})")
                return problems
            self.bounds(shape, len(value), "entries", bad)
            for k, item in value.items():
                problems += self.check(shape["key"]["shape"], k, f"{where} key", strict=strict, ref=shape["key"])
                problems += self.check(shape["value"]["shape"], item, f"{where}[{k}]", strict=strict, ref=shape["value"])
            return problems
        if kind == "string":
            if not isinstance(value, str):
                bad(f"is {type(value).__name__}, not a string ({shape_name})")
                return problems
            if "enum" in shape and value not in shape["enum"]:
                bad(f"`{value}` is not one of {shape['enum']} ({shape_name})")
            self.bounds(shape, len(value), "characters", bad)
            pattern = shape.get("pattern")
            if pattern:
                try:
                    # AWS validates the whole value (its messages say "Member must
                    # satisfy regular expression pattern"); patterns meant to match
                    # inside a value say so with `.*`.
                    matched = re.fullmatch(pattern, value) is not None
                except re.error:
                    matched = True
                if not matched:
                    bad(f"`{value}` does not match the pattern of {shape_name}: {pattern}")
            if ref.get("jsonvalue") or shape.get("jsonvalue"):
                # The string carries a JSON document (the SDKs hand it over as text).
                try:
                    json.loads(value)
                except ValueError as e:
                    bad(f"is not a JSON document, which {shape_name} holds ({e})")
            return problems
        if kind in ("integer", "long"):
            if isinstance(value, bool) or not isinstance(value, int):
                bad(f"is {value!r}, not an integer ({shape_name})")
                return problems
            self.bounds(shape, value, "", bad)
            return problems
        if kind in ("float", "double"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                bad(f"is {value!r}, not a number ({shape_name})")
                return problems
            self.bounds(shape, value, "", bad)
            return problems
        if kind == "boolean":
            if not isinstance(value, bool):
                bad(f"is {value!r}, not a boolean ({shape_name})")
            return problems
        if kind == "timestamp":
            fmt = ref.get("timestampFormat") or shape.get("timestampFormat")
            if self.protocol == "json" and fmt in (None, "unixTimestamp"):
                # JSON 1.1 sends timestamps as epoch seconds unless the model says otherwise.
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    bad(f"is {value!r}, not epoch seconds ({shape_name})")
                return problems
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return problems
            if not isinstance(value, str) or not re.match(
                r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", value
            ):
                bad(f"`{value}` is not a timestamp the SDKs read ({shape_name})")
            return problems
        # blob, document: any JSON value.
        return problems

    @staticmethod
    def bounds(shape, n, unit, bad):
        low, high = shape.get("min"), shape.get("max")
        what = f"{n} {unit}".strip()
        if low is not None and n < low:
            bad(f"{what} is under the minimum {low}")
        if high is not None and n > high:
            bad(f"{what} is over the maximum {high}")
