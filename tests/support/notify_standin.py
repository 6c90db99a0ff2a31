#!/usr/bin/env python3
"""A local stand-in for GOV.UK Notify's REST API (v2), for tests and benchmarks.

The real service cannot be reached from here, so this checks what its documentation says it
checks, with its status codes and error bodies:

* authentication: a `Bearer` JSON Web Token, HS256, `iss` the service id, `iat` within 30
  seconds of now, signed with the API key's secret (401 / 403 AuthError);
* the request body of POST /v2/notifications/{email,sms,letter}: required fields, no unknown
  ones, `template_id` a UUID of a template of the right type, every `((placeholder))` of the
  template given in `personalisation`, a valid e-mail address, a UK mobile number, a letter's
  address of at least three lines ending with a UK postcode, a reference of at most 1,000
  characters (400 ValidationError / BadRequestError);
* GET /v2/notifications?reference=... finds notifications by the sender's reference.

It answers 201 with the documented body, and keeps what it accepted in memory. For tests:
GET /_standin/notifications lists everything accepted (recipient included); an e-mail address
starting with `bounce` is accepted and then reported back as a `permanent-failure` delivery
receipt to the callback URL (as Notify does for a hard bounce); `busy` gets a 500.

Usage: notify_standin.py PORT CONFIG.json, where CONFIG is
  {"service_id": "...", "secret": "...", "templates": {"<uuid>": {"type": "email",
   "subject": "...", "body": "... ((field)) ..."}}, "callback_url": "...", "callback_token": "..."}
Prints "ready" on stdout once listening.
"""

import base64
import hashlib
import hmac
import json
import re
import sys
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PORT = int(sys.argv[1])
with open(sys.argv[2]) as f:
    CONFIG = json.load(f)
SERVICE_ID = CONFIG["service_id"]
SECRET = CONFIG["secret"]
TEMPLATES = CONFIG["templates"]
CALLBACK_URL = CONFIG.get("callback_url")
CALLBACK_TOKEN = CONFIG.get("callback_token")

LOCK = threading.Lock()
NOTIFICATIONS = []  # accepted, oldest first
BY_REFERENCE = {}

EMAIL = re.compile(r"^[^\s@\"(),:;<>\[\\\]]+@([^.@\s]+\.)+[a-z]{2,}$", re.IGNORECASE)
POSTCODE = re.compile(r"^(GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-HJKMNPR-Y]? ?[0-9][ABD-HJLNP-UW-Z]{2})$", re.IGNORECASE)
PLACEHOLDER = re.compile(r"\(\(([^()]+)\)\)")


