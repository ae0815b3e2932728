#!/usr/bin/env python3
"""A Lintel gRPC client made by a standard toolchain other than Lintel's: Python's
grpcio-tools compiles the repository's crates/lintel-proto/proto/lintel/v1/lintel.proto, and
this script uses the generated stubs to authenticate with an API key, create a batch of accesses with the Entryfy
reference's fields, read them back, open a door and watch the events that makes.

    python3 -m pip install 'grpcio-tools>=1.70,<2'
    python3 clients/python/lintel_grpc_demo.py --address 127.0.0.1:8080 \
        --api-key lnt_... --org acme --door <door uuid> --member <member uuid>

It prints what it did as JSON lines and exits 0, or says what went wrong and exits 1. The
key needs the `delegation`, `doors` and `audit` areas (an owner key has them all).
"""

import argparse
import json
import pathlib
import queue
import sys
import tempfile
import threading
import uuid

from grpc_tools import protoc


def generate_stubs(proto_root: pathlib.Path, out: pathlib.Path) -> None:
    """Compiles the .proto files into `out` with grpcio-tools' bundled protoc."""
    well_known = pathlib.Path(protoc.__file__).parent / "_proto"
    status = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{proto_root}",
            f"-I{well_known}",
            f"--python_out={out}",
            f"--grpc_python_out={out}",
            str(proto_root / "lintel" / "v1" / "lintel.proto"),
        ]
    )
    if status != 0:
        raise SystemExit(f"protoc failed with status {status}")


def say(step: str, **facts) -> None:
    print(json.dumps({"step": step, **facts}), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", required=True, help="host:port of `lintel serve`")
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--org", required=True, help="the organization's slug")
    parser.add_argument("--door", required=True, help="a door's uuid")
    parser.add_argument("--member", required=True, help="a member's uuid")
    parser.add_argument(
        "--proto",
        default=str(pathlib.Path(__file__).resolve().parents[2] / "crates" / "lintel-proto" / "proto"),
        help="the repository's proto directory",
    )
    args = parser.parse_args()

    out = pathlib.Path(tempfile.mkdtemp(prefix="lintel-stubs-"))
    generate_stubs(pathlib.Path(args.proto), out)
    sys.path.insert(0, str(out))
    import grpc  # noqa: E402
    from google.protobuf import timestamp_pb2, wrappers_pb2  # noqa: E402
    from lintel.v1 import lintel_pb2 as pb  # noqa: E402
    from lintel.v1 import lintel_pb2_grpc as rpc  # noqa: E402

    # Requests go gzipped (the server unpacks them and answers gzipped as well).
    channel = grpc.insecure_channel(args.address, compression=grpc.Compression.Gzip)
    auth = rpc.AuthServiceStub(channel)
    accesses = rpc.AccessesServiceStub(channel)
    doors = rpc.DoorsServiceStub(channel)

    tokens = auth.Authenticate(pb.AuthenticateRequest(api_key=args.api_key))
    say("authenticated", expires_at=tokens.expires_at.ToJsonString())
    bearer = [("authorization", f"Bearer {tokens.auth_token}")]

    # Two accesses as a client written for the reference schema sends them.
    valid_to = timestamp_pb2.Timestamp()
    valid_to.FromJsonString("2030-01-01T00:00:00Z")
    bodies = [
        pb.AccessBody(
            uuid=str(uuid.uuid4()),
            name=f"Python access {i}",
            kind=pb.AccessBody.KIND_TEMPORARY,
            preferences={"client": "grpcio-tools"},
            valid_to=valid_to,
            doors=[
                pb.AccessDoor(
                    door_uuid=args.door,
                    in_auth_types=["mobile", "card"],
                    out_auth_types=[],
                )
            ],
            users=[pb.AccessUser(user_uuid=args.member)],
            description="made by the Python demo",
            welcome_email_required=wrappers_pb2.BoolValue(value=False),
        )
        for i in range(2)
    ]
    created = accesses.CreateAccesses(
        pb.CreateAccessesRequest(organization_slug=args.org, access_bodies=bodies),
        metadata=bearer,
    )
    uuids = [a.uuid for a in created.access_bodies]
    assert uuids == [b.uuid for b in bodies], "the client's uuids are kept"
    assert all(a.status == pb.AccessBody.STATUS_READY for a in created.access_bodies)
    say("created", uuids=uuids)

    # A retry of the same batch creates nothing new.
    again = accesses.CreateAccesses(
        pb.CreateAccessesRequest(organization_slug=args.org, access_bodies=bodies),
        metadata=bearer,
    )
    assert list(again.access_bodies) == list(created.access_bodies)

    read = accesses.GetAccesses(
        pb.GetAccessesRequest(organization_slug=args.org, uuids=uuids), metadata=bearer
    )
    for sent, got in zip(bodies, read.access_bodies):
        assert got.name == sent.name
        assert got.kind == pb.AccessBody.KIND_TEMPORARY
        assert got.valid_to == valid_to
        assert got.doors[0].door_uuid == args.door
        assert list(got.doors[0].in_auth_types) == ["mobile", "card"]
        assert got.users[0].user_uuid == args.member
        assert got.preferences["client"] == "grpcio-tools"
    say("read back", count=len(read.access_bodies))

    # Watch the organization's events, then open the door.
    events: "queue.Queue" = queue.Queue()
    stream = doors.WatchEvents(
        pb.WatchEventsRequest(organization_slug=args.org), metadata=bearer
    )

    def follow() -> None:
        try:
            for event in stream:
                events.put(event)
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.CANCELLED:
                events.put(err)

    # The stream starts from the moment the server answers with its headers: wait for them,
    # or the door could open before the watch begins and its event would not be streamed.
    stream.initial_metadata()
    threading.Thread(target=follow, daemon=True).start()
    opened = doors.RemoteOpen(
        pb.RemoteOpenRequest(organization_slug=args.org, door_uuid=args.door),
        metadata=bearer,
    )
    assert opened.granted, opened
    say("opened", door=opened.door_uuid, at=opened.at.ToJsonString())

    event = events.get(timeout=15)
    if isinstance(event, Exception):
        raise event
    assert event.kind == "decision.granted", event
    assert event.object_uuid == args.door, event
    say("watched", kind=event.kind, actor=event.actor_kind, uuid=event.uuid)
    stream.cancel()

    # A refusal carries a stable code and names the field.
    broken = pb.AccessBody(name="No doors")
    try:
        accesses.CreateAccesses(
            pb.CreateAccessesRequest(organization_slug=args.org, access_bodies=[broken]),
            metadata=bearer,
        )
        raise AssertionError("an access without doors was accepted")
    except grpc.RpcError as err:
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err
        assert err.details().startswith("required: access_bodies[0].doors: "), err.details()
        say("refused", code=err.code().name, message=err.details())

    # Tokens rotate.
    fresh = auth.Reissue(pb.ReissueRequest(reissue_token=tokens.reissue_token))
    assert fresh.auth_token != tokens.auth_token
    say("reissued")
    return 0


if __name__ == "__main__":
    sys.exit(main())
