r"""Loopback proxy between bedform's tests and moto_server.

It works around moto 5.2.5's deviations from AWS, each named where it is handled:
- Bedrock times come back as "2026-11-25 01:33:32"; AWS sends RFC 3339, which the
  Rust SDK requires. They are rewritten to "2026-11-25T01:33:32Z".
- S3 GetBucketVersioning of a never-versioned bucket answers with the root element
  <GetBucketVersioningResponse/>; AWS sends <VersioningConfiguration/>, and the SDK
  rejects any other root.
- GetModelCustomizationJob's outputModelName is "<jobName>-<customModelName>";
  AWS returns the customModelName the job was created with.
- CreateBucket's CreateBucketConfiguration may carry Tags (AWS applies them with
  the bucket, so it is never untagged); moto ignores them. The proxy applies them
  with a PutBucketTagging of its own once moto has created the bucket.
- IAM ListRolePolicies answers every name in one page; AWS pages them (MaxItems,
  100 unless asked for fewer). The proxy cuts moto's answer into such pages, so a
  client that reads only the first page is caught.
- moto has no provisioned throughput, model agreements, model availability or
  use-case form (HTTP 500). Those operations are answered by a small in-memory
  stub below (`Stub`), which follows the API's shapes and rules: unique names,
  client request tokens, Creating then InService, commitment expiry (deleting
  before it is a ConflictException), pages of two summaries (so pagination is
  exercised), offers whose tokens change on every listing, tags on throughput ARNs.
- moto has no custom model deployments. The stub answers Create, Get, List,
  Update and DeleteCustomModelDeployment with the API's rules: unique names,
  client request tokens, Creating then Active, a model swap that runs (the update
  `Updating`, then `UpdateCompleted`) while the deployment serves on, updates only
  of an Active deployment, pages of two summaries, tags on deployment ARNs. The
  model a deployment serves is held to the API's custom model ARN pattern, which
  moto's own custom model ARNs do not follow, so tests deploy AWS-shaped ARNs;
  the stub does not look the model up.
- moto has no model import. The stub answers Create, Get and ListModelImportJobs
  and Get, List and DeleteImportedModel: unique job and model names, client
  request tokens, an import InProgress then Completed (the model made then, with
  the job's importedModelTags), pages of two summaries, tags on job and model
  ARNs.
- moto has no CreateCustomModel (a model brought in from S3 or a SageMaker
  model package). The stub makes such models (Creating, then Active; ARNs
  `custom-model/imported/ID`, as AWS shapes them; their base model is fixed to
  Nova Lite, which the API requires a summary to name) and answers GetCustomModel,
  DeleteCustomModel and tags for them; ListCustomModels is moto's answer with
  the stub's models added to its first page.
- moto has no account data retention. The stub answers GetAccountDataRetention
  and PutAccountDataRetention: one mode per region, `default` until one is put.
- moto has no inference profiles. The stub answers Create, Get, List and
  DeleteInferenceProfile for application profiles: unique names, client request
  tokens, ACTIVE from the create on, the models a profile routes to (the one
  foundation model, or the regions of a system profile), pages of two, tags on
  their ARNs.
- moto has no guardrails. The stub answers Create, Get, Update, List and
  DeleteGuardrail and CreateGuardrailVersion: names unique in the region, client
  request tokens (a guardrail's, and a version's within its guardrail), the config
  kept as GetGuardrail shapes it and echoed as sent: each `...PolicyConfig` as its
  policy, `crossRegionConfig` as `crossRegionDetails`, `kmsKeyId` as `kmsKeyArn`
  (the API answers key ARNs only: a key id is made its ARN, an alias resolved to
  its key in moto's KMS, or where moto has none to a key named after the alias).
  A guardrail profile id over the 30 characters GetGuardrail can answer is not
  found, a regex Python cannot compile a ValidationException. An update replaces
  the DRAFT's whole config (a policy left out is removed). After each write the
  first read of the guardrail (GetGuardrail, or a ListGuardrails page that lists
  it) reports CREATING, UPDATING or VERSIONING and later reads READY; updating or
  versioning a guardrail not READY is a ConflictException. A version is the DRAFT
  frozen under the next number (numbers never reused), with the version's own
  description, always READY. ListGuardrails lists each DRAFT, or with
  `guardrailIdentifier` every version of one, in pages of two (fewer if
  `maxResults` says so); tags on guardrail ARNs. The region's one enforced
  guardrail configuration (Put, List and DeleteEnforcedGuardrailConfiguration)
  names an existing numbered version; while it does, neither that version nor its
  guardrail can be deleted (ResourceInUseException). ConflictException and
  ResourceInUseException are 400, as the model has them.
- moto has no ApplyGuardrail (POST /guardrail/{id}/version/{version}/apply, sent to
  the same endpoint URL). The stub applies the DRAFT or a numbered version, whatever
  its status, with a deterministic classifier. The text is the content's text
  blocks joined with "\n" (qualifiers and images ignored). Each entry of a policy
  is read on the source's side (`input...` for INPUT, `output...` for OUTPUT):
  skipped if its `...Enabled` is false; its action is `...Action`, else BLOCK (PII
  and regex entries: else their `action`), reported as BLOCKED, ANONYMIZED or
  NONE. Entries are taken in their order, and a term "occurs" where it matches
  ASCII-case-insensitively with no [A-Za-z0-9_] right before or after it. Each
  occurrence or match is reported as found in the text, in the text's order:
  - custom words: `customWords` {match, action, detected};
  - a PROFANITY list: the words damn, crap, bloody, as `managedWordLists`;
  - PII, each entry on its own, by regex (other types never detected): EMAIL
    `[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`, PHONE `\+?\d[\d -]{7,}\d`,
    US_SOCIAL_SECURITY_NUMBER `\b\d{3}-\d{2}-\d{4}\b`, IP_ADDRESS
    `\b\d{1,3}(?:\.\d{1,3}){3}\b`, each match as `piiEntities`;
  - regexes: each non-empty match of `pattern` as `regexes` {name, match, regex};
  - denied topics: words are the lowercased text split on [^a-z0-9], those of 4
    characters or more not in `TOPIC_STOP_WORDS`, less one trailing "s" when longer
    than 4; a topic whose name, definition and examples share a word with the text
    is reported once {name, type: DENY, action, detected};
  - content filters whose strength on the source is not NONE (PROMPT_ATTACK on
    INPUT only), once each {type, confidence: HIGH, filterStrength, action,
    detected} when one of their `CONTENT_TRIGGERS` occurs;
  - contextual grounding and automated reasoning are not evaluated.
  Anything BLOCKED: GUARDRAIL_INTERVENED, "Guardrail blocked.", the blocked
  messaging of the source as the one output; else anything ANONYMIZED:
  GUARDRAIL_INTERVENED, "Guardrail masked.", the text with each ANONYMIZED match
  replaced by {TYPE} (PII) or {name} (regex), left to right, the longer of matches
  starting together first, a match overlapping one replaced dropped; else NONE and
  no output. One assessment of the policies that reported anything (none if
  nothing was); usage 1 unit for each policy the guardrail has. `outputScope` is
  not heeded.
- moto's tagging index (GetResources) lists no Bedrock object and no log delivery
  source; AWS documents that it covers every resource type but IAM users and
  roles. Its answers (the last page) gain the tagged objects the stub holds (its
  throughputs, deployments, import jobs, imported models, inference profiles and
  guardrails, not the custom models it makes, whose ARN type moto's models share)
  and moto's tagged delivery sources, filtered as the request asks. moto's own
  customization jobs and custom models stay unlisted. ResourceARNList with any of
  TagFilters, ResourceTypeFilters or the paging parameters is an
  InvalidParameterException, as on AWS.
- moto has no Bedrock Runtime. The stub answers Converse
  (POST /model/{modelId}/converse, which the SDK sends to the same endpoint URL)
  for a provisioned model that is InService, a deployment that is Active, an
  imported model or an application inference profile, with the API's response shape and a
  canned reply the tests set, cut at `inferenceConfig.maxTokens` words.
- moto has no AWS Price List Query API (`pricing`, HTTP 500). The stub answers
  GetProducts (POST / with `X-Amz-Target: AWSPriceListService.GetProducts`, signed
  for `pricing`, sent to the same endpoint URL) from the GetProducts answers recorded
  in tests/fixtures/pricing/: one file per region, each one whole answer as the API
  gives it (`FormatVersion`, and `PriceList` of products, each a JSON string), held
  to the model when read; where each product comes from is in SOURCES.md there.
  The products of service code `AmazonBedrock` (any other has none) that meet every
  filter, in the files' order: a filter's `Field` is `ServiceCode`, an attribute of
  the product, `productFamily` or `sku`, in any case; TERM_MATCH and EQUALS want
  the whole value, CONTAINS a part of it, ANY_OF one of a comma-separated list and
  NONE_OF none of it; a product without the field meets no filter on it.
  `FormatVersion` is `aws_v1` (anything else an InvalidParameterException). Pages
  of two products (fewer if `MaxResults` says so), whose `NextToken` is good only
  for the query that gave it (else an InvalidNextTokenException). Every Price List
  request is held to the model as JSON 1.1 (target, content type, body); the other
  Price List operations reach moto.

It also counts requests by operation (GET /__counts), each named by its service (the
credential scope of its signature) and operation: a JSON protocol's target
(`pricing:GetProducts`, `logs:CreateLogGroup`), the Query protocol's Action
(`iam:ListRolePolicies`), or a REST call's method and path
(`bedrock:POST /model-customization-jobs`). For the tests it also keeps the
bodies of the operations a test names (moto drops fields it does not model, such as
`customizationConfig`, so what bedform sent is only visible here), and injects
faults the tests configure at run time (see `Faults`):
- POST /__requests with JSON {"operations": [...]}, each named as in the counts
  (`bedrock:POST /model-customization-jobs`): from then on the body of every
  request of those operations is kept (JSON parsed, anything else as text; of a
  request without a body, its query parameters as {name: value}), even
  one moto then rejects or a fault cuts off; the previous bodies are dropped.
- GET /__requests?op=OPERATION: {"requests": [body, ...]} in order of arrival.
- POST /__faults with JSON {"seed", "rate", "kinds", "latencyMs", "killAt",
  "killAfterEffect"}
  replaces the fault settings, restarts the request sequence and releases any
  request held by the previous settings; POST /__faults with {} turns faults off.
- GET /__faults: the request sequence number and what was injected so far.
- POST /__deny with JSON {"operations": [...]}, named as in the counts
  (`pricing:GetProducts`): those operations are answered with their service's
  AccessDenied error, as AWS answers credentials that lack the permission (the
  Price List's is an AccessDeniedException, 400); {} allows everything again.
- GET /__reached?k=K: whether request K of the sequence has arrived (with
  "killAfterEffect", once moto has answered it).
- POST /__converse with JSON {"reply", "delayMs", "error": {"status", "code",
  "message"}} sets how the stub answers Converse from then on; GET /__converse
  lists the Converse requests received ({"modelId", "body"}).
- GET /__apply_guardrail: the ApplyGuardrail requests received
  ({"guardrailIdentifier", "guardrailVersion", "body"}).
- POST /__throughput with JSON {"creatingSeconds"}: how long a throughput stays
  Creating (or Updating) from then on (1 s unless set).
- POST /__index_lag with JSON {"seconds"}: how long the tagging index trails the
  tags the stub's objects are given (0 unless set): an object is listed by
  GetResources only that long after its tags were last set.
- POST /__pricing with JSON {"PriceList": [...]}, products as GetProducts gives them
  (JSON strings, held to the model): the products GetProducts serves from then on;
  {} serves the recorded ones again.
- POST /__reset: empties moto and the stub, the counts, the kept bodies (the
  operations named stay recorded) and the fault settings; GetProducts serves the
  recorded products again.
- GET /__sequence: {"operations": [...]}, every request counted, in order of
  arrival, named as in the counts.
- GET /__times: seconds spent answering each operation (from its request's
  arrival to its answer, added latency included), named as in the counts.
- POST /__reset_counts: zeroes the counts (the sequence and the times) only.
- GET /__violations: {"violations": [{"what", "problems"}]}, every request to the
  stub (or to no operation of its service at all) and every answer of the stub that
  breaks botocore's service model (see `service_model.py`); such a request is
  answered with a ValidationException (Price List: InvalidParameterException, or
  UnknownOperationException for a target it does not have), such an answer replaced
  by an InternalServerException (Price List: InternalErrorException), each saying
  what broke. POST /__violations returns them and forgets them. A reset keeps them.
Control requests (paths starting /__) are never counted, faulted or held.

Usage: python moto_proxy.py LISTEN_PORT MOTO_PORT
"""

