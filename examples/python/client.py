"""Send one message to `linewall serve` and print the verdict (Python, grpcio).

Usage: python client.py [ADDRESS] [TEXT]
The stubs are generated from proto/linewall/v1/linewall.proto at start-up with grpcio-tools,
so the client always matches the server's contract.
"""
import os
import sys
import tempfile

import grpc
from grpc_tools import protoc

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_ROOT = os.path.join(HERE, "..", "..", "proto")


def load_stubs():
    out = tempfile.mkdtemp(prefix="linewall-py-")
    code = protoc.main([
        "protoc",
        f"-I{PROTO_ROOT}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        "linewall/v1/linewall.proto",
    ])
    if code != 0:
        raise SystemExit("protoc failed")
    sys.path.insert(0, out)
    from linewall.v1 import linewall_pb2, linewall_pb2_grpc  # noqa: E402
    return linewall_pb2, linewall_pb2_grpc


def main():
    address = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:50051"
    text = sys.argv[2] if len(sys.argv) > 2 else "card 4111 1111 1111 1111"
    pb, rpc = load_stubs()
    with grpc.insecure_channel(address) as channel:
        stub = rpc.LinewallStub(channel)
        msg = pb.Message(id="py-1", text=text, channel=pb.CHANNEL_WHATSAPP, direction=pb.DIRECTION_OUTBOUND)
        verdict = stub.Evaluate(pb.EvaluateRequest(message=msg), timeout=10).verdict
    action = pb.Action.Name(verdict.action).removeprefix("ACTION_").lower()
    print(f"action={action} id={verdict.id} policy_version={verdict.policy_version}")
    for f in verdict.findings:
        print(f"finding detector={f.detector} field={f.field} span={f.start}..{f.end} preview={f.preview}")
    if verdict.notice:
        print(f"notice={verdict.notice}")


if __name__ == "__main__":
    main()
