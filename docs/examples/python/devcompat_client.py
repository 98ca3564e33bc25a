"""A host agent and a scheduler in Python, on Debian's grpcio and the stubs that protoc
generates from proto/ (docs/clients.md): it registers hosts, streams FindTargets, follows the
change feed with Watch, and reads a bad request's google.rpc.BadRequest details. CI runs it
(test/python/interop-python.test.ts) and asserts on the one JSON object it prints.
Usage: devcompat_client.py <address> <stubs dir> <run id>."""

import json
import sys

address, stubs, run = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, stubs)

import grpc  # noqa: E402
from devcompat.v1 import compatibility_pb2, compatibility_pb2_grpc  # noqa: E402
from devcompat.v1 import descriptor_pb2, history_pb2, registry_pb2, registry_pb2_grpc  # noqa: E402
from devcompat.v1 import watch_pb2, watch_pb2_grpc  # noqa: E402
from google.rpc import error_details_pb2, status_pb2  # noqa: E402

Op = descriptor_pb2.CompareOp


def vgpu(manager, ecc=True):
    """An NVIDIA vGPU type as a host agent would describe it."""
    return descriptor_pb2.Descriptor(
        vendor="10de",
        device_api="vfio-pci",
        type="nvidia-525",
        software_version="17.3.0",
        attributes={
            "ecc": descriptor_pb2.AttributeValue(bool_value=ecc),
            "framebuffer_mb": descriptor_pb2.AttributeValue(int_value=2048),
            "max_instance": descriptor_pb2.AttributeValue(int_value=24),
            "manager": descriptor_pb2.AttributeValue(version_value=manager),
        },
        rules={
            "ecc": descriptor_pb2.Rule(op=Op.COMPARE_OP_EQUAL),
            "framebuffer_mb": descriptor_pb2.Rule(op=Op.COMPARE_OP_EQUAL),
            "max_instance": descriptor_pb2.Rule(op=Op.COMPARE_OP_IGNORE),
            "manager": descriptor_pb2.Rule(op=Op.COMPARE_OP_VERSION_GE, warn_only=True),
        },
    )


def sync(registry, host, descriptor, available):
    request = registry_pb2.SyncHostRequest(
        name=f"hosts/{host}",
        labels={"agent": "python", "run": run},
        devices=[
            registry_pb2.DeviceSpec(
                device_id="0000:3b:00.0",
                descriptor=descriptor,
                capacity=descriptor_pb2.Capacity(total=24, available=available),
            )
        ],
        expected_revision=0,  # proto3 optional: present, so "must not exist yet"
    )
    response = registry.SyncHost(request, metadata=[("x-devcompat-actor", "python-agent")], timeout=10)
    return {"revision": response.revision, "changed": response.changed, "created": response.devices_created}


def main():
    out = {}
    with grpc.insecure_channel(address) as channel:
        registry = registry_pb2_grpc.RegistryServiceStub(channel)
        compatibility = compatibility_pb2_grpc.CompatibilityServiceStub(channel)

        out["syncs"] = [
            sync(registry, f"py-{run}-src", vgpu("535.104.05"), 20),
            sync(registry, f"py-{run}-same", vgpu("535.104.05"), 4),
            sync(registry, f"py-{run}-newer", vgpu("550.54.14"), 24),
            sync(registry, f"py-{run}-older", vgpu("525.85.05"), 24),
            sync(registry, f"py-{run}-noecc", vgpu("535.104.05", ecc=False), 24),
        ]

        # expected_revision is proto3 `optional`: 0 is present and means "must not exist yet".
        try:
            sync(registry, f"py-{run}-src", vgpu("535.104.05"), 20)
            out["resync_code"] = "OK"
        except grpc.RpcError as error:
            out["resync_code"] = error.code().name

        # FindTargets is server streaming: targets best first, rejected candidates, a summary.
        source = compatibility_pb2.DeviceRef(name=f"hosts/py-{run}-src/devices/0000:3b:00.0")
        stream = compatibility.FindTargets(
            compatibility_pb2.FindTargetsRequest(source=source, include_rejected=True, host_labels={"run": run}),
            timeout=10,
        )
        out["stream"] = []
        for message in stream:
            if message.WhichOneof("item") == "target":
                target = message.target
                out["stream"].append(
                    {
                        "name": target.name,
                        "rank": target.rank,
                        "verdict": compatibility_pb2.Verdict.Name(target.result.verdict),
                        "exact": target.exact,
                        "problems": [
                            f"{check.attribute}:{check.reason}"
                            for check in target.result.checks
                            if check.result != compatibility_pb2.CHECK_RESULT_PASS
                        ],
                    }
                )
            else:
                summary = message.summary
                out["stream"].append(
                    {
                        "summary": {
                            "revision": summary.revision,
                            "candidates": summary.candidates,
                            "compatible": summary.compatible,
                            "rejected": summary.rejected,
                        }
                    }
                )

        # Watch is server streaming: a first message once the watch is registered (`created`),
        # then one message per revision with all its events, from start_revision on.
        watch = watch_pb2_grpc.WatchServiceStub(channel).Watch(
            watch_pb2.WatchRequest(start_revision=1, filter=watch_pb2.WatchFilter(host=f"hosts/py-{run}-src")),
            timeout=10,
        )
        out["watch"] = []
        for message in watch:
            if message.created or message.progress:
                continue
            for event in message.events:
                out["watch"].append(
                    {
                        "revision": message.revision,
                        "kind": history_pb2.ChangeKind.Name(event.kind),
                        "resource": event.resource,
                        "actor": event.actor,
                    }
                )
            if message.revision >= out["syncs"][0]["revision"]:
                break
        watch.cancel()

        # A bad request: the rich error model's google.rpc.Status rides in grpc-status-details-bin.
        bad = vgpu("535.104.05")
        bad.attributes["Bad Name"].int_value = 1
        try:
            registry.SyncHost(
                registry_pb2.SyncHostRequest(
                    name=f"hosts/py-{run}-bad", devices=[registry_pb2.DeviceSpec(device_id="0", descriptor=bad)]
                ),
                timeout=10,
            )
            out["error"] = None
        except grpc.RpcError as error:
            details = dict(error.trailing_metadata() or ()).get("grpc-status-details-bin")
            status = status_pb2.Status.FromString(details) if details else status_pb2.Status()
            info = error_details_pb2.ErrorInfo()
            bad_request = error_details_pb2.BadRequest()
            for detail in status.details:
                if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                    detail.Unpack(info)
                elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                    detail.Unpack(bad_request)
            out["error"] = {
                "code": error.code().name,
                "message": error.details(),
                "status_code": status.code,
                "status_message": status.message,
                "reason": info.reason,
                "domain": info.domain,
                "violations": [{"field": v.field, "description": v.description} for v in bad_request.field_violations],
            }

        missing = registry_pb2.GetHostRequest(name=f"hosts/py-{run}-bad")
        try:
            registry.GetHost(missing, timeout=10)
            out["stored_bad"] = True
        except grpc.RpcError as error:
            out["stored_bad"] = error.code().name != "NOT_FOUND"
    print(json.dumps(out))


main()