import base64
import copy
import glob
import hashlib
import http.client
import json
import os
import random
import re
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from service_model import Checker

LISTEN_PORT = int(sys.argv[1])
MOTO_PORT = int(sys.argv[2])
CONVERSE = re.compile(r"^/model/([^/]+)/converse$")
APPLY_GUARDRAIL = re.compile(r"^/guardrail/([^/]*)/version/([^/]*)/apply$")
TIME = re.compile(rb'"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.\d+)?"')
COUNTS = {}
SEQUENCE = []  # operations in order of arrival, named as in the counts
TIMES = {}  # seconds spent answering, by operation, named as in the counts
RECORDED = {}  # operation -> bodies kept, for the operations a test named
DENIED = set()  # operations answered with the service's AccessDenied error
LOCK = threading.Lock()
# Bedrock's and the Price List's requests (to the stub or to moto) and the stub's
# answers, held to the service models; what breaks them is kept for the tests
# (GET /__violations).
CHECKERS = {
    "bedrock": Checker("bedrock"),
    "bedrock-runtime": Checker("bedrock-runtime"),
    "pricing": Checker("pricing"),
}
VIOLATIONS = []
# The recorded GetProducts answers the Price List stub serves (see `PriceList`).
PRICE_LIST_FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "pricing")
# The operations the stub answers (tags only for throughput ARNs). Requests moto
# answers carry moto's own ARNs (a job's is not shaped as AWS's), so they are not
# held to the model here.
STUB_OPERATIONS = {
    "CreateProvisionedModelThroughput", "GetProvisionedModelThroughput",
    "UpdateProvisionedModelThroughput", "DeleteProvisionedModelThroughput",
    "ListProvisionedModelThroughputs", "ListFoundationModelAgreementOffers",
    "CreateFoundationModelAgreement", "DeleteFoundationModelAgreement",
    "GetFoundationModelAvailability", "PutUseCaseForModelAccess",
    "GetUseCaseForModelAccess", "Converse",
    "CreateCustomModelDeployment", "GetCustomModelDeployment", "ListCustomModelDeployments",
    "UpdateCustomModelDeployment", "DeleteCustomModelDeployment",
    "CreateModelImportJob", "GetModelImportJob", "ListModelImportJobs",
    "GetImportedModel", "ListImportedModels", "DeleteImportedModel",
    "CreateCustomModel", "GetAccountDataRetention", "PutAccountDataRetention",
    "CreateInferenceProfile", "GetInferenceProfile", "ListInferenceProfiles",
    "DeleteInferenceProfile",
    "CreateGuardrail", "GetGuardrail", "UpdateGuardrail", "ListGuardrails",
    "CreateGuardrailVersion", "DeleteGuardrail", "PutEnforcedGuardrailConfiguration",
    "ListEnforcedGuardrailsConfiguration", "DeleteEnforcedGuardrailConfiguration",
    "ApplyGuardrail",
}
# The ARNs of the objects the stub holds, whose tags it keeps.
STUB_ARNS = (
    ":provisioned-model/", ":custom-model-deployment/", ":model-import-job/", ":imported-model/",
    ":custom-model/imported/", ":application-inference-profile/", ":guardrail/",
)
TAG_OPERATIONS = {"TagResource", "UntagResource", "ListTagsForResource"}


