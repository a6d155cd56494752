"""A fake OpenAI-compatible chat endpoint for tests, on 127.0.0.1.

    class Teacher(ChatHandler):
        def answer(self, prompt):      # the assistant's text (str), a raw response body (bytes),
            return "..."               # or an error: (HTTP status, body bytes)

    with serve(Teacher) as url:        # url is the /v1 base: POST {url}/chat/completions
        ...
"""
import contextlib
import http.server
import json
import threading


class ChatHandler(http.server.BaseHTTPRequestHandler):
    def answer(self, prompt):
        raise NotImplementedError

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        reply = self.answer(body["messages"][0]["content"])
        status = 200
        if isinstance(reply, tuple):
            status, payload = reply
        elif isinstance(reply, bytes):
            payload = reply
        else:
            payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": reply}}]}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@contextlib.contextmanager
def serve(handler):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
