// A host agent and a scheduler in Go on the stubs protoc generates from proto/: it registers
// two hosts, streams FindTargets, and reads a bad request's google.rpc.BadRequest details,
// printing one JSON object. docs/clients.md gives the recipe; it is not run in CI (Debian 12's
// own Go packages build it but cannot run it, as docs/clients.md explains).
// Usage: devcompat-example <address> <run id>.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	devcompatv1 "github.com/devcompat/devcompat/gen/go/devcompat/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// vgpu is an NVIDIA vGPU type as a host agent would describe it.
func vgpu(manager string) *devcompatv1.Descriptor {
	return &devcompatv1.Descriptor{
		Vendor: "10de", DeviceApi: "vfio-pci", Type: "nvidia-525", SoftwareVersion: "17.3.0",
		Attributes: map[string]*devcompatv1.AttributeValue{
			"framebuffer_mb": {Kind: &devcompatv1.AttributeValue_IntValue{IntValue: 2048}},
			"manager":        {Kind: &devcompatv1.AttributeValue_VersionValue{VersionValue: manager}},
		},
		Rules: map[string]*devcompatv1.Rule{
			"framebuffer_mb": {Op: devcompatv1.CompareOp_COMPARE_OP_EQUAL},
			"manager":        {Op: devcompatv1.CompareOp_COMPARE_OP_VERSION_GE, WarnOnly: true},
		},
	}
}

func main() {
	address, run := os.Args[1], os.Args[2]
	conn, err := grpc.Dial(address, grpc.WithInsecure()) // plaintext, as the example server listens
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Who makes the changes, recorded in history.
	ctx = metadata.AppendToOutgoingContext(ctx, "x-devcompat-actor", "go-agent")
	registry := devcompatv1.NewRegistryServiceClient(conn)
	compatibility := devcompatv1.NewCompatibilityServiceClient(conn)
	out := map[string]interface{}{}

	var revisions []int64
	for _, host := range []struct{ name, manager string }{{"src", "535.104.05"}, {"newer", "550.54.14"}} {
		response, err := registry.SyncHost(ctx, &devcompatv1.SyncHostRequest{
			Name:   fmt.Sprintf("hosts/go-%s-%s", run, host.name),
			Labels: map[string]string{"run": run},
			Devices: []*devcompatv1.DeviceSpec{{
				DeviceId: "0000:3b:00.0", Descriptor_: vgpu(host.manager),
				Capacity: &devcompatv1.Capacity{Total: 24, Available: 24},
			}},
		})
		if err != nil {
			panic(err)
		}
		revisions = append(revisions, response.Revision)
	}
	out["revisions"] = revisions

	// FindTargets is server streaming: targets best first, then one summary.
	stream, err := compatibility.FindTargets(ctx, &devcompatv1.FindTargetsRequest{
		Source:     &devcompatv1.DeviceRef{Ref: &devcompatv1.DeviceRef_Name{Name: fmt.Sprintf("hosts/go-%s-src/devices/0000:3b:00.0", run)}},
		HostLabels: map[string]string{"run": run},
	})
	if err != nil {
		panic(err)
	}
	var found []string
	for {
		message, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		if target := message.GetTarget(); target != nil {
			found = append(found, fmt.Sprintf("%d %s %s", target.Rank, target.Name, target.Result.Verdict))
		} else {
			found = append(found, fmt.Sprintf("summary: %d candidates", message.GetSummary().Candidates))
		}
	}
	out["found"] = found

	// A bad request: the google.rpc.Status details carry a BadRequest naming the field.
	bad := vgpu("535.104.05")
	bad.Attributes["Bad Name"] = &devcompatv1.AttributeValue{Kind: &devcompatv1.AttributeValue_IntValue{IntValue: 1}}
	_, err = registry.SyncHost(ctx, &devcompatv1.SyncHostRequest{
		Name:    fmt.Sprintf("hosts/go-%s-bad", run),
		Devices: []*devcompatv1.DeviceSpec{{DeviceId: "0", Descriptor_: bad}},
	})
	var violations []string
	for _, detail := range status.Convert(err).Details() {
		if badRequest, ok := detail.(*errdetails.BadRequest); ok {
			for _, violation := range badRequest.FieldViolations {
				violations = append(violations, violation.Field+": "+violation.Description)
			}
		}
	}
	out["error"] = map[string]interface{}{"code": status.Code(err).String(), "violations": violations}

	encoded, _ := json.Marshal(out)
	fmt.Println(string(encoded))
}