def stub_serves(api_operation, payload):
    if api_operation in TAG_OPERATIONS:
        return any(kind in str(payload.get("resourceARN", "")) for kind in STUB_ARNS)
    return api_operation in STUB_OPERATIONS


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class TimedTags(dict):
    """Tags by ARN that remember when each ARN's were last set, so the tagging
    index can trail them as AWS's does. Tags changed in place (TagResource) are
    set again through here."""

    def __init__(self):
        super().__init__()
        self.since = {}

    def __setitem__(self, arn, tags):
        self.since[arn] = time.time()
        super().__setitem__(arn, tags)


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
        self.tags = TimedTags()  # arn -> {key: value}, with when each was set
        self.index_lag = 0.0  # seconds the tagging index trails a tag set
        self.agreements = set()
        self.offer_serial = 0
        self.use_case_form = None
        self.serial = 0
        self.runtime = {"reply": "Hello from the provisioned model.", "delayMs": 0, "error": None}
        self.conversations = []  # Converse requests received
        self.creating_seconds = 1.0  # Creating (or Updating) until InService, or Active
        self.deployments = {}  # name -> dict
        self.deployment_tokens = {}  # clientRequestToken -> name
        self.import_jobs = {}  # job name -> dict
        self.imported = {}  # model name -> dict
        self.import_tokens = {}  # clientRequestToken -> job name
        self.custom_models = {}  # name -> dict, the models made by CreateCustomModel
        self.custom_model_tokens = {}  # clientRequestToken -> name
        self.data_retention = {"mode": "default", "updatedAt": iso(time.time())}
        self.profiles = {}  # name -> dict
        self.profile_tokens = {}  # clientRequestToken -> name
        self.guardrails = {}  # id -> dict, its versions within
        self.guardrail_tokens = {}  # clientRequestToken -> id
        self.enforced = None  # the region's enforced guardrail configuration
        self.applied = []  # ApplyGuardrail requests received

    def held_arns(self):
        """The ARNs of the objects the stub holds, whose tags it keeps."""
        arns = [t["provisionedModelArn"] for t in self.throughputs.values()]
        arns += [d["customModelDeploymentArn"] for d in self.deployments.values()]
        arns += [j["jobArn"] for j in self.import_jobs.values()]
        arns += [m["modelArn"] for m in self.imported.values()]
        arns += [m["modelArn"] for m in self.custom_models.values()]
        arns += [p["inferenceProfileArn"] for p in self.profiles.values()]
        arns += [g["arn"] for g in self.guardrails.values()]
        return arns

    def indexed(self):
        """Tags by ARN of the tagged objects the stub holds, as AWS's tagging index
        lists them. The custom models the stub makes are left out: moto's own, of
        the same ARN type, are not in moto's index, and an index that listed some of
        a stack's custom models and not others would hide the others."""
        self.refresh_imports()
        made = {m["modelArn"] for m in self.custom_models.values()}
        arns = [arn for arn in self.held_arns() if arn not in made]
        now = time.time()
        return {
            arn: dict(self.tags[arn])
            for arn in arns
            if self.tags.get(arn) and now - self.tags.since.get(arn, 0) >= self.index_lag
        }

    def find(self, ident):
        ident = urllib.parse.unquote(ident)
        for t in self.throughputs.values():
            if ident in (t["provisionedModelName"], t["provisionedModelArn"]):
                return t
        raise StubError(404, "ResourceNotFoundException", f"Provisioned model {ident} not found")

    def refresh(self, t):
        if t["status"] in ("Creating", "Updating") and time.time() - t["changed"] >= self.creating_seconds:
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
        if parts[:2] == ["model-customization", "custom-model-deployments"]:
            return self.deployment(method, parts[2:], query, body)
        if parts[:1] == ["inference-profiles"]:
            return self.inference_profile(method, parts[1:], query, body)
        if parts[:1] == ["guardrails"]:
            return self.guardrail(method, parts[1:], query, body)
        if parts[:1] == ["enforcedGuardrailsConfiguration"]:
            return self.enforced_guardrail(method, parts[1:], body)
        applied = APPLY_GUARDRAIL.match(path)
        if applied and method == "POST":
            return self.apply_guardrail(applied.group(1), applied.group(2), body)
        if parts == ["data-retention"] and method in ("GET", "PUT"):
            if method == "PUT":
                self.data_retention = {"mode": body["mode"], "updatedAt": iso(time.time())}
            return 200, dict(self.data_retention)
        if parts == ["custom-models", "create-custom-model"] and method == "POST":
            return self.create_custom_model(body)
        if parts[:1] == ["custom-models"] and len(parts) == 2 and method in ("GET", "DELETE"):
            return self.custom_model(method, parts[1])
        if parts[:1] == ["model-import-jobs"]:
            return self.import_job(method, parts[1:], query, body)
        if parts[:1] == ["imported-models"]:
            return self.imported_model(method, parts[1:], query)
        if parts[:1] == ["list-foundation-model-agreement-offers"] and method == "GET":
            model = urllib.parse.unquote(parts[1])
            self.offer_serial += 1
            terms = {
                "usageBasedPricingTerm": {"rateCard": [{"dimension": "input tokens", "price": "0.0008", "unit": "1K tokens"}]},
                "legalTerm": {"url": "https://aws.amazon.com/legal/bedrock/third-party-models/"},
                "supportTerm": {"refundPolicyDescription": "none"},
            }
            offer = {"offerId": "public-offer", "offerToken": f"{model}|{self.offer_serial}", "termDetails": terms}
            return 200, {"modelId": model, "offers": [offer]}
        if parts == ["create-foundation-model-agreement"] and method == "POST":
            if not body.get("offerToken", "").startswith(body.get("modelId", "") + "|"):
                raise StubError(400, "ValidationException", "the offer token is not an offer for this model")
            self.agreements.add(body["modelId"])
            return 202, {"modelId": body["modelId"]}
        if parts == ["delete-foundation-model-agreement"] and method == "POST":
            if body.get("modelId") not in self.agreements:
                raise StubError(404, "ResourceNotFoundException", "no agreement for this model")
            self.agreements.discard(body["modelId"])
            return 202, {}
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
            if not any(kind in arn for kind in STUB_ARNS):
                return None
            self.refresh_imports()
            if arn not in self.held_arns():
                raise StubError(404, "ResourceNotFoundException", f"{arn} not found")
            tags = dict(self.tags.get(arn, {}))
            if parts[0] == "tagResource":
                tags.update({t["key"]: t["value"] for t in body.get("tags", [])})
                self.tags[arn] = tags
            elif parts[0] == "untagResource":
                for key in body.get("tagKeys", []):
                    tags.pop(key, None)
                self.tags[arn] = tags
            else:
                return 200, {"tags": [{"key": k, "value": v} for k, v in sorted(tags.items())]}
            return 200, {}
        return None

    def converse(self, model_id, body):
        """Returns (status, json, delay in seconds) for a Converse request."""
        ident = urllib.parse.unquote(model_id)
        self.conversations.append({"modelId": ident, "body": body})
        t = next((t for t in self.throughputs.values() if t["provisionedModelArn"] == ident), None)
        d = next((d for d in self.deployments.values() if d["customModelDeploymentArn"] == ident), None)
        self.refresh_imports()
        imported = any(m["modelArn"] == ident for m in self.imported.values())
        imported = imported or any(p["inferenceProfileArn"] == ident for p in self.profiles.values())
        if t is None and d is None and not imported:
            raise StubError(400, "ValidationException", "The provided model identifier is invalid.")
        if imported:
            pass
        elif t is not None:
            self.refresh(t)
            if t["status"] != "InService":
                raise StubError(400, "ValidationException", f"The provisioned model is {t['status']}, not InService.")
        else:
            self.refresh_deployment(d)
            if d["status"] != "Active":
                raise StubError(400, "ValidationException", f"The deployment is {d['status']}, not Active.")
        delay = float(self.runtime.get("delayMs") or 0) / 1000.0
        error = self.runtime.get("error")
        if error:
            raise StubError(error.get("status", 400), error.get("code", "ValidationException"), error.get("message", ""))
        words = str(self.runtime.get("reply", "")).split(" ")
        limit = (body.get("inferenceConfig") or {}).get("maxTokens") or len(words)
        stop = "max_tokens" if len(words) > limit else "end_turn"
        text = " ".join(words[:limit])
        prompt = " ".join(c.get("text", "") for m in body.get("messages", []) for c in m.get("content", []))
        usage = {"inputTokens": len(prompt.split()), "outputTokens": min(len(words), limit)}
        usage["totalTokens"] = usage["inputTokens"] + usage["outputTokens"]
        answer = {
            "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
            "stopReason": stop,
            "usage": usage,
            "metrics": {"latencyMs": int(delay * 1000)},
        }
        return 200, answer, delay

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

    # Custom model deployments.

    def refresh_deployment(self, d):
        now = time.time()
        if d["status"] == "Creating" and now - d["changed"] >= self.creating_seconds:
            d["status"] = "Active"
        update = d.get("updateDetails")
        if update and update["updateStatus"] == "Updating" and now - d["changed"] >= self.creating_seconds:
            update["updateStatus"] = "UpdateCompleted"
            d["modelArn"] = update["modelArn"]

    def find_deployment(self, ident):
        ident = urllib.parse.unquote(ident)
        for d in self.deployments.values():
            if ident in (d["modelDeploymentName"], d["customModelDeploymentArn"]):
                self.refresh_deployment(d)
                return d
        raise StubError(404, "ResourceNotFoundException", f"Custom model deployment {ident} not found")

    def deployment_view(self, d):
        out = {k: v for k, v in d.items() if k not in ("changed", "created")}
        out["createdAt"] = iso(d["created"])
        out["lastUpdatedAt"] = iso(d["changed"])
        return out

    def deployment(self, method, rest, query, body):
        if not rest and method == "POST":
            return self.create_deployment(body)
        if not rest and method == "GET":
            names = sorted(self.deployments)
            start = int(query.get("nextToken", ["0"])[0] or 0)
            page = [self.find_deployment(n) for n in names[start:start + self.PAGE]]
            summaries = [
                {
                    "customModelDeploymentArn": d["customModelDeploymentArn"],
                    "customModelDeploymentName": d["modelDeploymentName"],
                    "modelArn": d["modelArn"],
                    "createdAt": iso(d["created"]),
                    "lastUpdatedAt": iso(d["changed"]),
                    "status": d["status"],
                }
                for d in page
            ]
            out = {"modelDeploymentSummaries": summaries}
            if start + self.PAGE < len(names):
                out["nextToken"] = str(start + self.PAGE)
            return 200, out
        if len(rest) != 1:
            return None
        d = self.find_deployment(rest[0])
        if method == "GET":
            return 200, self.deployment_view(d)
        if method == "PATCH":
            if d["status"] != "Active" or (d.get("updateDetails") or {}).get("updateStatus") == "Updating":
                raise StubError(400, "ValidationException", f"The deployment is {d['status']} or being updated; only an Active deployment can be updated")
            d["updateDetails"] = {"modelArn": body["modelArn"], "updateStatus": "Updating"}
            d["changed"] = time.time()
            return 202, {"customModelDeploymentArn": d["customModelDeploymentArn"]}
        if method == "DELETE":
            del self.deployments[d["modelDeploymentName"]]
            return 200, {}
        return None

    def create_deployment(self, body):
        token = body.get("clientRequestToken")
        name = body["modelDeploymentName"]
        if token and token in self.deployment_tokens:
            if self.deployment_tokens[token] == name and name in self.deployments:
                return 202, {"customModelDeploymentArn": self.deployments[name]["customModelDeploymentArn"]}
            raise StubError(400, "ValidationException", "the client request token was used for another request")
        if name in self.deployments:
            raise StubError(400, "ValidationException", f"Custom model deployment {name} already exists")
        self.serial += 1
        now = time.time()
        arn = f"arn:aws:bedrock:{self.REGION}:{self.ACCOUNT}:custom-model-deployment/{self.serial:012d}"
        d = {
            "customModelDeploymentArn": arn,
            "modelDeploymentName": name,
            "modelArn": body["modelArn"],
            "status": "Creating",
            "created": now,
            "changed": now,
        }
        if body.get("description"):
            d["description"] = body["description"]
        self.deployments[name] = d
        if token:
            self.deployment_tokens[token] = name
        self.tags[arn] = {x["key"]: x["value"] for x in body.get("tags", [])}
        return 202, {"customModelDeploymentArn": arn}

    # Model import.

    def refresh_imports(self):
        now = time.time()
        for job in self.import_jobs.values():
            if job["status"] == "InProgress" and now - job["created"] >= self.creating_seconds:
                job["status"] = "Completed"
                job["endTime"] = iso(now)
                self.serial += 1
                arn = f"arn:aws:bedrock:{self.REGION}:{self.ACCOUNT}:imported-model/{self.serial:012d}"
                job["importedModelArn"] = arn
                self.imported[job["importedModelName"]] = {
                    "modelArn": arn,
                    "modelName": job["importedModelName"],
                    "jobName": job["jobName"],
                    "jobArn": job["jobArn"],
                    "modelDataSource": job["modelDataSource"],
                    "created": now,
                    "modelArchitecture": "llama3",
                    "instructSupported": True,
                    **({"modelKmsKeyArn": job["importedModelKmsKeyArn"]} if "importedModelKmsKeyArn" in job else {}),
                }
                self.tags[arn] = dict(job["modelTags"])

    def page(self, items, query, size=None):
        start = int(query.get("nextToken", ["0"])[0] or 0)
        size = size or self.PAGE
        page = items[start:start + size]
        token = str(start + size) if start + size < len(items) else None
        return page, token

    def find_import_job(self, ident):
        ident = urllib.parse.unquote(ident)
        for job in self.import_jobs.values():
            if ident in (job["jobName"], job["jobArn"]):
                return job
        raise StubError(404, "ResourceNotFoundException", f"Model import job {ident} not found")

    def import_job(self, method, rest, query, body):
        self.refresh_imports()
        if not rest and method == "POST":
            return self.create_import(body)
        job_view = lambda job: {k: (iso(v) if k == "created" else v) for k, v in job.items() if k != "modelTags"}
        if not rest and method == "GET":
            page, token = self.page([self.import_jobs[n] for n in sorted(self.import_jobs)], query)
            summaries = []
            for job in page:
                summary = {
                    "jobArn": job["jobArn"],
                    "jobName": job["jobName"],
                    "status": job["status"],
                    "creationTime": iso(job["created"]),
                    "importedModelName": job["importedModelName"],
                }
                if job.get("importedModelArn"):
                    summary["importedModelArn"] = job["importedModelArn"]
                summaries.append(summary)
            out = {"modelImportJobSummaries": summaries}
            if token:
                out["nextToken"] = token
            return 200, out
        if len(rest) == 1 and method == "GET":
            job = dict(job_view(self.find_import_job(rest[0])))
            job["creationTime"] = job.pop("created")
            return 200, job
        return None

    def create_import(self, body):
        token = body.get("clientRequestToken")
        name = body["jobName"]
        if token and token in self.import_tokens:
            if self.import_tokens[token] == name:
                return 201, {"jobArn": self.import_jobs[name]["jobArn"]}
            raise StubError(409, "ConflictException", "the client request token was used for another request")
        if name in self.import_jobs:
            raise StubError(409, "ConflictException", f"Model import job {name} already exists")
        if body["importedModelName"] in self.imported:
            raise StubError(409, "ConflictException", f"Imported model {body['importedModelName']} already exists")
        self.serial += 1
        job = {
            "jobArn": f"arn:aws:bedrock:{self.REGION}:{self.ACCOUNT}:model-import-job/{self.serial:012d}",
            "jobName": name,
            "importedModelName": body["importedModelName"],
            "roleArn": body["roleArn"],
            "modelDataSource": body["modelDataSource"],
            "status": "InProgress",
            "created": time.time(),
            "modelTags": {t["key"]: t["value"] for t in body.get("importedModelTags", [])},
        }
        if body.get("vpcConfig"):
            job["vpcConfig"] = body["vpcConfig"]
        if body.get("importedModelKmsKeyId"):
            job["importedModelKmsKeyArn"] = body["importedModelKmsKeyId"]
        self.import_jobs[name] = job
        if token:
            self.import_tokens[token] = name
        self.tags[job["jobArn"]] = {t["key"]: t["value"] for t in body.get("jobTags", [])}
        return 201, {"jobArn": job["jobArn"]}

    def imported_model(self, method, rest, query):
        self.refresh_imports()
        if not rest and method == "GET":
            page, token = self.page([self.imported[n] for n in sorted(self.imported)], query)
            summaries = [
                {
                    "modelArn": m["modelArn"],
                    "modelName": m["modelName"],
                    "creationTime": iso(m["created"]),
                    "instructSupported": m["instructSupported"],
                    "modelArchitecture": m["modelArchitecture"],
                }
                for m in page
            ]
            out = {"modelSummaries": summaries}
            if token:
                out["nextToken"] = token
            return 200, out
        if len(rest) != 1:
            return None
        ident = urllib.parse.unquote(rest[0])
        model = next((m for m in self.imported.values() if ident in (m["modelName"], m["modelArn"])), None)
        if model is None:
            raise StubError(404, "ResourceNotFoundException", f"Imported model {ident} not found")
        if method == "GET":
            out = {k: v for k, v in model.items() if k != "created"}
            out["creationTime"] = iso(model["created"])
            return 200, out
        if method == "DELETE":
            del self.imported[model["modelName"]]
            return 200, {}
        return None

    # Custom models brought in from outside.

    NOVA_LITE = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0"

    def refresh_custom_model(self, m):
        if m["modelStatus"] == "Creating" and time.time() - m["created"] >= self.creating_seconds:
            m["modelStatus"] = "Active"

    def create_custom_model(self, body):
        token = body.get("clientRequestToken")
        name = body["modelName"]
        if token and token in self.custom_model_tokens:
            if self.custom_model_tokens[token] == name and name in self.custom_models:
                return 202, {"modelArn": self.custom_models[name]["modelArn"]}
            raise StubError(409, "ConflictException", "the client request token was used for another request")
        if name in self.custom_models:
            raise StubError(409, "ConflictException", f"Custom model {name} already exists")
        s3 = ((body.get("modelSourceConfig") or {}).get("s3DataSource") or {}).get("s3Uri")
        if s3 and not body.get("roleArn"):
            raise StubError(400, "ValidationException", "a model from S3 needs a roleArn")
        self.serial += 1
        arn = f"arn:aws:bedrock:{self.REGION}:{self.ACCOUNT}:custom-model/imported/{self.serial:012d}"
        self.custom_models[name] = {
            "modelArn": arn,
            "modelName": name,
            "modelStatus": "Creating",
            "customizationType": "IMPORTED",
            "created": time.time(),
            **({"modelKmsKeyArn": body["modelKmsKeyArn"]} if body.get("modelKmsKeyArn") else {}),
        }
        if token:
            self.custom_model_tokens[token] = name
        self.tags[arn] = {t["key"]: t["value"] for t in body.get("modelTags", [])}
        return 202, {"modelArn": arn}

    def custom_model(self, method, ident):
        """A model the stub made, or None for moto's."""
        ident = urllib.parse.unquote(ident)
        m = next((m for m in self.custom_models.values() if ident in (m["modelName"], m["modelArn"])), None)
        if m is None:
            return None
        self.refresh_custom_model(m)
        if method == "DELETE":
            del self.custom_models[m["modelName"]]
            return 200, {}
        out = {k: v for k, v in m.items() if k != "created"}
        out["creationTime"] = iso(m["created"])
        out["baseModelArn"] = self.NOVA_LITE
        return 200, out

    def custom_model_summaries(self):
        out = []
        for m in self.custom_models.values():
            self.refresh_custom_model(m)
            out.append({
                "modelArn": m["modelArn"],
                "modelName": m["modelName"],
                "creationTime": iso(m["created"]),
                "baseModelArn": self.NOVA_LITE,
                "baseModelName": "Nova Lite",
                "customizationType": "IMPORTED",
                "modelStatus": m["modelStatus"],
            })
        return out

    # Application inference profiles.

    SYSTEM_PROFILE_REGIONS = {"us": ["us-east-1", "us-east-2", "us-west-2"], "eu": ["eu-central-1", "eu-west-1", "eu-west-3"], "apac": ["ap-northeast-1", "ap-southeast-1", "ap-southeast-2"], "global": ["us-east-1", "eu-west-1", "ap-northeast-1"], "us-gov": ["us-gov-west-1"]}

    def routes(self, source):
        """The foundation model ARNs a profile copied from `source` routes to."""
        resource = source.split(":", 5)[5]
        kind, _, ident = resource.partition("/")
        if kind == "foundation-model":
            return [source]
        geo, _, model = ident.partition(".")
        if kind != "inference-profile" or geo not in self.SYSTEM_PROFILE_REGIONS:
            raise StubError(404, "ResourceNotFoundException", f"{source} is not a model or system inference profile")
        return [f"arn:aws:bedrock:{r}::foundation-model/{model}" for r in self.SYSTEM_PROFILE_REGIONS[geo]]

    def profile_view(self, p):
        out = {k: v for k, v in p.items() if k not in ("created",)}
        out["createdAt"] = iso(p["created"])
        out["updatedAt"] = iso(p["created"])
        return out

    def inference_profile(self, method, rest, query, body):
        if not rest and method == "POST":
            token = body.get("clientRequestToken")
            name = body["inferenceProfileName"]
            if token and token in self.profile_tokens:
                if self.profile_tokens[token] == name and name in self.profiles:
                    p = self.profiles[name]
                    return 201, {"inferenceProfileArn": p["inferenceProfileArn"], "status": "ACTIVE"}
                raise StubError(409, "ConflictException", "the client request token was used for another request")
            if name in self.profiles:
                raise StubError(409, "ConflictException", f"Inference profile {name} already exists")
            models = self.routes(body["modelSource"]["copyFrom"])
            self.serial += 1
            ident = f"{self.serial:012d}"
            arn = f"arn:aws:bedrock:{self.REGION}:{self.ACCOUNT}:application-inference-profile/{ident}"
            p = {
                "inferenceProfileName": name,
                "inferenceProfileArn": arn,
                "inferenceProfileId": ident,
                "models": [{"modelArn": m} for m in models],
                "status": "ACTIVE",
                "type": "APPLICATION",
                "created": time.time(),
            }
            if body.get("description"):
                p["description"] = body["description"]
            self.profiles[name] = p
            if token:
                self.profile_tokens[token] = name
            self.tags[arn] = {t["key"]: t["value"] for t in body.get("tags", [])}
            return 201, {"inferenceProfileArn": arn, "status": "ACTIVE"}
        if not rest and method == "GET":
            wanted = query.get("type", [None])[0]
            items = [self.profiles[n] for n in sorted(self.profiles) if wanted in (None, "APPLICATION")]
            page, token = self.page(items, query)
            out = {"inferenceProfileSummaries": [self.profile_view(p) for p in page]}
            if token:
                out["nextToken"] = token
            return 200, out
        if len(rest) != 1:
            return None
        ident = urllib.parse.unquote(rest[0])
        p = next((p for p in self.profiles.values() if ident in (p["inferenceProfileArn"], p["inferenceProfileId"])), None)
        if p is None:
            raise StubError(404, "ResourceNotFoundException", f"Inference profile {ident} not found")
        if method == "GET":
            return 200, self.profile_view(p)
        if method == "DELETE":
            del self.profiles[p["inferenceProfileName"]]
            return 200, {}
        return None

    # Guardrails.

    # Each policy of a CreateGuardrail or UpdateGuardrail request, the member
    # GetGuardrail answers it as, and its members renamed so.
    GUARDRAIL_POLICIES = (
        ("topicPolicyConfig", "topicPolicy", {"topicsConfig": "topics", "tierConfig": "tier"}),
        ("contentPolicyConfig", "contentPolicy", {"filtersConfig": "filters", "tierConfig": "tier"}),
        ("wordPolicyConfig", "wordPolicy", {"wordsConfig": "words", "managedWordListsConfig": "managedWordLists"}),
        ("sensitiveInformationPolicyConfig", "sensitiveInformationPolicy", {"piiEntitiesConfig": "piiEntities", "regexesConfig": "regexes"}),
        ("contextualGroundingPolicyConfig", "contextualGroundingPolicy", {"filtersConfig": "filters", "tierConfig": "tier"}),
        ("automatedReasoningPolicyConfig", "automatedReasoningPolicy", {}),
    )
    CALLER = f"arn:aws:iam::{ACCOUNT}:root"

    def kms_key_arn(self, key):
        """The key ARN a guardrail's `kmsKeyId` names, as GetGuardrail answers it
        (the API's KmsKeyArn is a key's ARN, never an alias's)."""
        if key.startswith("arn:") and ":key/" in key:
            return key
        if "alias/" not in key:
            return f"arn:aws:kms:{self.REGION}:{self.ACCOUNT}:key/{key}"
        try:
            conn = http.client.HTTPConnection("127.0.0.1", MOTO_PORT, timeout=10)
            data = json.dumps({"KeyId": key}).encode()
            conn.request("POST", "/", body=data, headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "TrentService.DescribeKey",
                "Authorization": f"AWS4-HMAC-SHA256 Credential=stub/20240101/{self.REGION}/kms/aws4_request, SignedHeaders=host, Signature=0",
                "Content-Length": str(len(data)),
            })
            response = conn.getresponse()
            answer = json.loads(response.read() or b"{}")
            conn.close()
            if response.status == 200 and answer.get("KeyMetadata", {}).get("Arn"):
                return answer["KeyMetadata"]["Arn"]
        except (OSError, http.client.HTTPException, ValueError):
            pass
        alias = "alias/" + key.split("alias/", 1)[1]
        return f"arn:aws:kms:{self.REGION}:{self.ACCOUNT}:key/{uuid.uuid5(uuid.NAMESPACE_URL, alias)}"

    def guardrail_config(self, body):
        """A Create or UpdateGuardrail request's config, as GetGuardrail answers it."""
        config = {k: body[k] for k in ("description", "blockedInputMessaging", "blockedOutputsMessaging") if body.get(k) is not None}
        for request, output, renames in self.GUARDRAIL_POLICIES:
            if body.get(request) is not None:
                config[output] = {renames.get(k, k): copy.deepcopy(v) for k, v in body[request].items()}
        for regex in (config.get("sensitiveInformationPolicy") or {}).get("regexes") or []:
            try:
                re.compile(regex["pattern"])
            except re.error as e:
                raise StubError(400, "ValidationException", f"regex {regex['name']}: invalid pattern: {e}")
        cross = body.get("crossRegionConfig")
        if cross:
            ident = cross["guardrailProfileIdentifier"]
            arn = ident if ident.startswith("arn:") else f"arn:aws:bedrock:{self.REGION}:{self.ACCOUNT}:guardrail-profile/{ident}"
            profile = arn.split("guardrail-profile/", 1)[1]
            if not 15 <= len(profile) <= 30:  # no profile the API could name
                raise StubError(404, "ResourceNotFoundException", f"Guardrail profile {ident} not found")
            config["crossRegionDetails"] = {"guardrailProfileId": profile, "guardrailProfileArn": arn}
        if body.get("kmsKeyId"):
            config["kmsKeyArn"] = self.kms_key_arn(body["kmsKeyId"])
        return config

    def find_guardrail(self, ident):
        ident = urllib.parse.unquote(ident)
        g = next((g for g in self.guardrails.values() if ident in (g["id"], g["arn"])), None)
        if g is None:
            raise StubError(404, "ResourceNotFoundException", f"Guardrail {ident} not found")
        return g

    def guardrail_named(self, name, but=None):
        if any(g["name"] == name and g is not but for g in self.guardrails.values()):
            raise StubError(400, "ConflictException", f"Guardrail {name} already exists")

    def guardrail_ready(self, g):
        if g["pending"]:
            raise StubError(400, "ConflictException", f"Guardrail {g['id']} is {g['pending']}, not READY")

    def guardrail_read(self, g):
        """The DRAFT's status at this read: the write's until read once, then READY."""
        status, g["pending"] = g["pending"] or "READY", None
        return status

    def guardrail_version(self, g, version):
        """(name, config, updated) of the DRAFT or a numbered version."""
        if version == "DRAFT":
            return g["name"], g["config"], g["updated"]
        v = g["versions"].get(version)
        if v is None:
            raise StubError(404, "ResourceNotFoundException", f"Guardrail {g['id']} has no version {version}")
        return v["name"], v["config"], v["created"]

    def guardrail_view(self, g, version, status):
        name, config, updated = self.guardrail_version(g, version)
        out = {
            "name": name,
            "guardrailId": g["id"],
            "guardrailArn": g["arn"],
            "version": version,
            "status": status,
            "createdAt": iso(g["created"]),
            "updatedAt": iso(updated),
        }
        out.update(copy.deepcopy(config))
        return out

    def guardrail_summary(self, g, version, status):
        name, config, updated = self.guardrail_version(g, version)
        out = {
            "id": g["id"],
            "arn": g["arn"],
            "status": status,
            "name": name,
            "version": version,
            "createdAt": iso(g["created"]),
            "updatedAt": iso(updated),
        }
        for key in ("description", "crossRegionDetails"):
            if key in config:
                out[key] = copy.deepcopy(config[key])
        return out

    def guardrail(self, method, rest, query, body):
        if not rest and method == "POST":
            return self.create_guardrail(body)
        if not rest and method == "GET":
            size = min(self.PAGE, int(query.get("maxResults", [self.PAGE])[0]))
            wanted = query.get("guardrailIdentifier", [None])[0]
            if wanted is None:
                items = [(g, "DRAFT") for g in sorted(self.guardrails.values(), key=lambda g: g["name"])]
            else:
                g = self.find_guardrail(wanted)
                items = [(g, "DRAFT")] + [(g, n) for n in sorted(g["versions"], key=int)]
            page, token = self.page(items, query, size)
            statuses = {}
            for g, _ in page:
                if g["id"] not in statuses:
                    statuses[g["id"]] = self.guardrail_read(g)
            out = {"guardrails": [self.guardrail_summary(g, v, statuses[g["id"]] if v == "DRAFT" else "READY") for g, v in page]}
            if token:
                out["nextToken"] = token
            return 200, out
        if len(rest) != 1:
            return None
        g = self.find_guardrail(rest[0])
        if method == "GET":
            version = query.get("guardrailVersion", ["DRAFT"])[0]
            self.guardrail_version(g, version)  # an unknown version is not a read
            status = self.guardrail_read(g)
            return 200, self.guardrail_view(g, version, status if version == "DRAFT" else "READY")
        if method == "PUT":
            self.guardrail_ready(g)
            self.guardrail_named(body["name"], but=g)
            config = self.guardrail_config(body)
            g.update(name=body["name"], config=config, updated=time.time(), pending="UPDATING")
            return 202, {"guardrailId": g["id"], "guardrailArn": g["arn"], "version": "DRAFT", "updatedAt": iso(g["updated"])}
        if method == "POST":
            token = body.get("clientRequestToken")
            if token and token in g["version_tokens"]:
                return 202, {"guardrailId": g["id"], "version": g["version_tokens"][token]}
            self.guardrail_ready(g)
            version = str(g["next_version"])
            g["next_version"] += 1
            config = {k: copy.deepcopy(v) for k, v in g["config"].items() if k != "description"}
            if body.get("description"):
                config["description"] = body["description"]
            g["versions"][version] = {"name": g["name"], "config": config, "created": time.time()}
            g["pending"] = "VERSIONING"
            if token:
                g["version_tokens"][token] = version
            return 202, {"guardrailId": g["id"], "version": version}
        if method == "DELETE":
            version = query.get("guardrailVersion", [None])[0]
            enforced = self.enforced if self.enforced and self.enforced["guardrailId"] == g["id"] else None
            if version is None:
                if enforced:
                    raise StubError(400, "ResourceInUseException", f"Guardrail {g['id']} is in the account's enforced guardrail configuration {enforced['configId']}")
                del self.guardrails[g["id"]]
                self.tags.pop(g["arn"], None)
                self.guardrail_tokens = {t: i for t, i in self.guardrail_tokens.items() if i != g["id"]}
                return 202, {}
            self.guardrail_version(g, version)
            if enforced and enforced["guardrailVersion"] == version:
                raise StubError(400, "ResourceInUseException", f"Version {version} of guardrail {g['id']} is in the account's enforced guardrail configuration {enforced['configId']}")
            del g["versions"][version]
            return 202, {}
        return None

    def create_guardrail(self, body):
        token = body.get("clientRequestToken")
        name = body["name"]
        if token and token in self.guardrail_tokens:
            g = self.guardrails[self.guardrail_tokens[token]]
            if g["name"] == name:
                return 202, {"guardrailId": g["id"], "guardrailArn": g["arn"], "version": "DRAFT", "createdAt": iso(g["created"])}
            raise StubError(400, "ConflictException", "the client request token was used for another request")
        self.guardrail_named(name)
        config = self.guardrail_config(body)
        self.serial += 1
        ident = f"gr{self.serial:010d}"
        arn = f"arn:aws:bedrock:{self.REGION}:{self.ACCOUNT}:guardrail/{ident}"
        now = time.time()
        self.guardrails[ident] = {
            "id": ident,
            "arn": arn,
            "name": name,
            "config": config,
            "created": now,
            "updated": now,
            "pending": "CREATING",
            "versions": {},  # number -> {"name", "config", "created"}
            "next_version": 1,
            "version_tokens": {},  # clientRequestToken -> number
        }
        if token:
            self.guardrail_tokens[token] = ident
        self.tags[arn] = {t["key"]: t["value"] for t in body.get("tags", [])}
        return 202, {"guardrailId": ident, "guardrailArn": arn, "version": "DRAFT", "createdAt": iso(now)}

    def enforced_guardrail(self, method, rest, body):
        if not rest and method == "PUT":
            inference = body["guardrailInferenceConfig"]
            g = self.find_guardrail(inference["guardrailIdentifier"])
            version = inference["guardrailVersion"]
            self.guardrail_version(g, version)
            now = iso(time.time())
            config_id = body.get("configId")
            if config_id is None:
                if self.enforced:
                    raise StubError(400, "ConflictException", f"The account has an enforced guardrail configuration already: {self.enforced['configId']}")
                self.serial += 1
                kept = {"configId": f"ec{self.serial:010d}", "createdAt": now, "createdBy": self.CALLER}
            else:
                if not self.enforced or self.enforced["configId"] != config_id:
                    raise StubError(404, "ResourceNotFoundException", f"Enforced guardrail configuration {config_id} not found")
                kept = {k: self.enforced[k] for k in ("configId", "createdAt", "createdBy")}
            self.enforced = dict(kept, guardrailArn=g["arn"], guardrailId=g["id"], guardrailVersion=version)
            for key in ("selectiveContentGuarding", "modelEnforcement"):
                if inference.get(key) is not None:
                    self.enforced[key] = copy.deepcopy(inference[key])
            self.enforced.update(updatedAt=now, updatedBy=self.CALLER, owner="ACCOUNT")
            return 200, {"configId": self.enforced["configId"], "updatedAt": now, "updatedBy": self.CALLER}
        if not rest and method == "GET":
            return 200, {"guardrailsConfig": [copy.deepcopy(self.enforced)] if self.enforced else []}
        if len(rest) == 1 and method == "DELETE":
            config_id = urllib.parse.unquote(rest[0])
            if not self.enforced or self.enforced["configId"] != config_id:
                raise StubError(404, "ResourceNotFoundException", f"Enforced guardrail configuration {config_id} not found")
            self.enforced = None
            return 200, {}
        return None

    # ApplyGuardrail's classifier (see the module's docstring).

    PROFANITY = ("damn", "crap", "bloody")
    PII_PATTERNS = {
        "EMAIL": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
        "PHONE": r"\+?\d[\d -]{7,}\d",
        "US_SOCIAL_SECURITY_NUMBER": r"\b\d{3}-\d{2}-\d{4}\b",
        "IP_ADDRESS": r"\b\d{1,3}(?:\.\d{1,3}){3}\b",
    }
    CONTENT_TRIGGERS = {
        "PROMPT_ATTACK": ("ignore previous instructions", "ignore all previous instructions"),
        "HATE": ("hate",),
        "INSULTS": ("idiot", "stupid"),
        "VIOLENCE": ("kill", "attack"),
        "SEXUAL": ("explicit",),
        "MISCONDUCT": ("steal", "hack"),
    }
    TOPIC_STOP_WORDS = frozenset((
        "about what which your with that this from have will would should could there their they them "
        "then than when where into over under some such only also just more most other like make does "
        "been were being please tell want need know help"
    ).split())
    REPORTED = {"BLOCK": "BLOCKED", "ANONYMIZE": "ANONYMIZED", "NONE": "NONE"}

    @staticmethod
    def occurrences(term, text):
        """Each place `term` occurs in `text` as a whole word or phrase."""
        pattern = r"(?<![A-Za-z0-9_])" + re.escape(term) + r"(?![A-Za-z0-9_])"
        return list(re.finditer(pattern, text, re.ASCII | re.IGNORECASE))

    def topic_words(self, text):
        words = set()
        for word in re.split(r"[^a-z0-9]+", text.lower()):
            if len(word) >= 4 and word not in self.TOPIC_STOP_WORDS:
                words.add(word[:-1] if len(word) > 4 and word.endswith("s") else word)
        return words

    def guarded_action(self, entry, source, default="BLOCK"):
        """The action an entry takes on the source, reported as the assessment
        names it, or None when the entry is not enabled on the source."""
        side = "input" if source == "INPUT" else "output"
        if entry.get(f"{side}Enabled") is False:
            return None
        return self.REPORTED[entry.get(f"{side}Action") or default]

    def apply_guardrail(self, ident, version, body):
        ident, version = urllib.parse.unquote(ident), urllib.parse.unquote(version)
        self.applied.append({"guardrailIdentifier": ident, "guardrailVersion": version, "body": body})
        g = self.find_guardrail(ident)
        _, config, _ = self.guardrail_version(g, version)
        source = body["source"]
        side = "input" if source == "INPUT" else "output"
        text = "\n".join(block["text"]["text"] for block in body.get("content", []) if block.get("text"))
        topics, filters, custom, managed, pii, regexes = [], [], [], [], [], []
        masks = []  # (start, end, replacement) of each ANONYMIZED match
        for topic in (config.get("topicPolicy") or {}).get("topics") or []:
            action = self.guarded_action(topic, source)
            words = self.topic_words(" ".join([topic["name"], topic["definition"], *topic.get("examples", [])]))
            if action and words & self.topic_words(text):
                topics.append({"name": topic["name"], "type": "DENY", "action": action, "detected": True})
        for f in (config.get("contentPolicy") or {}).get("filters") or []:
            action = self.guarded_action(f, source)
            strength = f[f"{side}Strength"]
            if not action or strength == "NONE" or (f["type"] == "PROMPT_ATTACK" and source != "INPUT"):
                continue
            if any(self.occurrences(t, text) for t in self.CONTENT_TRIGGERS[f["type"]]):
                filters.append({"type": f["type"], "confidence": "HIGH", "filterStrength": strength, "action": action, "detected": True})
        words = config.get("wordPolicy") or {}
        for word in words.get("words") or []:
            action = self.guarded_action(word, source)
            for m in self.occurrences(word["text"], text) if action else []:
                custom.append({"match": m.group(0), "action": action, "detected": True})
        for listed in words.get("managedWordLists") or []:
            action = self.guarded_action(listed, source)
            for term in self.PROFANITY if action else ():
                for m in self.occurrences(term, text):
                    managed.append({"match": m.group(0), "type": listed["type"], "action": action, "detected": True})
        sensitive = config.get("sensitiveInformationPolicy") or {}
        for entity in sensitive.get("piiEntities") or []:
            action = self.guarded_action(entity, source, entity["action"])
            pattern = self.PII_PATTERNS.get(entity["type"])
            for m in re.finditer(pattern, text) if action and pattern else []:
                pii.append({"match": m.group(0), "type": entity["type"], "action": action, "detected": True})
                if action == "ANONYMIZED":
                    masks.append((m.start(), m.end(), "{" + entity["type"] + "}"))
        for regex in sensitive.get("regexes") or []:
            action = self.guarded_action(regex, source, regex["action"])
            for m in re.finditer(regex["pattern"], text) if action else []:
                if not m.group(0):
                    continue
                regexes.append({"name": regex["name"], "match": m.group(0), "regex": regex["pattern"], "action": action, "detected": True})
                if action == "ANONYMIZED":
                    masks.append((m.start(), m.end(), "{" + regex["name"] + "}"))
        assessment = {}
        if topics:
            assessment["topicPolicy"] = {"topics": topics}
        if filters:
            assessment["contentPolicy"] = {"filters": filters}
        if custom or managed:
            assessment["wordPolicy"] = {"customWords": custom, "managedWordLists": managed}
        if pii or regexes:
            assessment["sensitiveInformationPolicy"] = {"piiEntities": pii, "regexes": regexes}
        actions = {item["action"] for item in topics + filters + custom + managed + pii + regexes}
        answer = {"action": "NONE", "outputs": [], "assessments": [assessment] if assessment else []}
        if "BLOCKED" in actions:
            messaging = config["blockedInputMessaging" if source == "INPUT" else "blockedOutputsMessaging"]
            answer.update(action="GUARDRAIL_INTERVENED", actionReason="Guardrail blocked.", outputs=[{"text": messaging}])
        elif "ANONYMIZED" in actions:
            masked, at = [], 0
            for start, end, replacement in sorted(masks, key=lambda m: (m[0], -m[1])):
                if start >= at:
                    masked += [text[at:start], replacement]
                    at = end
            masked.append(text[at:])
            answer.update(action="GUARDRAIL_INTERVENED", actionReason="Guardrail masked.", outputs=[{"text": "".join(masked)}])
        answer["usage"] = {
            "topicPolicyUnits": int("topicPolicy" in config),
            "contentPolicyUnits": int("contentPolicy" in config),
            "wordPolicyUnits": int("wordPolicy" in config),
            "sensitiveInformationPolicyUnits": int("sensitiveInformationPolicy" in config),
            "sensitiveInformationPolicyFreeUnits": 0,
            "contextualGroundingPolicyUnits": int("contextualGroundingPolicy" in config),
        }
        return 200, answer


