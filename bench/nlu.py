"""NLU benchmark: training 1,000 intents x 50 utterances, artifact size, model/test latency through HTTP,
and accuracy / out-of-scope rejection on tests/data/nlu_paraphrase.json. Prints a table.

    .venv/bin/python bench/nlu.py            # uses a throw-away SQLite database and a daphne process
"""

from __future__ import annotations

import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORKDIR = Path(tempfile.mkdtemp(prefix="nlu-bench-"))
os.environ["SQLITE_PATH"] = str(WORKDIR / "bench.sqlite3")
os.environ.pop("DATABASE_URL", None)
os.environ.pop("REDIS_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from apps.models_registry.engines.nlu import classifier  # noqa: E402

TEMPLATES = [
    "i need help with {a} {b}", "how do i {v} my {a}", "can you {v} the {b} {a}", "{a} {b} is not working",
    "what about the {a} for {b}", "please {v} {a} now", "is there a {b} {a} option", "tell me about {a} and {b}",
    "my {a} needs a {b}", "where can i {v} a {a}",
]  # fmt: skip


def synthetic(intents: int, per_intent: int, rng: random.Random) -> list[tuple[str, str]]:
    from apps.models_registry.engines.nlu import minilm

    vocab = [w for w in minilm.load().tokenizer.vocab if w.isalpha() and len(w) > 3]
    rng.shuffle(vocab)
    examples = []
    for i in range(intents):
        nouns = vocab[i * 6 : i * 6 + 4]
        verbs = vocab[i * 6 + 4 : i * 6 + 6]
        for j in range(per_intent):
            template = TEMPLATES[j % len(TEMPLATES)]
            text = template.format(a=rng.choice(nouns), b=rng.choice(nouns), v=rng.choice(verbs))
            examples.append((f"intent_{i:04d}", f"{text} {j}"))
    return examples


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux), which other load on the machine does not inflate."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    rng = random.Random(7)
    rows: list[tuple[str, str, str]] = []
    data = json.loads((ROOT / "tests" / "data" / "nlu_paraphrase.json").read_text())

    # 1. Paraphrase accuracy and out-of-scope rejection (10 intents: the contextual encoder).
    examples = [(intent, u) for intent, us in data["train"].items() for u in us]
    started = time.perf_counter()
    small = classifier.train(examples)
    small_train = time.perf_counter() - started
    tests = [(intent, u) for intent, us in data["test"].items() for u in us]
    accuracy = sum(small.predict(u).intent == intent for intent, u in tests) / len(tests)
    rejected = sum(small.predict(u).intent is None for u in data["out_of_scope"]) / len(data["out_of_scope"])
    rows += [
        ("10 intents x 8 examples: train", f"{small_train:.2f} s", "encoder: " + small.embedder),
        ("unseen paraphrases (60): accuracy", f"{accuracy:.1%}", "target >= 80%"),
        ("out-of-scope (40): rejected", f"{rejected:.1%}", "target >= 80%"),
    ]

    # 2. 1,000 intents x 50 utterances.
    big_examples = synthetic(1000, 50, rng)
    classifier.train(big_examples[:2000], contextual_max_examples=0)  # warm the encoder and vectorizers
    started = time.perf_counter()
    big = classifier.train(big_examples)
    big_train = time.perf_counter() - started
    blob = big.to_bytes()
    rows += [
        ("1,000 x 50 utterances: train", f"{big_train:.2f} s", "target < 5 s; encoder: " + big.embedder),
        ("1,000 x 50 utterances: artifact", f"{len(blob) / 1e6:.1f} MB", "target < 50 MB"),
    ]
    held = [(intent, text.rsplit(" ", 1)[0]) for intent, text in rng.sample(big_examples, 300)]
    big_accuracy = sum(big.predict(t, threshold=0).intent == i for i, t in held) / len(held)
    rows.append(("1,000 intents: training sentences, number removed", f"{big_accuracy:.1%}", "sanity check"))

    # 3. model/test through HTTP on the 1,000-intent model.
    call_command("migrate", verbosity=0)
    from apps.accounts.services.bootstrap import company_bootstrap
    from apps.models_registry.models import AIModel, ModelArtifact

    issued = company_bootstrap(
        name="Bench",
        email="bench@example.com",
        password="Bench-Passw0rd!",  # noqa: S106
        plan="NONE",
        fname="B",
        lname="B",
    )
    company_id = issued["groupid"]
    model = AIModel.objects.create(
        company_id=company_id, name="big", algorithm="natural-bayes", version=1, state="trained"
    )
    ModelArtifact.objects.create(
        company_id=company_id, model=model, version=1, engine="natural-bayes", data=blob, size=len(blob)
    )
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base", "LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/api/v1/toolbox/tools/model/test"
        headers = {"Content-Type": "application/json", "X-API-Key": issued["apikey"], "X-Enc-Key": issued["enckey"]}
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        sentences = [text for _, text in held[:50]]
        timings = []
        cpu_before = 0.0
        for i in range(250):
            if i == 50:
                cpu_before = cpu_seconds(server.pid)
            body = json.dumps({"modelid": str(model.pk), "input": sentences[i % len(sentences)]}).encode()
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                assert response.status == 200
                response.read()
            if i >= 50:  # the first calls load the model
                timings.append((time.perf_counter() - started) * 1000)
        cpu_per_request = (cpu_seconds(server.pid) - cpu_before) / len(timings) * 1000
        # What the HTTP server itself costs: the same loop on the health check, which does no work.
        baseline, cpu_before = [], cpu_seconds(server.pid)
        for _ in range(200):
            started = time.perf_counter()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30) as response:
                response.read()
            baseline.append((time.perf_counter() - started) * 1000)
        baseline_cpu = (cpu_seconds(server.pid) - cpu_before) / len(baseline) * 1000
        timings.sort()
        rows += [
            ("model/test over HTTP (1,000 intents): p50", f"{statistics.median(timings):.1f} ms", "target < 10 ms"),
            ("model/test over HTTP (1,000 intents): p95", f"{timings[int(len(timings) * 0.95)]:.1f} ms", ""),
            ("model/test: server CPU per request", f"{cpu_per_request:.1f} ms", "daphne's user+system time"),
            ("GET /healthz over HTTP: p50", f"{statistics.median(baseline):.1f} ms", f"CPU {baseline_cpu:.1f} ms"),
            ("load average while measured", f"{os.getloadavg()[0]:.1f}", f"{os.cpu_count()} cores"),
        ]
    finally:
        server.terminate()
        server.wait(timeout=10)

    # 4. The same model/test through Django in this process (no HTTP server, no network).
    from django.conf import settings
    from django.test import Client

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client(HTTP_X_API_KEY=issued["apikey"], HTTP_X_ENC_KEY=issued["enckey"])
    local = []
    for i in range(250):
        body = json.dumps({"modelid": str(model.pk), "input": sentences[i % len(sentences)]})
        started = time.perf_counter()
        answer = client.post("/api/v1/toolbox/tools/model/test", body, content_type="application/json")
        assert answer.status_code == 200, answer.content[:200]
        if i >= 50:
            local.append((time.perf_counter() - started) * 1000)
    rows.append(("model/test in-process (Django, no HTTP): p50", f"{statistics.median(local):.1f} ms", ""))

    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)} | {'value':>10} | note")
    print(f"{'-' * width}-|-{'-' * 10}-|-----")
    for name, value, note in rows:
        print(f"{name.ljust(width)} | {value:>10} | {note}")


if __name__ == "__main__":
    main()
