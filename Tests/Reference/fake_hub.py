#!/usr/bin/env python3
"""A fake Hugging Face hub on loopback for `smaller model fetch` tests (standard library only).

Serves one folder as the repository REPO: GET /api/models/REPO?blobs=true lists its files as the hub does
(lfs.sha256 and size for every file but config.json, which gets its git blob id), and
GET /REPO/resolve/main/FILE serves a file, honouring `Range: bytes=A-B` with 206. Every request line and its
Range header go to stdout. --wrong-sha advertises a wrong sha256 for the LFS files.

Usage: python3 Tests/Reference/fake_hub.py DIR REPO PORT [--wrong-sha]
"""
import hashlib
import http.server
import json
import os
import re
import sys

FOLDER, REPO, PORT = sys.argv[1], sys.argv[2], int(sys.argv[3])
WRONG = "--wrong-sha" in sys.argv[4:]


def siblings():
    out = []
    for name in sorted(os.listdir(FOLDER)):
        data = open(os.path.join(FOLDER, name), "rb").read()
        blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        entry = {"rfilename": name, "size": len(data), "blobId": blob}
        if name != "config.json":
            sha = "0" * 64 if WRONG else hashlib.sha256(data).hexdigest()
            entry["lfs"] = {"sha256": sha, "size": len(data), "pointerSize": 134}
        out.append(entry)
    return out


class Hub(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        print(self.path, self.headers.get("Range"), flush=True)
        if self.path.split("?")[0] == f"/api/models/{REPO}":
            return self.send(200, json.dumps({"id": REPO, "siblings": siblings()}).encode())
        prefix = f"/{REPO}/resolve/main/"
        name = self.path[len(prefix):] if self.path.startswith(prefix) else ""
        path = os.path.join(FOLDER, name)
        if not name or "/" in name or not os.path.isfile(path):
            return self.send(404, b"not found")
        data = open(path, "rb").read()
        match = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range") or "")
        if match:
            first, last = int(match.group(1)), min(int(match.group(2)), len(data) - 1)
            return self.send(206, data[first:last + 1])
        return self.send(200, data)

    def send(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", PORT), Hub).serve_forever()