def add_stub_custom_models(path, query, data):
    """moto's ListCustomModels answer with the stub's models on its first page."""
    if urllib.parse.urlsplit(path).path != "/custom-models" or "nextToken" in query:
        return data
    try:
        answer = json.loads(data)
    except ValueError:
        return data
    with STUB_LOCK:
        answer.setdefault("modelSummaries", []).extend(STUB.custom_model_summaries())
    return json.dumps(answer).encode()


STUB = Stub()
STUB_LOCK = threading.Lock()


class PriceList:
    """The AWS Price List Query API's GetProducts, answered from recorded products.

    The products are the `PriceList` items of the GetProducts answers recorded in
    `PRICE_LIST_FIXTURES` (one JSON file per region, each a whole answer in the
    API's format, held to the service model when read), in file order, or those a
    test set with POST /__pricing."""

    PAGE = 2
    SERVICE_CODE = "AmazonBedrock"
    FORMAT_VERSION = "aws_v1"

    def __init__(self, items=None):
        self.items = list(recorded_products() if items is None else items)
        # Each item as the API holds it (a JSON string) and parsed, for the filters.
        self.products = [(item, json.loads(item)) for item in self.items]

    @staticmethod
    def field(product, name):
        """The value of the filter field `name` for a product (field names match
        whatever their case: `ServiceCode`, then the product's attributes, then
        `productFamily` and `sku`), or None if it has none."""
        wanted = name.lower()
        if wanted == "servicecode":
            return product.get("serviceCode")
        for key, value in product.get("product", {}).get("attributes", {}).items():
            if key.lower() == wanted:
                return value
        for key in ("productFamily", "sku"):
            if key.lower() == wanted:
                return product.get("product", {}).get(key)
        return None

    @classmethod
    def matches(cls, product, f):
        value = cls.field(product, f["Field"])
        if value is None:
            return False
        kind, wanted = f["Type"], f["Value"]
        if kind in ("TERM_MATCH", "EQUALS"):
            return value == wanted
        if kind == "CONTAINS":
            return wanted in value
        choices = {v.strip() for v in wanted.split(",")}
        if kind == "ANY_OF":
            return value in choices
        return value not in choices  # NONE_OF

    @staticmethod
    def query_key(body):
        query = {k: body.get(k) for k in ("ServiceCode", "Filters", "FormatVersion")}
        return hashlib.sha256(json.dumps(query, sort_keys=True).encode()).digest()[:12]

    def get_products(self, body):
        """(200, answer) of a GetProducts request (already held to the model)."""
        version = body.get("FormatVersion") or self.FORMAT_VERSION
        if version != self.FORMAT_VERSION:
            raise StubError(400, "InvalidParameterException", f"Input FormatVersion {version} is not supported.")
        key = self.query_key(body)
        start = 0
        token = body.get("NextToken")
        if token is not None:
            try:
                mac, _, offset = token.partition(":")
                start = int(base64.b64decode(offset, validate=True).decode())
                valid = base64.b64decode(mac, validate=True) == key and start > 0
            except (ValueError, UnicodeDecodeError):
                valid = False
            if not valid:
                raise StubError(400, "InvalidNextTokenException", "The token is invalid for this request.")
        if body["ServiceCode"] != self.SERVICE_CODE:
            found = []
        else:
            filters = body.get("Filters") or []
            found = [item for item, product in self.products if all(self.matches(product, f) for f in filters)]
        size = min(self.PAGE, body.get("MaxResults") or self.PAGE)
        answer = {"FormatVersion": self.FORMAT_VERSION, "PriceList": found[start:start + size]}
        if start + size < len(found):
            answer["NextToken"] = (
                base64.b64encode(key).decode() + ":" + base64.b64encode(str(start + size).encode()).decode()
            )
        return 200, answer


