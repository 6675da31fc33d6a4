#!/usr/bin/env python3
"""A chat-completions server for the AI tests, on loopback only.

chat_server.py --answers FILE --log FILE --port-file FILE

Binds 127.0.0.1 on a free port and writes the port to --port-file (once it
listens).  POST /v1/chat/completions (or /chat/completions) is answered from
--answers, a JSON list served in order (the last entry repeats):
  "text"                  200, an assistant message with this content
  {"status": 500}         that status, an OpenAI-style error body
  {"hang": true}          never answers (until the client gives up)
  {"raw": "not json"}     200 with this body as it is
  {"refusal": "..."}      200, a message with content null and this refusal
  {"echo_auth": true}     401 whose error message repeats the Authorization
                          header (as real servers quote a bad key)
Every request is appended to --log as one JSON line: {"n", "path",
"headers", "body"} (body parsed when it is JSON), so tests can check the
model, the messages and the bearer key.
"""
import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PATHS = ("/v1/chat/completions", "/chat/completions")


class State:
    def __init__(self, answers, log):
        self.answers = answers
        self.log = log
        self.n = 0
        self.lock = threading.Lock()

    def next(self, record):
        with self.lock:
            n = self.n
            self.n += 1
            record["n"] = n
            with open(self.log, "a") as f:
                f.write(json.dumps(record) + "\n")
        return self.answers[min(n, len(self.answers) - 1)]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the log file says it all
        pass

    def send(self, status, body):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace")
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        if self.path not in PATHS:
            self.send(404, {"error": {"message": "no route " + self.path}})
            return
        state = self.server.state
        a = state.next({"path": self.path, "headers": dict(self.headers.items()),
                        "body": body})
        model = body.get("model", "") if isinstance(body, dict) else ""
        if isinstance(a, str):
            self.send(200, completion(model, a, None))
        elif a.get("hang"):
            time.sleep(a.get("seconds", 600))
        elif "status" in a:
            self.send(a["status"], {"error": {"message": a.get(
                "message", "test server error %d" % a["status"]),
                "type": "server_error"}})
        elif "raw" in a:
            self.send(200, a["raw"].encode())
        elif "refusal" in a:
            self.send(200, completion(model, None, a["refusal"]))
        elif a.get("echo_auth"):
            self.send(401, {"error": {"message": "Incorrect API key provided: "
                                      + self.headers.get("Authorization", ""),
                                      "type": "invalid_request_error"}})
        else:
            self.send(500, {"error": {"message": "bad answers entry"}})


def completion(model, content, refusal):
    return {
        "id": "chatcmpl-test", "object": "chat.completion",
        "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content,
                                 "refusal": refusal}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--answers", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    with open(args.answers) as f:
        answers = json.load(f)
    if not isinstance(answers, list) or not answers:
        raise SystemExit("--answers: a non-empty JSON list")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.state = State(answers, args.log)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
