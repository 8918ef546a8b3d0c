package broker

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"

	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// CheckBroker verifies a broker as a client would; see Runtime.
func (k *Kafka) CheckBroker(ctx context.Context, instanceID string, brokerID int32, version string) error {
	av, err := apiVersionFor(version)
	if err != nil {
		return err
	}
	inst, err := k.get(instanceID)
	if err != nil {
		return err
	}
	b := inst.front(brokerID)
	if b == nil {
		return fmt.Errorf("broker: instance %s has no broker %d", instanceID, brokerID)
	}
	addr := net.JoinHostPort(k.dialHost(), strconv.Itoa(b.port))
	avReq := kmsg.NewPtrApiVersionsRequest()
	avReq.Version = 0
	resp, err := roundTrip(ctx, addr, avReq)
	if err != nil {
		return fmt.Errorf("broker %d: api versions: %w", brokerID, err)
	}
	if got := kversion.FromApiVersionsResponse(resp.(*kmsg.ApiVersionsResponse)).VersionGuess(); got != av.guess {
		return fmt.Errorf("broker %d: answers as %s, want %s", brokerID, got, av.guess)
	}
	mReq := kmsg.NewPtrMetadataRequest()
	mReq.Version = 1
	mReq.Topics = nil
	mr, err := roundTrip(ctx, addr, mReq)
	if err != nil {
		return fmt.Errorf("broker %d: metadata: %w", brokerID, err)
	}
	meta := mr.(*kmsg.MetadataResponse)
	if !slices.ContainsFunc(meta.Brokers, func(mb kmsg.MetadataResponseBroker) bool { return mb.NodeID == brokerID }) {
		return fmt.Errorf("broker %d: not listed in metadata", brokerID)
	}
	for _, t := range meta.Topics {
		for _, p := range t.Partitions {
			if p.Leader < 0 || p.ErrorCode != 0 {
				return fmt.Errorf("broker %d: %s/%d has no leader", brokerID, deref(t.Topic), p.Partition)
			}
		}
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
