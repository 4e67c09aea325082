"""Zitadel's API surface read from ../shared/specs/zitadel-api-descriptors.json (in place).

Gives the REST routes (grpc-gateway bindings) of the v1 services and a strict validator of
JSON request/response bodies against the protobuf messages: unknown fields, wrong types,
unknown enum values and two members of one oneof are errors, as protojson makes them.

The descriptors carry no protoc-gen-validate rules, so the fields Zitadel requires
(``(validate.rules).string = {min_len: 1}`` / ``enum = {defined_only: true, not_in: [0]}`` in
proto/zitadel/management.proto and admin.proto) are listed in REQUIRED below.
"""
import json
import os
import pathlib
import re

BASES = {
    "zitadel.management.v1.ManagementService": "/management/v1",
    "zitadel.admin.v1.AdminService": "/admin/v1",
}

# Fields Zitadel's validate rules require (non-empty string / list, enum not the zero value).
REQUIRED = {
    "AddProject": ["name"],
    "UpdateProject": ["id", "name"],
    "RemoveProject": ["id"],
    "BulkAddProjectRoles": ["projectId", "roles"],
    "AddProjectRole": ["projectId", "roleKey", "displayName"],
    "UpdateProjectRole": ["projectId", "roleKey", "displayName"],
    "RemoveProjectRole": ["projectId", "roleKey"],
    "AddOIDCApp": ["projectId", "name"],
    "UpdateOIDCAppConfig": ["projectId", "appId"],
    "RemoveApp": ["projectId", "appId"],
    "AddUserGrant": ["userId", "projectId"],
    "UpdateUserGrant": ["userId", "grantId"],
    "RemoveUserGrant": ["userId", "grantId"],
    "AddSecondFactorToLoginPolicy": ["type"],
    "RemoveSecondFactorFromLoginPolicy": ["type"],
    "AddMultiFactorToLoginPolicy": ["type"],
    "RemoveMultiFactorFromLoginPolicy": ["type"],
}
# Nested messages with required fields (BulkAddProjectRolesRequest.Role: key and display_name).
REQUIRED_NESTED = {
    "zitadel.management.v1.BulkAddProjectRolesRequest.Role": ["key", "displayName"],
}
# Enums whose zero value is "unspecified" and rejected where REQUIRED.
_UNSPECIFIED = re.compile(r"_UNSPECIFIED$")


class Invalid(Exception):
    """A request the real gateway/Zitadel would refuse with InvalidArgument (HTTP 400)."""


def specs_dir():
    shared = os.environ.get("SHARED_DIR")
    if shared:
        return pathlib.Path(shared) / "specs"
    return pathlib.Path(__file__).resolve().parents[3] / "shared" / "specs"


