package openapi

import (
	"context"
	"crypto/rand"
	"math/big"
	"strings"
	"time"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

// Orders: buying an instance (CreatePostPayOrder, CreatePrePayOrder) and
// the ids it is given.

// randomID returns n characters of lower-case letters and digits, the
// alphabet of alikafka instance ids.
func randomID(n int) string { return randomString("abcdefghijklmnopqrstuvwxyz0123456789", n) }

// randomDigits returns an n-digit number without a leading zero, the shape
// of alikafka order ids.
func randomDigits(n int) string {
	return randomString("123456789", 1) + randomString("0123456789", n-1)
}

func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		x, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[x.Int64()]
	}
	return string(b)
}

// createOrder buys an instance: it waits in ServiceStatus 0 until
// StartInstance deploys it. paidType 1 is pay-as-you-go, 0 subscription.
func (s *Instances) createOrder(paidType int) Handler {
	return func(ctx context.Context, r *Request) (Object, error) {
		inst, err := s.buy(ctx, r, paidType)
		if err != nil {
			return nil, err
		}
		return Object{{"OrderId", inst.OrderID}}, nil
	}
}

// buy stores the instance an order or Create*Instance request buys.
func (s *Instances) buy(ctx context.Context, r *Request, paidType int) (*kafkaplane.Instance, error) {
	if !r.Has("IoMax") && !r.Has("IoMaxSpec") {
		return nil, apierr.Missing("IoMaxSpec")
	}
	tags, _ := r.TagsOf("Tag")
	prefix := "alikafka_post-"
	if paidType == 0 {
		prefix = "alikafka_pre-"
	}
	now := s.now()
	inst := &kafkaplane.Instance{
		ID:              prefix + regionPrefix(r.RegionID) + "-" + randomID(12),
		AccountID:       r.Caller.AccountID,
		RegionID:        r.RegionID,
		OrderID:         randomDigits(15),
		PaidType:        paidType,
		SpecType:        r.String("SpecType"),
		DeployType:      r.Int("DeployType", 5),
		DiskType:        r.Int("DiskType", 0),
		DiskSize:        r.Int("DiskSize", 0),
		IoMax:           r.Int("IoMax", 0),
		IoMaxSpec:       r.String("IoMaxSpec"),
		EipMax:          r.Int("EipMax", 0),
		TopicQuota:      r.Int("TopicQuota", defaultTopicQuota),
		PartitionNum:    r.Int("PartitionNum", 0),
		ResourceGroupID: r.String("ResourceGroupId"),
		Tags:            tags,
		Config:          map[string]string{},
		CreateTime:      now,
	}
	if inst.SpecType == "" {
		inst.SpecType = "normal"
	}
	if inst.IoMaxSpec == "" {
		inst.IoMaxSpec = "alikafka.hw.2xlarge"
	}
	if paidType == 0 {
		inst.ExpiredTime = now.AddDate(0, r.Int("Duration", 1), 0)
	} else {
		// Pay-as-you-go instances do not expire; alikafka shows a date
		// far in the future.
		inst.ExpiredTime = time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC)
	}
	if err := s.Store.CreateInstance(ctx, inst, s.MaxInstancesPerAccount); err != nil {
		if kafkaplane.ErrorCode(err) == kafkaplane.CodeLimitExceeded {
			return nil, apierr.InstanceQuotaExceeded.Errorf("The account already holds %d instances, the most allowed; delete one first.", s.MaxInstancesPerAccount)
		}
		return nil, err
	}
	return inst, nil
}

// regionPrefix is the region part of an instance id: alikafka ids read
// alikafka_post-cn-… for Chinese mainland regions and use the region's
// first segment elsewhere.
func regionPrefix(region string) string {
	p, _, _ := strings.Cut(region, "-")
	return p
}
