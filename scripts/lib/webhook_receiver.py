"""A webhook receiver for the tests: verifies every delivery with the
`standardwebhooks` package (an implementation of the Standard Webhooks
specification that is not ours) and keeps what it verified.

    webhook_receiver.py FOLDER

Listens on a free loopback port and prints `listening on PORT`. For each
POST it reads the secrets to verify with from FOLDER/secrets (one per
line; a delivery passes when any one verifies it) and the status to answer
from FOLDER/status (default 204). A verified delivery is written to
FOLDER/received/NNNNNN.json as {"id", "secret", "payload"}, where
`secret` is the line number of the secret that verified it; one that fails
verification is written to FOLDER/rejected/ with the error, and answered
400. Files are written hidden and renamed, so a reader never sees half of
one. Runs until its standard input closes (so it ends with the test).
"""

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

FOLDER = sys.argv[1]
LOCK = threading.Lock()
COUNT = [0]


def read(name, default):
    try:
        with open(os.path.join(FOLDER, name), encoding="utf-8") as f:
            return f.read().strip() or default
    except FileNotFoundError:
        return default


def keep(kind, record):
    with LOCK:
        COUNT[0] += 1
        n = COUNT[0]
    folder = os.path.join(FOLDER, kind)
    os.makedirs(folder, exist_ok=True)
    hidden = os.path.join(folder, f".{n:06d}.json")
    with open(hidden, "w", encoding="utf-8") as f:
        json.dump(record, f)
    os.rename(hidden, os.path.join(folder, f"{n:06d}.json"))


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {k: v for k, v in self.headers.items()}
        secrets = [s for s in read("secrets", "").splitlines() if s.strip()]
        errors = []
        for i, secret in enumerate(secrets):
            try:
                payload = Webhook(secret.strip()).verify(body, headers)
            except WebhookVerificationError as e:
                errors.append(str(e))
                continue
            status = int(read("status", "204"))
            if 200 <= status < 300:
                keep("received", {"id": headers.get("webhook-id"), "secret": i, "payload": payload})
            self.send_response(status)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            return
        keep("rejected", {"id": headers.get("webhook-id"), "errors": errors or ["no secret to verify with"]})
        self.send_response(400)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening on {server.server_address[1]}", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