def recorded_products():
    """The products of the recorded GetProducts answers, each held to the model."""
    checker = CHECKERS["pricing"]
    items = []
    for path in sorted(glob.glob(os.path.join(PRICE_LIST_FIXTURES, "*.json"))):
        with open(path) as f:
            answer = json.load(f)
        problems = checker.answer("GetProducts", 200, answer)
        if problems:
            raise ValueError(f"{path} is not a GetProducts answer: {problems}")
        items.extend(answer["PriceList"])
    return items


PRICE_LIST = PriceList()


class Faults:
    """Faults injected into the requests of the client under test.

    Each request is numbered from 1 in order of arrival since the settings were last
    replaced. A request is faulted with probability `rate`, the fault drawn from
    `kinds`, by an RNG seeded with `seed`, so a run's faults depend only on the order
    of its requests:
    - "throttle": the service's throttling error (S3 `SlowDown` 503, IAM and STS
      `Throttling` 400, CloudWatch Logs and the Price List `ThrottlingException`
      400, Bedrock `ThrottlingException` 429: each as its protocol spells errors);
    - "internal" / "unavailable": the service's 500 / 503 error;
    - "reset": the connection is reset before the request reaches moto;
    - "lost": the request reaches moto, then the connection is reset, so the
      client never sees the answer (a retry repeats a request that took effect).
    `latencyMs` is added to every request. With `killAt` K, request K and every
    later one are held unanswered and never reach moto (the test kills the client
    meanwhile), until the settings are replaced or `HOLD_SECONDS` pass; then
    their connections are reset. With `killAfterEffect`, request K itself reaches
    moto first and only its answer is held.
    """

    KINDS = ("throttle", "internal", "unavailable", "reset", "lost")
    HOLD_SECONDS = 60.0

    def __init__(self, config=None):
        config = config or {}
        self.rate = float(config.get("rate", 0.0))
        self.kinds = [k for k in config.get("kinds", self.KINDS) if k in self.KINDS] or list(self.KINDS)
        self.rng = random.Random(config.get("seed", 0))
        self.latency = float(config.get("latencyMs", 0)) / 1000.0
        self.kill_at = config.get("killAt")
        self.kill_after_effect = bool(config.get("killAfterEffect"))
        # Request K is on its way to moto: not reached until moto has answered.
        self.in_effect = False
        self.seq = 0
        self.injected = {}
        self.released = threading.Event()

    def next(self):
        """Numbers a request and decides its fate: (latency, None | kind | "hold")."""
        self.seq += 1
        if self.kill_at is not None and self.seq == int(self.kill_at) and self.kill_after_effect:
            fate = "answer held"
            self.in_effect = True
        elif self.kill_at is not None and self.seq >= int(self.kill_at):
            fate = "hold"
        elif self.rate > 0 and self.rng.random() < self.rate:
            fate = self.rng.choice(self.kinds)
        else:
            fate = None
        if fate:
            self.injected[fate] = self.injected.get(fate, 0) + 1
        return self.latency, fate

    def status(self):
        return {"seq": self.seq, "injected": dict(self.injected), "killAt": self.kill_at}

    def reached(self, k):
        return self.seq >= k and not self.in_effect