class Descriptors:
    def __init__(self, path=None):
        path = pathlib.Path(path) if path else specs_dir() / "zitadel-api-descriptors.json"
        data = json.loads(path.read_text())
        self.messages = {}
        self.enums = {}
        self.services = {}
        for desc in data["files"].values():
            self.messages.update(desc["messages"])
            self.enums.update(desc["enums"])
            self.services.update(desc["services"])
        self.routes = []
        for service, base in BASES.items():
            for rpc in self.services[service]:
                http = rpc.get("http")
                if not http:
                    continue
                regex, params = _template(base + http["path"])
                self.routes.append(Route(service, rpc["rpc"], http["method"], regex, params, http.get("body"),
                                         rpc["request"], rpc["response"]))

    def match(self, method, path):
        """(route, path params) for method+path; raises LookupError('404'|'405')."""
        path_hit = False
        for route in self.routes:
            found = route.regex.match(path)
            if not found:
                continue
            path_hit = True
            if route.method == method:
                return route, found.groupdict()
        raise LookupError("405" if path_hit else "404")

    def strip(self, message, value):
        """Drop enum fields holding the zero value, as protojson does (recursively)."""
        if not isinstance(value, dict) or message not in self.messages:
            return value
        fields = self.fields(message)
        out = {}
        for key, item in value.items():
            field = fields.get(key)
            if field is None:
                out[key] = item
            elif field["type"] == "enum" and not field.get("repeated") and item in (0, self.enums[field["type_name"]][0]):
                continue
            elif field["type"] == "message" and not field.get("repeated"):
                out[key] = self.strip(field["type_name"], item)
            elif field["type"] == "message":
                out[key] = [self.strip(field["type_name"], v) for v in item]
            else:
                out[key] = item
        return out

    # -- validation -----------------------------------------------------------------------------
    def fields(self, message):
        out = {}
        for field in self.messages[message]["fields"]:
            out[field["json_name"]] = field
            out[field["name"]] = field  # protojson accepts the proto name too
        return out

    def validate(self, message, value, where="", required=None):
        if not isinstance(value, dict):
            raise Invalid("%s: expected a JSON object for %s" % (where or "body", message))
        fields = self.fields(message)
        oneofs = {}
        for key, item in value.items():
            field = fields.get(key)
            if field is None:
                raise Invalid('proto: (line 1:2): unknown field "%s" in %s' % (where + key, message))
            if "oneof_index" in field and item is not None:
                seen = oneofs.setdefault(field["oneof_index"], key)
                if seen != key:
                    raise Invalid("%s: oneof fields %s and %s are both set" % (message, seen, key))
            self._value(field, item, where + field["json_name"])
        for name in (required or []) + REQUIRED_NESTED.get(message, []):
            field = fields[name]
            item = value.get(field["json_name"], value.get(field["name"]))
            if item in (None, "", [], {}) or (field["type"] == "enum" and _is_zero_enum(self.enums[field["type_name"]], item)):
                raise Invalid("invalid %s.%s: value is required" % (message.rsplit(".", 1)[-1], field["json_name"]))

    def _value(self, field, item, where):
        if item is None:
            return
        if field.get("repeated"):
            if not isinstance(item, list):
                raise Invalid("%s: expected a list" % where)
            for idx, elem in enumerate(item):
                self._scalar(field, elem, "%s[%d]" % (where, idx))
            return
        self._scalar(field, item, where)

    def _scalar(self, field, item, where):
        kind = field["type"]
        if kind == "string":
            ok = isinstance(item, str)
        elif kind == "bool":
            ok = isinstance(item, bool)
        elif kind in ("int32", "uint32", "sint32"):
            ok = (isinstance(item, int) and not isinstance(item, bool)) or (isinstance(item, str) and re.fullmatch(r"-?\d+", item))
            if ok and kind == "uint32" and int(item) < 0:
                ok = False
        elif kind in ("int64", "uint64", "sint64"):
            ok = (isinstance(item, int) and not isinstance(item, bool)) or (isinstance(item, str) and re.fullmatch(r"-?\d+", item))
            if ok and kind == "uint64" and int(item) < 0:
                ok = False
        elif kind in ("double", "float"):
            ok = isinstance(item, (int, float)) and not isinstance(item, bool)
        elif kind == "bytes":
            ok = isinstance(item, str)
        elif kind == "enum":
            values = self.enums[field["type_name"]]
            ok = (isinstance(item, str) and item in values) or (isinstance(item, int) and not isinstance(item, bool) and 0 <= item < len(values))
            if not ok:
                raise Invalid('proto: (line 1:2): invalid value for enum field %s: "%s"' % (where, item))
        elif kind == "message":
            name = field["type_name"]
            if name == "google.protobuf.Duration":
                ok = isinstance(item, str) and re.fullmatch(r"-?\d+(\.\d{1,9})?s", item)
            elif name == "google.protobuf.Timestamp":
                ok = isinstance(item, str) and re.match(r"\d{4}-\d\d-\d\dT", item)
            elif name in ("google.protobuf.Struct", "google.protobuf.Value"):
                ok = True
            else:
                self.validate(name, item, where + ".")
                return
        else:
            ok = False
        if not ok:
            raise Invalid("proto: (line 1:2): invalid value for %s field %s: %r" % (kind, where, item))


def _is_zero_enum(values, item):
    return item in (0, values[0]) and bool(_UNSPECIFIED.search(values[0]))


def _template(path):
    """grpc-gateway path template -> regex with named groups."""
    params = []

    def repl(found):
        name, pattern = found.group(1), found.group(2)
        params.append(name)
        return "(?P<%s>%s)" % (name, ".+" if pattern == "**" else "[^/]+")

    regex = re.sub(r"\{([a-z_]+)(?:=([^}]*))?\}", repl, re.escape(path).replace(r"\{", "{").replace(r"\}", "}").replace(r"\=", "=").replace(r"\*", "*"))
    return re.compile("^" + regex + "$"), params


class Route:
    def __init__(self, service, rpc, method, regex, params, body, request, response):
        self.service = service
        self.rpc = rpc
        self.method = method
        self.regex = regex
        self.params = params
        self.body = body
        self.request = request
        self.response = response

    def __repr__(self):
        return "Route(%s %s)" % (self.method, self.rpc)
