"""agent.llm_planner against a canned OpenAI-compatible server on 127.0.0.1 (loopback only, no model)."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from agent.expand import expand
from agent.llm_planner import (PARAM_MEANINGS, LLMPlanner, LLMPlannerError, chat_completions_url,
                               extract_json_object, intent_from_answer, system_prompt)
from agent.program import FAMILY_NPARAMS, ProgramError, TaskIntent

planner_module = pytest.importorskip("agent.planner")

DIALOGUE = [("Commander", "hi, can you serve me two slices of tomato on a plate?"),
            ("Driver", "sure, where is the tomato?"),
            ("Commander", "the tomato is in the fridge")]
GOOD = {"family": "N Slices Of X In Y", "params": ["2", "Tomato", "on", "Plate"], "hints": {"Tomato": ["Fridge"]}}


class CannedServer:
    """A chat-completions server that answers with queued texts (or raw HTTP codes / delays) and records requests."""

    def __init__(self):
        self.replies: list = []
        self.requests: list[dict] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                owner.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if self.path != "/v1/chat/completions":
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                reply = owner.replies.pop(0) if owner.replies else "no reply queued"
                if isinstance(reply, tuple) and reply[0] == "sleep":
                    time.sleep(reply[1])
                    reply = reply[2]
                if isinstance(reply, tuple) and reply[0] == "status":
                    self._send(reply[1], {"error": {"message": "server exploded"}})
                    return
                self._send(200, {"id": "x", "object": "chat.completion", "model": body.get("model"),
                                 "choices": [{"index": 0, "finish_reason": "stop",
                                              "message": {"role": "assistant", "content": reply}}]})

            def _send(self, code, payload):
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout test)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def _server():
    server = CannedServer()
    yield server
    server.close()


@pytest.fixture
def server(_server):
    _server.replies.clear()
    _server.requests.clear()
    return _server


@pytest.fixture(scope="module")
def retrieval():
    return planner_module.RetrievalPlanner(encoder=None)  # TF-IDF: no model to load in tests


@pytest.fixture
def make(server, retrieval, monkeypatch):
    for name in ("AGENT_LLM_URL", "AGENT_LLM_MODEL", "AGENT_LLM_API_KEY"):
        monkeypatch.delenv(name, raising=False)

    def build(**kwargs):
        kwargs.setdefault("url", server.url + "/v1")
        kwargs.setdefault("model", "test-model")
        kwargs.setdefault("timeout", 3.0)
        return LLMPlanner(retrieval_planner=retrieval, **kwargs)

    return build


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_good_reply_gives_the_expanded_program(server, make):
    server.replies = [json.dumps(GOOD)]
    program = make().plan(DIALOGUE)
    expected = expand(TaskIntent("N Slices Of X In Y", ["2", "Tomato", "on", "Plate"]))
    assert [(s.skill, s.args) for s in program.steps] == [(s.skill, s.args) for s in expected.steps]
    assert program.intent.hints == {"Tomato": ["Fridge"]}
    assert program.intent.evidence[0] == "llm:test-model"
    assert len(server.requests) == 1 and server.requests[0]["path"] == "/v1/chat/completions"


def test_fenced_reply_with_chatter_and_loose_spelling(server, make):
    answer = {"family": "boil x", "params": ["potato"], "hints": {"Pot": "Stove Burner"}}
    server.replies = ["<think>maybe {coffee}?</think>Sure! Here is the intent:\n```json\n" + json.dumps(answer)
                      + "\n```\nHope that helps {not json}."]
    intent = make().parse([("Commander", "please boil a potato")])
    assert intent.family == "Boil X" and intent.params == ["Potato"]
    assert intent.hints == {"Pot": ["StoveBurner"]}


def test_bad_family_is_retried_with_the_error(server, make):
    server.replies = [json.dumps({"family": "Make Tea", "params": [], "hints": {}}), json.dumps(GOOD)]
    planner = make()
    intent = planner.parse(DIALOGUE)
    assert intent.family == "N Slices Of X In Y" and "llm-retry" in intent.evidence
    assert len(server.requests) == 2
    retry = server.requests[1]["body"]["messages"]
    assert retry[-2]["role"] == "assistant" and "Make Tea" in retry[-2]["content"]
    assert retry[-1]["role"] == "user" and "unknown task family 'Make Tea'" in retry[-1]["content"]


def test_wrong_param_count_and_unknown_type_are_errors():
    with pytest.raises(ProgramError, match=r"params: 'Boil X' takes 1"):
        intent_from_answer({"family": "Boil X", "params": []})
    with pytest.raises(ProgramError, match=r"params\[1\].*'Unobtainium'"):
        intent_from_answer({"family": "N Slices Of X In Y", "params": ["2", "Unobtainium", "on", "Plate"]})
    with pytest.raises(ProgramError, match=r"params\[0\].*whole number"):
        intent_from_answer({"family": "Salad", "params": ["lots", "1", "0"]})
    breakfast = intent_from_answer({"family": "Breakfast", "params": [1, 1, 0, "Plate", 0, "Plate", 0, 1, 1, 0, 0,
                                                                      2, 0, "dining table"]})
    assert breakfast.params[:3] == ["1", "1", "0"] and breakfast.params[13] == "DiningTable"


def test_bad_twice_falls_back_to_retrieval(server, make, retrieval):
    server.replies = ["I think you want tea.", json.dumps({"family": "Coffee", "params": ["Mug"]})]
    intent = make().parse(DIALOGUE)
    assert len(server.requests) == 2
    assert intent.evidence[0].startswith("llm failed: ") and "Coffee" in intent.evidence[0]
    assert intent.family == retrieval.parse(DIALOGUE).family
    with pytest.raises(LLMPlannerError, match="invalid answer twice"):
        server.replies = ["nope", "still nope"]
        make(fallback=False).parse(DIALOGUE)


def test_server_down_falls_back_or_raises(make, retrieval):
    intent = make(url=closed_port_url()).parse(DIALOGUE)
    assert intent.evidence[0].startswith("llm failed: cannot reach http://127.0.0.1:")
    assert intent.family == retrieval.parse(DIALOGUE).family
    with pytest.raises(LLMPlannerError, match=r"cannot reach .*--llm-url"):
        make(url=closed_port_url(), fallback=False).plan(DIALOGUE)


def test_http_error_and_timeout_fall_back(server, make):
    server.replies = [("status", 500)]
    intent = make().parse(DIALOGUE)
    assert "HTTP 500" in intent.evidence[0] and "server exploded" in intent.evidence[0]
    server.replies = [("sleep", 1.0, json.dumps(GOOD))]
    intent = make(timeout=0.2).parse(DIALOGUE)
    assert intent.evidence[0].startswith("llm failed: ") and "time" in intent.evidence[0].lower()


def test_request_carries_model_examples_dialogue_and_key(server, make, retrieval):
    server.replies = [json.dumps({"family": "Coffee", "params": [], "hints": {}})]
    dialogue = [("Commander", "I could use a coffee"), ("Driver", "what should I do?"),
                ("Commander", "make me a coffee in a clean mug")]
    planner = make(api_key="sekrit", examples=3)
    planner.plan(dialogue)
    request = server.requests[0]
    assert request["headers"]["Authorization"] == "Bearer sekrit"
    body = request["body"]
    assert body["model"] == "test-model" and body["temperature"] == 0.0
    system, user = body["messages"]
    assert system["role"] == "system" and user["role"] == "user"
    assert user["content"] == ("Commander: I could use a coffee\nDriver: what should I do?\n"
                               "Commander: make me a coffee in a clean mug")
    retrieved = [ex for ex, _ in planner._retrieved]
    assert len(retrieved) == 3 and retrieved[0]["family"] == "Coffee"
    for ex in retrieved:
        assert f"Commander: {ex['text']}" in system["content"]
    assert '"family": "Coffee"' in system["content"]
    for family, n in FAMILY_NPARAMS.items():
        assert f'"{family}" ({n} params)' in system["content"]


def test_configuration_from_environment_and_url_forms(server, make, monkeypatch):
    with pytest.raises(ValueError, match=r"--llm-url.*AGENT_LLM_URL"):
        LLMPlanner()
    monkeypatch.setenv("AGENT_LLM_URL", server.url)  # no /v1: appended
    monkeypatch.setenv("AGENT_LLM_MODEL", "env-model")
    monkeypatch.setenv("AGENT_LLM_API_KEY", "env-key")
    server.replies = [json.dumps(GOOD)]
    planner = LLMPlanner(retrieval_planner=make(examples=0).retrieval_planner, examples=0)
    assert planner.endpoint == server.url + "/v1/chat/completions"
    planner.parse(DIALOGUE)
    assert server.requests[0]["body"]["model"] == "env-model"
    assert server.requests[0]["headers"]["Authorization"] == "Bearer env-key"
    assert "Solved examples" not in server.requests[0]["body"]["messages"][0]["content"]
    assert chat_completions_url("http://h:1/v1/") == "http://h:1/v1/chat/completions"
    assert chat_completions_url("https://h/v1beta/openai") == "https://h/v1beta/openai/chat/completions"
    assert chat_completions_url("http://h/v1/chat/completions") == "http://h/v1/chat/completions"
    with pytest.raises(ValueError, match="url"):
        chat_completions_url("localhost:8000")


def test_helpers():
    assert extract_json_object('x {"a": 1} {"b": 2}') == {"a": 1}
    with pytest.raises(ProgramError, match="no JSON object"):
        extract_json_object("no braces here")
    assert all(len(PARAM_MEANINGS[f]) == n for f, n in FAMILY_NPARAMS.items())
    assert "Solved examples" in system_prompt([({"text": "coffee please", "family": "Coffee", "params": []}, 1.0)])