FAULTS = Faults()
FAULTS_LOCK = threading.Lock()


def replace_faults(config):
    global FAULTS
    with FAULTS_LOCK:
        old, FAULTS = FAULTS, Faults(config)
    old.released.set()


# (status, error code, message) by fault and service; the protocol decides the shape.
ERRORS = {
    "throttle": {
        "s3": (503, "SlowDown", "Please reduce your request rate."),
        "iam": (400, "Throttling", "Rate exceeded"),
        "sts": (400, "Throttling", "Rate exceeded"),
        "logs": (400, "ThrottlingException", "Rate exceeded"),
        "bedrock": (429, "ThrottlingException", "Too many requests, please wait before trying again."),
        "pricing": (400, "ThrottlingException", "Rate exceeded"),
    },
    "internal": {
        "s3": (500, "InternalError", "We encountered an internal error. Please try again."),
        "iam": (500, "ServiceFailure", "Service failure"),
        "sts": (500, "InternalFailure", "Internal failure"),
        "logs": (500, "InternalFailure", "Internal failure"),
        "bedrock": (500, "InternalServerException", "Internal server error"),
        "pricing": (500, "InternalErrorException", "Internal error"),
    },
    # Never chosen at random: only for the operations named in POST /__deny.
    "denied": {
        "s3": (403, "AccessDenied", "Access Denied"),
        "iam": (403, "AccessDenied", "User: arn:aws:iam::123456789012:user/ci is not authorized to perform this action"),
        "sts": (403, "AccessDenied", "User: arn:aws:iam::123456789012:user/ci is not authorized to perform this action"),
        "logs": (400, "AccessDeniedException", "User: arn:aws:iam::123456789012:user/ci is not authorized to perform this action"),
        "bedrock": (403, "AccessDeniedException", "User: arn:aws:iam::123456789012:user/ci is not authorized to perform this action"),
        "pricing": (400, "AccessDeniedException", "User: arn:aws:iam::123456789012:user/ci is not authorized to perform this action"),
    },
    "unavailable": {
        "s3": (503, "ServiceUnavailable", "Service is unable to handle request."),
        "iam": (503, "ServiceUnavailable", "Service unavailable"),
        "sts": (503, "ServiceUnavailable", "Service unavailable"),
        "logs": (503, "ServiceUnavailableException", "Service unavailable"),
        "bedrock": (503, "ServiceUnavailableException", "Service unavailable"),
        "pricing": (503, "ServiceUnavailableException", "Service unavailable"),
    },
}