def b64decode(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def uk_mobile(number):
    digits = re.sub(r"[\s()\-.]", "", number)
    if digits.startswith("+"):
        digits = digits[1:]
    if digits.startswith("0044"):
        digits = digits[4:]
    elif digits.startswith("44"):
        digits = digits[2:]
    elif digits.startswith("0"):
        digits = digits[1:]
    return digits.isdigit() and digits.startswith("7") and len(digits) == 10


class Refused(Exception):
    def __init__(self, status, error, message):
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


def authenticate(header):
    if not header:
        raise Refused(401, "AuthError", "Unauthorized: authentication token must be provided")
    scheme, _, token = header.partition(" ")
    if scheme != "Bearer":
        raise Refused(401, "AuthError", "Unauthorized: authentication bearer scheme must be used")
    parts = token.split(".")
    try:
        head = json.loads(b64decode(parts[0]))
        claims = json.loads(b64decode(parts[1]))
        signature = b64decode(parts[2])
    except Exception:
        raise Refused(403, "AuthError", "Invalid token: signature, api token is not valid")
    if len(parts) != 3:
        raise Refused(403, "AuthError", "Invalid token: signature, api token is not valid")
    if head.get("alg") != "HS256":
        raise Refused(403, "AuthError", "Invalid token: algorithm used is not HS256")
    if "iss" not in claims:
        raise Refused(403, "AuthError", "Invalid token: iss field not provided")
    if claims["iss"] != SERVICE_ID:
        raise Refused(403, "AuthError", "Invalid token: service not found")
    if not isinstance(claims.get("iat"), int):
        raise Refused(403, "AuthError", "Invalid token: iat field not provided")
    if abs(time.time() - claims["iat"]) > 30:
        raise Refused(403, "AuthError", "Error: Your system clock must be accurate to within 30 seconds")
    expected = hmac.new(SECRET.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        raise Refused(403, "AuthError", "Invalid token: API key not found")


ALLOWED = {
    "email": {"email_address", "template_id", "personalisation", "reference", "email_reply_to_id",
              "one_click_unsubscribe_url", "scheduled_for"},
    "sms": {"phone_number", "template_id", "personalisation", "reference", "sms_sender_id", "scheduled_for"},
    "letter": {"template_id", "personalisation", "reference"},
}
REQUIRED = {"email": ["email_address", "template_id"], "sms": ["phone_number", "template_id"],
            "letter": ["template_id", "personalisation"]}


def validate(kind, body):
    if not isinstance(body, dict):
        raise Refused(400, "ValidationError", "Request body must be a JSON object")
    for field in REQUIRED[kind]:
        if field not in body:
            raise Refused(400, "ValidationError", f"{field} is a required property")
    unexpected = sorted(set(body) - ALLOWED[kind])
    if unexpected:
        names = ", ".join(f"'{u}'" for u in unexpected)
        raise Refused(400, "ValidationError", f"Additional properties are not allowed ({names} was unexpected)")
    try:
        template_id = str(uuid.UUID(str(body["template_id"])))
    except ValueError:
        raise Refused(400, "ValidationError", "template_id is not a valid UUID")
    template = TEMPLATES.get(template_id)
    if template is None:
        raise Refused(400, "BadRequestError", "Template not found")
    if template["type"] != kind:
        raise Refused(400, "BadRequestError",
                      f"{template['type']} template is not suitable for {kind} notification")
    personalisation = body.get("personalisation") or {}
    if not isinstance(personalisation, dict):
        raise Refused(400, "ValidationError", "personalisation is not of type object")
    reference = body.get("reference")
    if reference is not None and (not isinstance(reference, str) or len(reference) > 1000):
        raise Refused(400, "ValidationError", "reference must be a string of at most 1000 characters")
    if kind == "email" and not EMAIL.match(str(body["email_address"])):
        raise Refused(400, "ValidationError", "email_address Not a valid email address")
    if kind == "sms" and not uk_mobile(str(body["phone_number"])):
        raise Refused(400, "ValidationError", "phone_number Not a UK mobile number")
    if kind == "letter":
        lines = [str(personalisation.get(f"address_line_{i}", "")).strip() for i in range(1, 8)]
        lines = [line for line in lines if line]
        if len(lines) < 3:
            raise Refused(400, "ValidationError", "Address must be at least 3 lines")
        if not POSTCODE.match(lines[-1]):
            raise Refused(400, "ValidationError", "Must be a real UK postcode")
    url = body.get("one_click_unsubscribe_url")
    if url is not None and not str(url).startswith(("https://", "http://")):
        raise Refused(400, "ValidationError", "one_click_unsubscribe_url is not a valid URL")
    text = template.get("subject", "") + template["body"]
    wanted = sorted({p.strip().split("??")[0] for p in PLACEHOLDER.findall(text)})
    if kind == "letter":
        wanted = [w for w in wanted if not w.startswith("address_line_")]
    missing = [w for w in wanted if w not in personalisation]
    if missing:
        raise Refused(400, "BadRequestError", f"Missing personalisation: {', '.join(missing)}")

    def fill(s):
        return PLACEHOLDER.sub(lambda m: str(personalisation.get(m.group(1).strip(), "")), s)

    return template_id, template, fill(template.get("subject", "")), fill(template["body"])


def send_callback(notification, status):
    if not CALLBACK_URL:
        return
    body = json.dumps({
        "id": notification["id"], "reference": notification["reference"], "to": notification["to"],
        "status": status, "created_at": notification["created_at"], "completed_at": notification["created_at"],
        "sent_at": notification["created_at"], "notification_type": notification["type"],
        "template_id": notification["template"]["id"], "template_version": 1,
    }).encode()
    request = urllib.request.Request(CALLBACK_URL, data=body, method="POST", headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {CALLBACK_TOKEN}"})
    for _ in range(5):
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                notification["callback_status"] = r.status
                return
        except urllib.error.HTTPError as e:
            notification["callback_status"] = e.code
            return
        except Exception:
            time.sleep(0.5)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def refuse(self, r):
        self.answer(r.status, {"status_code": r.status, "errors": [{"error": r.error, "message": r.message}]})

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/_standin/notifications":
            with LOCK:
                return self.answer(200, {"notifications": list(NOTIFICATIONS)})
        try:
            authenticate(self.headers.get("Authorization"))
        except Refused as r:
            return self.refuse(r)
        if url.path == "/v2/notifications":
            reference = parse_qs(url.query).get("reference", [None])[0]
            with LOCK:
                found = [n for n in NOTIFICATIONS if reference is None or n["reference"] == reference]
            public = [{k: v for k, v in n.items() if k not in ("to", "callback_status")} for n in found]
            return self.answer(200, {"notifications": public, "links": {"current": self.path}})
        self.answer(404, {"status_code": 404, "errors": [{"error": "NoResultFound", "message": "No result found"}]})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        url = urlparse(self.path)
        kind = url.path.removeprefix("/v2/notifications/")
        if kind not in ("email", "sms", "letter"):
            return self.answer(404, {"status_code": 404, "errors": [{"error": "NotFound", "message": "Not found"}]})
        try:
            authenticate(self.headers.get("Authorization"))
            try:
                body = json.loads(raw)
            except ValueError:
                raise Refused(400, "ValidationError", "Invalid JSON supplied in POST data")
            template_id, template, subject, text = validate(kind, body)
        except Refused as r:
            return self.refuse(r)
        to = body.get("email_address") or body.get("phone_number") or \
            body.get("personalisation", {}).get("address_line_1")
        if str(to).lower().startswith("busy"):
            return self.refuse(Refused(500, "Exception", "Internal server error"))
        notification_id = str(uuid.uuid4())
        content = {"body": text}
        if kind == "email":
            content.update({"subject": subject, "from_email": "consult.test@notifications.service.gov.uk",
                            "one_click_unsubscribe_url": body.get("one_click_unsubscribe_url")})
        elif kind == "letter":
            content["subject"] = subject
        notification = {
            "id": notification_id, "reference": body.get("reference"), "type": kind, "to": to,
            "status": "created", "content": content, "personalisation": body.get("personalisation", {}),
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()),
            "template": {"id": template_id, "version": 1,
                         "uri": f"http://127.0.0.1:{PORT}/v2/template/{template_id}/version/1"},
        }
        with LOCK:
            NOTIFICATIONS.append(notification)
        self.answer(201, {
            "id": notification_id, "reference": body.get("reference"), "content": content,
            "uri": f"http://127.0.0.1:{PORT}/v2/notifications/{notification_id}",
            "template": notification["template"],
        })
        if kind == "email" and str(to).lower().startswith("bounce"):
            threading.Thread(target=send_callback, args=(notification, "permanent-failure"), daemon=True).start()


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
server.daemon_threads = True
print("ready", flush=True)
server.serve_forever()
