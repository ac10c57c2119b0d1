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
"""

import re
import urllib.parse

import botocore.loaders


class Checker:
    def __init__(self, service):
        model = botocore.loaders.Loader().load_service_model(service, "service-2")
        if model["metadata"]["protocol"] != "rest-json":
            raise ValueError(f"{service} is not a REST-JSON service")
        self.service = service
        self.shapes = model["shapes"]
        self.routes = []
        for name, op in model["operations"].items():
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

    def answer(self, operation, status, body):
        """Violations of an answer to `operation`: status code and body."""
        op = self.operation_named(operation)
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

    def operation_named(self, name):
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

    def check(self, shape_name, value, where, skip_located=False):
        """Every way `value` breaks the shape `shape_name`."""
        shape = self.shapes[shape_name]
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
                    problems += self.check(members[member]["shape"], item, f"{where}.{member}")
            return problems
        if kind == "list":
            if not isinstance(value, list):
                bad(f"is {type(value).__name__}, not a list ({shape_name})")
                return problems
            self.bounds(shape, len(value), "items", bad)
            for i, item in enumerate(value):
                problems += self.check(shape["member"]["shape"], item, f"{where}[{i}]")
            return problems
        if kind == "map":
            if not isinstance(value, dict):
                bad(f"is {type(value).__name__}, not a map ({shape_name})")
                return problems
            self.bounds(shape, len(value), "entries", bad)
            for k, item in value.items():
                problems += self.check(shape["key"]["shape"], k, f"{where} key")
                problems += self.check(shape["value"]["shape"], item, f"{where}[{k}]")
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