def error_response(service, fault):
    """(status, headers, body) of the fault's error as `service` would send it."""
    status, code, message = ERRORS[fault].get(service, ERRORS[fault]["bedrock"])
    request_id = "fault-injected"
    if service == "s3":
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"
        )
        return status, {"Content-Type": "application/xml", "x-amz-request-id": request_id}, body.encode()
    if service in ("iam", "sts"):
        kind = "Receiver" if status >= 500 else "Sender"
        body = (
            f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return status, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body.encode()
    if service == "logs":
        body = json.dumps({"__type": code, "message": message})
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code}
        return status, dict(headers, **{"x-amzn-RequestId": request_id}), body.encode()
    if service == "pricing":
        # JSON 1.1 as the Price List's model has its errors: `Message`.
        body = json.dumps({"__type": code, "Message": message})
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": request_id}
        return status, headers, body.encode()
    body = json.dumps({"message": message})
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": code, "x-amzn-RequestId": request_id}
    return status, headers, body.encode()


def recorded_body(body):
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


def recorded_query(path):
    """A bodiless request's query parameters ({name: value}), or None without any."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    return {k: v[-1] for k, v in query.items()} or None


def service_of(headers):
    auth = headers.get("Authorization", "")
    match = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", auth)
    return match.group(1) if match else "unknown"


def operation_of(command, path, headers, body):
    """A name for the request's operation: the JSON target, the Query protocol's
    Action (IAM, STS), or for REST calls the method with the path (Bedrock) or, for
    S3, the sub-resource asked for (`GET ?tagging`)."""
    target = headers.get("X-Amz-Target") or ""
    if target:
        return target.split(".")[-1]
    parsed = urllib.parse.urlsplit(path)
    if command == "POST" and parsed.path == "/" and body:
        action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action")
        if action:
            return action[0]
    if service_of(headers) == "s3":
        keys = sorted(k for k in urllib.parse.parse_qs(parsed.query, keep_blank_values=True) if k != "x-id")
        depth = "object" if parsed.path.strip("/").count("/") else "bucket"
        return f"{command} {depth}{' ?' + '&'.join(keys) if keys else ''}"
    return f"{command} {parsed.path}"


CREATE_TAGS = re.compile(rb"<Tags>(.*?)</Tags>", re.S)


def create_bucket_tags(command, path, body):
    """The bucket and tag elements of a CreateBucket that carries tags, or None."""
    parsed = urllib.parse.urlsplit(path)
    bucket = parsed.path.strip("/")
    if command != "PUT" or parsed.query or not bucket or "/" in bucket:
        return None
    found = CREATE_TAGS.search(body)
    if not found or b"<CreateBucketConfiguration" not in body:
        return None
    return bucket, found.group(1)


def tag_created_bucket(headers, bucket, tags):
    """What AWS does with a CreateBucket's tags, done to moto afterwards."""
    body = b"<Tagging><TagSet>" + tags + b"</TagSet></Tagging>"
    kept = {
        k: v
        for k, v in headers.items()
        if k.lower() not in ("host", "content-length", "content-md5", "x-amz-content-sha256")
        and not k.lower().startswith(("x-amz-checksum", "x-amz-sdk-checksum"))
    }
    kept["Host"] = f"127.0.0.1:{MOTO_PORT}"
    kept["Content-Length"] = str(len(body))
    kept["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
    conn = http.client.HTTPConnection("127.0.0.1", MOTO_PORT, timeout=60)
    conn.request("PUT", f"/{bucket}?tagging", body=body, headers=kept)
    conn.getresponse().read()
    conn.close()


POLICY_NAMES = re.compile(rb"<PolicyNames>(.*?)</PolicyNames>", re.S)
MEMBER = re.compile(rb"<member>.*?</member>", re.S)
TRUNCATED = re.compile(rb"<IsTruncated>\w+</IsTruncated>")

# GetResources parameters that cannot go with ResourceARNList (the API's rule).
NOT_WITH_ARN_LIST = ("TagFilters", "ResourceTypeFilters", "ResourcesPerPage", "TagsPerPage", "PaginationToken")


def arn_list_conflict(body):
    """What a GetResources request names beside ResourceARNList, which AWS refuses
    with an InvalidParameterException (moto does not check)."""
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return []
    if "ResourceARNList" not in request:
        return []
    return [name for name in NOT_WITH_ARN_LIST if name in request]


def index_lists(request, arn, tags):
    """Whether a GetResources request asks for the object at `arn` with `tags`."""
    if "ResourceARNList" in request:
        return arn in request["ResourceARNList"]
    for f in request.get("TagFilters") or []:
        if f["Key"] not in tags:
            return False
        if f.get("Values") and tags[f["Key"]] not in f["Values"]:
            return False
    types = request.get("ResourceTypeFilters") or []
    if types:
        parts = arn.split(":", 5)
        service, kind = parts[2], re.split(r"[/:]", parts[5], maxsplit=1)[0]
        if not any(t in (service, f"{service}:{kind}") for t in types):
            return False
    return True


def delivery_sources(headers):
    """Tags by ARN of moto's log delivery sources, read from moto (not counted)."""
    region = re.search(r"Credential=[^/]+/[^/]+/([^/]+)/", headers.get("Authorization", ""))
    region = region.group(1) if region else "us-east-1"
    found, token = {}, None
    while True:
        request = json.dumps({"nextToken": token} if token else {}).encode()
        conn = http.client.HTTPConnection("127.0.0.1", MOTO_PORT, timeout=60)
        conn.request("POST", "/", body=request, headers={
            "Host": f"127.0.0.1:{MOTO_PORT}",
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "Logs_20140328.DescribeDeliverySources",
            "Authorization": f"AWS4-HMAC-SHA256 Credential=proxy/20260101/{region}/logs/aws4_request, SignedHeaders=host, Signature=0",
        })
        response = conn.getresponse()
        answer = json.loads(response.read() or b"{}")
        conn.close()
        if response.status != 200:
            return found
        for source in answer.get("deliverySources", []):
            if source.get("arn") and source.get("tags"):
                found[source["arn"]] = source["tags"]
        token = answer.get("nextToken")
        if not token:
            return found


def add_to_tag_index(headers, body, data):
    """moto's tagging index lists neither the stub's objects nor log delivery
    sources; AWS's lists every resource type but IAM users and roles. Those that
    a GetResources request asks for are added to the last page of moto's answer
    (beside moto's, past its page size: a stack's own are few)."""
    request = json.loads(body or b"{}")
    answer = json.loads(data)
    if answer.get("PaginationToken"):
        return data
    with STUB_LOCK:
        held = STUB.indexed()
    held.update(delivery_sources(headers))
    listed = answer.setdefault("ResourceTagMappingList", [])
    for arn, tags in sorted(held.items()):
        if index_lists(request, arn, tags):
            listed.append({"ResourceARN": arn, "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]})
    return json.dumps(answer).encode()


def page_role_policies(body, data):
    """The page of moto's all-in-one ListRolePolicies answer that the request's
    Marker (an offset, opaque to the client) and MaxItems ask for."""
    params = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    start = int(params.get("Marker", ["0"])[0] or 0)
    size = int(params.get("MaxItems", ["100"])[0] or 100)
    found = POLICY_NAMES.search(data)
    if not found:
        return data
    names = MEMBER.findall(found.group(1))
    end = start + size
    more = b"<IsTruncated>true</IsTruncated><Marker>%d</Marker>" % end
    paging = more if end < len(names) else b"<IsTruncated>false</IsTruncated>"
    data = data[:found.start(1)] + b"".join(names[start:end]) + data[found.end(1):]
    return TRUNCATED.sub(lambda _: paging, data, count=1)


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
        self.key = None
        start = time.monotonic()
        try:
            self.handle_request()
        finally:
            if self.key is not None:
                with LOCK:
                    TIMES[self.key] = TIMES.get(self.key, 0.0) + time.monotonic() - start

    def handle_request(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.startswith("/__"):
            return self.control(body)
        service = service_of(self.headers)
        operation = operation_of(self.command, self.path, self.headers, body)
        with LOCK:
            key = self.key = f"{service}:{operation}"
            COUNTS[key] = COUNTS.get(key, 0) + 1
            SEQUENCE.append(key)
            if key in RECORDED:
                RECORDED[key].append(recorded_body(body) if body else recorded_query(self.path))
        with FAULTS_LOCK:
            faults = FAULTS
            latency, fate = faults.next()
        with LOCK:
            if key in DENIED:
                fate = "denied"
        if latency:
            time.sleep(latency)
        if fate == "hold":
            # As if the client died here: the request never reaches moto.
            faults.released.wait(Faults.HOLD_SECONDS)
            return self.reset()
        if fate == "reset":
            return self.reset()
        if fate in ERRORS:
            status, headers, data = error_response(service, fate)
            return self.send(status, headers, data)
        if service == "pricing" and self.price_list(body, fate, faults):
            return
        if service == "bedrock":
            parsed = urllib.parse.urlsplit(self.path)
            try:
                payload = json.loads(body) if body else {}
            except ValueError:
                payload = {}
            converse = CONVERSE.match(parsed.path)
            runtime = converse or APPLY_GUARDRAIL.match(parsed.path)
            checker = CHECKERS["bedrock-runtime" if runtime else "bedrock"]
            query = urllib.parse.parse_qs(parsed.query)
            api_operation, problems = checker.request(self.command, parsed.path, query, payload if body else None)
            if problems and (api_operation is None or stub_serves(api_operation, payload)):
                return self.violated(f"request {self.command} {parsed.path}", problems, 400, "ValidationException")
            if converse:
                return self.converse(converse.group(1), payload, fate, faults, api_operation)
            try:
                with STUB_LOCK:
                    answer = STUB.handle(self.command, parsed.path, query, payload)
            except StubError as e:
                answer = None
                error = e
            else:
                error = None
            if fate in ("lost", "answer held") and (answer is not None or error is not None):
                return self.drop(fate, faults)
            if error is not None:
                return self.stub_error(checker, api_operation, error)
            if answer is not None:
                status, data = answer
                return self.stub_answer(checker, api_operation, status, data)
        if service == "tagging" and operation == "GetResources" and arn_list_conflict(body):
            names = ", ".join(arn_list_conflict(body))
            return self.reply_json(400, {
                "__type": "InvalidParameterException",
                "Message": f"ResourceARNList cannot be specified with {names}",
            })
        conn = http.client.HTTPConnection("127.0.0.1", MOTO_PORT, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        headers["Host"] = f"127.0.0.1:{MOTO_PORT}"
        headers["Content-Length"] = str(len(body))
        conn.request(self.command, self.path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        created_tags = create_bucket_tags(self.command, self.path, body) if service == "s3" else None
        if created_tags and response.status == 200:
            tag_created_bucket(headers, *created_tags)
        if fate in ("lost", "answer held"):
            return self.drop(fate, faults)
        if service == "bedrock":
            data = TIME.sub(rb'"\1T\2Z"', data)
        if service == "bedrock" and b'"outputModelName"' in data:
            data = fix_output_model_name(data)
        if service == "bedrock" and self.command == "GET" and response.status == 200:
            split = urllib.parse.urlsplit(self.path)
            data = add_stub_custom_models(self.path, urllib.parse.parse_qs(split.query), data)
        if service == "iam" and operation == "ListRolePolicies" and response.status == 200:
            data = page_role_policies(body, data)
        if service == "tagging" and operation == "GetResources" and response.status == 200:
            data = add_to_tag_index(self.headers, body, data)
        if service == "s3" and b"<GetBucketVersioningResponse" in data:
            data = data.replace(b"GetBucketVersioningResponse", b"VersioningConfiguration")
        headers = {
            key: value
            for key, value in response.getheaders()
            if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date")
        }
        self.send(response.status, headers, data)

    def converse(self, model_id, payload, fate, faults, api_operation):
        checker = CHECKERS["bedrock-runtime"]
        try:
            with STUB_LOCK:
                status, data, delay = STUB.converse(model_id, payload)
        except StubError as e:
            return self.stub_error(checker, api_operation, e)
        # The model takes its time outside the lock, as other requests go on.
        time.sleep(delay)
        if fate in ("lost", "answer held"):
            return self.drop(fate, faults)
        return self.stub_answer(checker, api_operation, status, data)

    def price_list(self, body, fate, faults):
        """A Price List Query API request, held to the model; GetProducts is
        answered by the stub. False when the request is for moto."""
        checker = CHECKERS["pricing"]
        target = self.headers.get("X-Amz-Target")
        api_operation, problems = checker.request_json(
            self.command, self.path, target, self.headers.get("Content-Type"), body
        )
        if problems:
            code = "UnknownOperationException" if api_operation is None else "InvalidParameterException"
            self.violated(f"request {target or self.command + ' ' + self.path}", problems, 400, code, json_protocol=True)
            return True
        if api_operation != "GetProducts":
            return False
        error = None
        try:
            with STUB_LOCK:
                status, data = PRICE_LIST.get_products(json.loads(body))
        except StubError as e:
            error = e
        if fate in ("lost", "answer held"):
            self.drop(fate, faults)
            return True
        if error is not None:
            status, data = error.status, {"__type": error.code, "Message": error.message}
        problems = checker.answer(api_operation, status, data)
        if problems:
            what = f"the stub's {'error for' if error else 'answer to'} {api_operation}"
            self.violated(what, problems, 500, "InternalErrorException", json_protocol=True)
        else:
            self.reply_json(status, data)
        return True

    def stub_answer(self, checker, api_operation, status, data):
        """The stub's answer, once it is one the API could give."""
        problems = checker.answer(api_operation, status, data)
        if problems:
            return self.violated(f"the stub's answer to {api_operation}", problems, 500, "InternalServerException")
        return self.reply(status, json.dumps(data).encode(), "application/json")

    def stub_error(self, checker, api_operation, error):
        """The stub's error, once it is one the operation can answer with."""
        problems = checker.answer(api_operation, error.status, {"__type": error.code})
        if problems:
            return self.violated(f"the stub's error for {api_operation}", problems, 500, "InternalServerException")
        return self.reply(error.status, json.dumps({"message": error.message}).encode(), "application/json", error.code)

    def violated(self, what, problems, status, code, json_protocol=False):
        """Keeps what broke the service model and answers with it, so the client
        under test fails where the break is."""
        with LOCK:
            VIOLATIONS.append({"what": what, "problems": problems})
        message = f"{what} breaks the service model: " + "; ".join(problems)
        if json_protocol:
            return self.reply_json(status, {"__type": code, "Message": message})
        return self.reply(status, json.dumps({"message": message}).encode(), "application/json", code)

    def control(self, body):
        """The tests' own requests: counts, fault settings, reset."""
        try:
            return self.control_request(body)
        except Exception as e:  # the test shows it, rather than an empty answer
            return self.reply(500, json.dumps({"message": repr(e)}).encode(), "application/json")

    def control_request(self, body):
        global STUB, PRICE_LIST
        parsed = urllib.parse.urlsplit(self.path)
        if parsed.path == "/__counts":
            with LOCK:
                return self.reply(200, json.dumps(COUNTS).encode(), "application/json")
        if parsed.path == "/__times":
            with LOCK:
                return self.reply(200, json.dumps(TIMES).encode(), "application/json")
        if parsed.path == "/__violations":
            with LOCK:
                found = list(VIOLATIONS)
                if self.command == "POST":
                    VIOLATIONS.clear()
            return self.reply(200, json.dumps({"violations": found}).encode(), "application/json")
        if parsed.path == "/__sequence":
            with LOCK:
                return self.reply(200, json.dumps({"operations": SEQUENCE}).encode(), "application/json")
        if parsed.path == "/__reset_counts" and self.command == "POST":
            with LOCK:
                COUNTS.clear()
                TIMES.clear()
                SEQUENCE.clear()
            return self.reply(200, b"{}", "application/json")
        if parsed.path == "/__deny" and self.command == "POST":
            operations = (json.loads(body) if body else {}).get("operations", [])
            with LOCK:
                DENIED.clear()
                DENIED.update(operations)
            return self.reply(200, b"{}", "application/json")
        if parsed.path == "/__requests" and self.command == "POST":
            operations = (json.loads(body) if body else {}).get("operations", [])
            with LOCK:
                RECORDED.clear()
                RECORDED.update({op: [] for op in operations})
            return self.reply(200, b"{}", "application/json")
        if parsed.path == "/__requests":
            op = urllib.parse.parse_qs(parsed.query).get("op", [""])[0]
            with LOCK:
                if op not in RECORDED:
                    message = f"{op!r} is not recorded: name it in POST /__requests first"
                    return self.reply(400, json.dumps({"message": message}).encode(), "application/json")
                requests = list(RECORDED[op])
            return self.reply(200, json.dumps({"requests": requests}).encode(), "application/json")
        if parsed.path == "/__faults" and self.command == "POST":
            try:
                config = json.loads(body) if body else {}
            except ValueError as e:
                return self.reply(400, json.dumps({"message": str(e)}).encode(), "application/json")
            replace_faults(config)
            return self.reply(200, b"{}", "application/json")
        if parsed.path == "/__faults":
            with FAULTS_LOCK:
                status = FAULTS.status()
            return self.reply(200, json.dumps(status).encode(), "application/json")
        if parsed.path == "/__reached":
            k = int(urllib.parse.parse_qs(parsed.query).get("k", ["1"])[0])
            with FAULTS_LOCK:
                seq, reached = FAULTS.seq, FAULTS.reached(k)
            return self.reply(200, json.dumps({"reached": reached, "seq": seq}).encode(), "application/json")
        if parsed.path == "/__converse" and self.command == "POST":
            config = json.loads(body) if body else {}
            with STUB_LOCK:
                STUB.runtime = {
                    "reply": config.get("reply", "Hello from the provisioned model."),
                    "delayMs": config.get("delayMs", 0),
                    "error": config.get("error"),
                }
            return self.reply(200, b"{}", "application/json")
        if parsed.path == "/__pricing" and self.command == "POST":
            config = json.loads(body) if body else {}
            items = config.get("PriceList")
            problems = CHECKERS["pricing"].answer("GetProducts", 200, {"PriceList": items}) if items is not None else []
            if problems:
                return self.reply(400, json.dumps({"message": "; ".join(problems)}).encode(), "application/json")
            with STUB_LOCK:
                PRICE_LIST = PriceList(items)
            return self.reply(200, b"{}", "application/json")
        if parsed.path == "/__index_lag" and self.command == "POST":
            config = json.loads(body) if body else {}
            with STUB_LOCK:
                STUB.index_lag = float(config.get("seconds", 0.0))
            return self.reply(200, b"{}", "application/json")
        if parsed.path == "/__throughput" and self.command == "POST":
            config = json.loads(body) if body else {}
            with STUB_LOCK:
                STUB.creating_seconds = float(config.get("creatingSeconds", 1.0))
            return self.reply(200, b"{}", "application/json")
        if parsed.path == "/__converse":
            with STUB_LOCK:
                requests = list(STUB.conversations)
            return self.reply(200, json.dumps({"requests": requests}).encode(), "application/json")
        if parsed.path == "/__apply_guardrail":
            with STUB_LOCK:
                requests = list(STUB.applied)
            return self.reply(200, json.dumps({"requests": requests}).encode(), "application/json")
        if parsed.path == "/__reset" and self.command == "POST":
            replace_faults({})
            for attempt in range(3):
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", MOTO_PORT, timeout=60)
                    conn.request("POST", "/moto-api/reset", body=b"", headers={"Content-Length": "0"})
                    conn.getresponse().read()
                    conn.close()
                    break
                except (OSError, http.client.HTTPException):
                    if attempt == 2:
                        raise
                    time.sleep(0.2)
            with STUB_LOCK:
                STUB = Stub()
                PRICE_LIST = PriceList()
            with LOCK:
                COUNTS.clear()
                TIMES.clear()
                SEQUENCE.clear()
                DENIED.clear()
                for bodies in RECORDED.values():
                    bodies.clear()
            return self.reply(200, b"{}", "application/json")
        return self.reply(404, json.dumps({"message": f"no control endpoint {parsed.path}"}).encode(), "application/json")

    def drop(self, fate, faults):
        """The request took effect; its answer is lost at once or held first."""
        if fate == "answer held":
            with FAULTS_LOCK:
                faults.in_effect = False
            faults.released.wait(Faults.HOLD_SECONDS)
        return self.reset()

    def reset(self):
        """Resets the connection (RST, no answer); see `Server.shutdown_request`."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def send(self, status, headers, data):
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def reply_json(self, status, data):
        """A JSON 1.1 answer (errors carry their `__type` in the body)."""
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": str(uuid.uuid4())}
        self.send(status, headers, json.dumps(data).encode())

    def reply(self, status, data, content_type, error_type=None):
        headers = {"Content-Type": content_type}
        if error_type:
            headers["x-amzn-ErrorType"] = error_type
        self.send(status, headers, data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver listens with a backlog of 5: a plan opens more connections than
    # that at once, and the kernel drops the SYNs past it, which the client sends
    # again only a second later (a plan's reads then stall for that second).
    request_queue_size = 128

    def shutdown_request(self, request):
        # A connection to reset is closed at once (with SO_LINGER 0 that sends RST);
        # the default shutdown would first send a polite FIN.
        try:
            linger = struct.unpack("ii", request.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8))
        except OSError:
            linger = (0, 0)
        if linger[0]:
            self.close_request(request)
        else:
            super().shutdown_request(request)


if __name__ == "__main__":
    server = Server(("127.0.0.1", LISTEN_PORT), Proxy)
    print("ready", flush=True)
    server.serve_forever()
