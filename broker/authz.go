package broker

import (
	"encoding/binary"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// routeAuthorized is route with the connection's SASL state applied:
// SaslHandshake and SaslAuthenticate after login are refused as Kafka
// refuses them, and SASL principals of an instance with ACLs enabled are
// held to its ACLs. The plaintext listener is not: like alikafka's
// default endpoint it is guarded by its allowlist alone.
func (pc *proxyConn) routeAuthorized(h requestHeader, frame []byte) (pending, bool, []byte) {
	supported := h.version >= 0 && h.version <= pc.ver.maxVersion(h.key)
	switch h.key {
	case kmsg.SASLHandshake.Int16(), kmsg.SASLAuthenticate.Int16():
		if supported {
			return pending{corr: h.corr, local: saslAfterLogin(h.key, h.version)}, false, nil
		}
	}
	sec := pc.b.inst.security()
	if pc.user == "" || !sec.aclEnabled || !supported || h.key == kmsg.ApiVersions.Int16() {
		return pc.route(h, frame)
	}
	req := kmsg.RequestForKey(h.key)
	if req == nil {
		return pending{corr: h.corr, closeConn: true}, false, nil
	}
	req.SetVersion(h.version)
	if err := req.ReadFrom(frame[h.bodyAt:]); err != nil {
		return pc.route(h, frame) // route refuses what it cannot parse
	}
	c := &authCtx{a: sec.authz, user: pc.user, host: pc.host, ver: pc.ver, inst: pc.b.inst}
	rule, ok := aclRules[kmsg.Key(h.key)]
	if !ok {
		// Requests outside the table are broker-to-broker or
		// administrative ones clients do not send; Kafka wants
		// ClusterAction on the cluster for the former.
		rule = clusterOp(OpClusterAction)
	}
	v := rule(c, req)
	switch {
	case v.close:
		return pending{corr: h.corr, closeConn: true}, false, nil
	case v.local != nil:
		v.local.SetVersion(h.version)
		return pending{corr: h.corr, local: v.local.AppendTo(nil)}, false, nil
	}
	if v.rewrite {
		frame = append(slices.Clip(frame[:h.bodyAt]), req.AppendTo(nil)...)
	}
	p, send, out := pc.route(h, frame)
	if v.rewrite && send && out == nil {
		// route forwards "the client's frame unchanged" by leaving out
		// nil, and the caller then sends the frame it read. A rewritten
		// request must go out instead, so it is handed back as the
		// frame to send; otherwise storage would see what was denied.
		out = binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(frame)), uint32(len(frame)))
		out = append(out, frame...)
	}
	if v.patch == nil {
		return p, send, out
	}
	patch := func(b []byte) ([]byte, error) {
		resp := req.ResponseKind()
		resp.SetVersion(h.version)
		if err := resp.ReadFrom(b); err != nil {
			return nil, err
		}
		v.patch(resp)
		return resp.AppendTo(nil), nil
	}
	switch {
	case p.local != nil:
		if b, err := patch(p.local); err == nil {
			p.local = b
		}
	case p.upstream:
		inner := p.convert
		p.convert = func(b []byte) ([]byte, error) {
			if inner != nil {
				var err error
				if b, err = inner(b); err != nil {
					return nil, err
				}
			}
			return patch(b)
		}
	}
	return p, send, out
}

// authCtx is one request's principal and the ACLs it is held to.
type authCtx struct {
	a          *authorizer
	user, host string
	ver        *apiVersion
	inst       *instance
}

func (c *authCtx) may(op Operation, rt ResourceType, name string) bool {
	return c.a.authorize(c.user, c.host, op, rt, name)
}

// verdict is what the ACLs make of one request: forwarded as it is
// (the zero value), answered locally, refused by closing the
// connection, forwarded with the denied parts removed (rewrite, the
// decoded request having been edited in place) and/or answered with
// patch applied to the response.
type verdict struct {
	local   kmsg.Response
	close   bool
	rewrite bool
	patch   func(kmsg.Response)
}

// aclRules holds, per request key, which operations on which resources
// a request needs, following Kafka 2.2's request handlers (0.10.2's where
// they differ). Denied topics, groups and partitions get the version's
// authorization error in their place of the response; what would change
// state is removed from the request first.
var aclRules = map[kmsg.Key]func(*authCtx, kmsg.Request) verdict{
	kmsg.Produce:              authzProduce,
	kmsg.Fetch:                authzFetch,
	kmsg.ListOffsets:          authzListOffsets,
	kmsg.Metadata:             authzMetadata,
	kmsg.OffsetCommit:         authzOffsetCommit,
	kmsg.OffsetFetch:          authzOffsetFetch,
	kmsg.FindCoordinator:      authzFindCoordinator,
	kmsg.JoinGroup:            groupRead(func(r kmsg.Request) string { return r.(*kmsg.JoinGroupRequest).Group }),
	kmsg.Heartbeat:            groupRead(func(r kmsg.Request) string { return r.(*kmsg.HeartbeatRequest).Group }),
	kmsg.LeaveGroup:           groupRead(func(r kmsg.Request) string { return r.(*kmsg.LeaveGroupRequest).Group }),
	kmsg.SyncGroup:            groupRead(func(r kmsg.Request) string { return r.(*kmsg.SyncGroupRequest).Group }),
	kmsg.DescribeGroups:       authzDescribeGroups,
	kmsg.ListGroups:           authzListGroups,
	kmsg.CreateTopics:         authzCreateTopics,
	kmsg.DeleteTopics:         authzDeleteTopics,
	kmsg.DeleteRecords:        authzDeleteRecords,
	kmsg.InitProducerID:       authzInitProducerID,
	kmsg.OffsetForLeaderEpoch: authzOffsetForLeaderEpoch,
	kmsg.DescribeConfigs:      authzDescribeConfigs,
	kmsg.AlterConfigs:         authzAlterConfigs,
	kmsg.CreatePartitions:     authzCreatePartitions,
	kmsg.DeleteGroups:         authzDeleteGroups,
	kmsg.DescribeACLs:         clusterOp(OpDescribe),
	kmsg.CreateACLs:           clusterOp(OpAlter),
	kmsg.DeleteACLs:           clusterOp(OpAlter),
	kmsg.DescribeLogDirs:      clusterOp(OpDescribe),
	kmsg.AlterReplicaLogDirs:  clusterOp(OpAlter),
}

var (
	topicDenied   = kerr.TopicAuthorizationFailed.Code
	groupDenied   = kerr.GroupAuthorizationFailed.Code
	clusterDenied = kerr.ClusterAuthorizationFailed.Code
	txnDenied     = kerr.TransactionalIDAuthorizationFailed.Code
)

// clusterOp needs op on the cluster; denied, the connection is closed
// (these are administrative or broker-to-broker requests whose answers
// carry no per-resource error clients rely on).
func clusterOp(op Operation) func(*authCtx, kmsg.Request) verdict {
	return func(c *authCtx, _ kmsg.Request) verdict {
		if c.may(op, ResourceCluster, clusterName) {
			return verdict{}
		}
		return verdict{close: true}
	}
}

// batchProducerID reads the producer id of the first record batch in
// records, or -1 for message sets and empty records.
func batchProducerID(records []byte) int64 {
	const magicAt, pidAt = 16, 43
	if len(records) < pidAt+8 || records[magicAt] != 2 {
		return -1
	}
	return int64(binary.BigEndian.Uint64(records[pidAt:]))
}

// splitDenied partitions items into those may allows and those it
// denies, reusing items' backing array for the allowed ones.
func splitDenied[T any](items []T, may func(T) bool) (kept, denied []T) {
	kept = items[:0]
	for _, it := range items {
		if may(it) {
			kept = append(kept, it)
		} else {
			denied = append(denied, it)
		}
	}
	return kept, denied
}

// filtered is the verdict of a request whose denied parts are taken out:
// nothing to do when none is denied, a local answer when all are, else
// the rewritten request with the denied parts added to the answer.
func filtered[R kmsg.Response](req kmsg.Request, anyDenied, anyKept bool, setKept func(), add func(R)) verdict {
	if !anyDenied {
		return verdict{}
	}
	if !anyKept {
		resp := req.ResponseKind().(R)
		add(resp)
		return verdict{local: resp}
	}
	setKept()
	return verdict{rewrite: true, patch: func(resp kmsg.Response) { add(resp.(R)) }}
}

func authzProduce(c *authCtx, r kmsg.Request) verdict {
	req := r.(*kmsg.ProduceRequest)
	answer := func(topics []kmsg.ProduceRequestTopic, code int16, resp *kmsg.ProduceResponse) {
		for _, t := range topics {
			rt := kmsg.NewProduceResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewProduceResponseTopicPartition()
				rp.Partition, rp.ErrorCode, rp.BaseOffset = p.Partition, code, -1
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
	}
	all := func(code int16) verdict {
		if req.Acks == 0 {
			return verdict{close: true} // Kafka closes an acks=0 connection on any error
		}
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		answer(req.Topics, code, resp)
		return verdict{local: resp}
	}
	if req.TransactionID != nil {
		if !c.may(OpWrite, ResourceTransactionalID, *req.TransactionID) {
			return all(txnDenied)
		}
	} else {
		idempotent := false
		for _, t := range req.Topics {
			for _, p := range t.Partitions {
				idempotent = idempotent || batchProducerID(p.Records) >= 0
			}
		}
		if idempotent && !c.may(OpIdempotentWrite, ResourceCluster, clusterName) {
			return all(clusterDenied)
		}
	}
	kept, denied := splitDenied(req.Topics, func(t kmsg.ProduceRequestTopic) bool { return c.may(OpWrite, ResourceTopic, t.Topic) })
	if len(denied) > 0 && req.Acks == 0 {
		return verdict{close: true}
	}
	return filtered(req, len(denied) > 0, len(kept) > 0, func() { req.Topics = kept },
		func(resp *kmsg.ProduceResponse) { answer(denied, topicDenied, resp) })
}

func authzFetch(c *authCtx, r kmsg.Request) verdict {
	req := r.(*kmsg.FetchRequest)
	kept, denied := splitDenied(req.Topics, func(t kmsg.FetchRequestTopic) bool { return c.may(OpRead, ResourceTopic, t.Topic) })
	req.Topics = kept
	add := func(resp *kmsg.FetchResponse) {
		for _, t := range denied {
			rt := kmsg.NewFetchResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewFetchResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p.Partition, topicDenied
				rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = -1, -1, -1
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
	}
	if len(kept) == 0 && len(denied) > 0 {
		resp := req.ResponseKind().(*kmsg.FetchResponse)
		add(resp)
		return verdict{local: resp}
	}
	// Fetch sessions would let partitions added earlier be fetched
	// without being named again; under ACLs every fetch is a full one,
	// so every partition is checked on every request.
	rewrite := len(denied) > 0
	if req.Version >= 7 && (req.SessionID != 0 || req.SessionEpoch != -1 || len(req.ForgottenTopics) > 0) {
		req.SessionID, req.SessionEpoch, req.ForgottenTopics = 0, -1, nil
		rewrite = true
	}
	v := verdict{rewrite: rewrite}
	if len(denied) > 0 {
		v.patch = func(resp kmsg.Response) { add(resp.(*kmsg.FetchResponse)) }
	}
	return v
}

func authzListOffsets(c *authCtx, r kmsg.Request) verdict {
	req := r.(*kmsg.ListOffsetsRequest)
	if !slices.ContainsFunc(req.Topics, func(t kmsg.ListOffsetsRequestTopic) bool { return !c.may(OpDescribe, ResourceTopic, t.Topic) }) {
		return verdict{}
	}
	// Listing offsets changes nothing, so the request goes out whole and
	// the denied topics' answers are replaced.
	return verdict{patch: func(resp kmsg.Response) {
		lr := resp.(*kmsg.ListOffsetsResponse)
		for i := range lr.Topics {
			t := &lr.Topics[i]
			if c.may(OpDescribe, ResourceTopic, t.Topic) {
				continue
			}
			for j := range t.Partitions {
				p := &t.Partitions[j]
				p.ErrorCode, p.Offset, p.Timestamp, p.OldStyleOffsets, p.LeaderEpoch = topicDenied, -1, -1, nil, -1
			}
		}
	}}
}

func authzMetadata(c *authCtx, r kmsg.Request) verdict {
	req := r.(*kmsg.MetadataRequest)
	if req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0) {
		// All topics: those the principal may not describe are left out.
		return verdict{patch: func(resp kmsg.Response) {
			mr := resp.(*kmsg.MetadataResponse)
			mr.Topics = slices.DeleteFunc(mr.Topics, func(t kmsg.MetadataResponseTopic) bool {
				return !c.may(OpDescribe, ResourceTopic, deref(t.Topic))
			})
		}}
	}
	// Named topics the principal may not describe are answered
	// TOPIC_AUTHORIZATION_FAILED without being looked up (nor created);
	// a missing one is auto-created only with Create on the cluster.
	autoCreate := c.inst.autoTopics.Load() && (req.Version < 4 || req.AllowAutoTopicCreation)
	mayCreate := c.may(OpCreate, ResourceCluster, clusterName)
	kept, denied := splitDenied(req.Topics, func(t kmsg.MetadataRequestTopic) bool {
		name := deref(t.Topic)
		if !c.may(OpDescribe, ResourceTopic, name) {
			return false
		}
		return !autoCreate || mayCreate || c.inst.cluster.PartitionInfo(name, 0) != nil
	})
	if len(denied) == 0 {
		return verdict{}
	}
	req.Topics = kept
	return verdict{rewrite: true, patch: func(resp kmsg.Response) {
		mr := resp.(*kmsg.MetadataResponse)
		if len(kept) == 0 {
			// v0 reads an empty list as all topics; none were asked.
			mr.Topics = nil
		}
		for _, d := range denied {
			t := kmsg.NewMetadataResponseTopic()
			t.Topic = d.Topic
			t.ErrorCode = topicDenied
			mr.Topics = append(mr.Topics, t)
		}
	}}
}

func offsetCommitAnswer(topics []kmsg.OffsetCommitRequestTopic, code int16, resp *kmsg.OffsetCommitResponse) {
	for _, t := range topics {
		rt := kmsg.NewOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetCommitResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, code
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
}

func authzOffsetCommit(c *authCtx, r kmsg.Request) verdict {
	req := r.(*kmsg.OffsetCommitRequest)
	if !c.may(OpRead, ResourceGroup, req.Group) {
		resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
		offsetCommitAnswer(req.Topics, groupDenied, resp)
		return verdict{local: resp}
	}
	kept, denied := splitDenied(req.Topics, func(t kmsg.OffsetCommitRequestTopic) bool { return c.may(OpRead, ResourceTopic, t.Topic) })
	return filtered(req, len(denied) > 0, len(kept) > 0, func() { req.Topics = kept },
		func(resp *kmsg.OffsetCommitResponse) { offsetCommitAnswer(denied, topicDenied, resp) })
}

func authzOffsetFetch(c *authCtx, r kmsg.Request) verdict {
	req := r.(*kmsg.OffsetFetchRequest)
	if !c.may(OpDescribe, ResourceGroup, req.Group) {
		resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
		resp.ErrorCode = groupDenied
		for _, t := range req.Topics {
			rt := kmsg.NewOffsetFetchResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewOffsetFetchResponseTopicPartition()
				rp.Partition, rp.Offset, rp.ErrorCode = p, -1, groupDenied
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return verdict{local: resp}
	}
	// Reading committed offsets changes nothing: denied topics are
	// replaced in (or, when all were asked for, left out of) the answer.
	all := req.Topics == nil
	return verdict{patch: func(resp kmsg.Response) {
		or := resp.(*kmsg.OffsetFetchResponse)
		if all {
			or.Topics = slices.DeleteFunc(or.Topics, func(t kmsg.OffsetFetchResponseTopic) bool {
				return !c.may(OpDescribe, ResourceTopic, t.Topic)
			})
			return
		}
		for i := range or.Topics {
			t := &or.Topics[i]
			if c.may(OpDescribe, ResourceTopic, t.Topic) {
				continue
			}
			for j := range t.Partitions {
				p := &t.Partitions[j]
				p.Offset, p.Metadata, p.ErrorCode, p.LeaderEpoch = -1, nil, topicDenied, -1
			}
		}
	}}
}

func authzFindCoordinator(c *authCtx, r kmsg.Request) verdict {
	req := r.(*kmsg.FindCoordinatorRequest)
	rt, code := ResourceGroup, groupDenied
	if req.CoordinatorType == 1 {
		rt, code = ResourceTransactionalID, txnDenied
	}
	if c.may(OpDescribe, rt, req.CoordinatorKey) {
		return verdict{}
	}
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	resp.ErrorCode, resp.NodeID, resp.Port = code, -1, -1
	return verdict{local: resp}
}

// groupRead needs Read on the request's group, as JoinGroup, SyncGroup,
// Heartbeat and LeaveGroup do.
func groupRead(group func(kmsg.Request) string) func(*authCtx, kmsg.Request) verdict {
	return func(c *authCtx, r kmsg.Request) verdict {
		if c.may(OpRead, ResourceGroup, group(r)) {
			return verdict{}
		}
		resp := r.ResponseKind()
		switch resp := resp.(type) {
		case *kmsg.JoinGroupResponse:
			resp.ErrorCode, resp.Generation = groupDenied, -1
		case *kmsg.HeartbeatResponse:
			resp.ErrorCode = groupDenied
		case *kmsg.LeaveGroupResponse:
			resp.ErrorCode = groupDenied
		case *kmsg.SyncGroupResponse:
			resp.ErrorCode = groupDenied
		}
		return verdict{local: resp}
	}
}

func authzDescribeGroups(c *authCtx, r kmsg.Request) verdict {
	req := r.(*kmsg.DescribeGroupsRequest)
	if !slices.ContainsFunc(req.Groups, func(g string) bool { return !c.may(OpDescribe, ResourceGroup, g) }) {
		return verdict{}
	}
	return verdict{patch: func(resp kmsg.Response) {
		dr := resp.(*kmsg.DescribeGroupsResponse)
		for i := range dr.Groups {
			g := &dr.Groups[i]
			if !c.may(OpDescribe, ResourceGroup, g.Group) {
				name := g.Group
				*g = kmsg.NewDescribeGroupsResponseGroup()
				g.Group, g.ErrorCode = name, groupDenied
			}
		}
	}}
}

func authzListGroups(c *authCtx, r kmsg.Request) verdict {
	if c.may(OpDescribe, ResourceCluster, clusterName) {
		return verdict{}
	}
	resp := r.ResponseKind().(*kmsg.ListGroupsResponse)
	resp.ErrorCode = clusterDenied
	return verdict{local: resp}
}

func authzCreateTopics(c *authCtx, r kmsg.Request) verdict {
	req := r.(*kmsg.CreateTopicsRequest)
	onCluster := c.may(OpCreate, ResourceCluster, clusterName)
	// 0.10.2 knows only the cluster-wide Create; 2.x also takes Create
	// on the topic.
	code := topicDenied
	if c.ver.legacy {
		code = clusterDenied
	}
	kept, denied := splitDenied(req.Topics, func(t kmsg.CreateTopicsRequestTopic) bool {
		return onCluster || (!c.ver.legacy && c.may(OpCreate, ResourceTopic, t.Topic))
	})
	return filtered(req, len(denied) > 0, len(kept) > 0, func() { req.Topics = kept },
		func(resp *kmsg.CreateTopicsResponse) {
			for _, d := range denied {
				t := kmsg.NewCreateTopicsResponseTopic()
				t.Topic, t.ErrorCode = d.Topic, code
				resp.Topics = append(resp.Topics, t)
			}
		})
}

func authzDeleteTopics(c *authCtx, r kmsg.Request) verdict {
	req := r.(*kmsg.DeleteTopicsRequest)
	kept, denied := splitDenied(req.TopicNames, func(name string) bool { return c.may(OpDelete, ResourceTopic, name) })
	return filtered(req, len(denied) > 0, len(kept) > 0, func() { req.TopicNames = kept },
		func(resp *kmsg.DeleteTopicsResponse) {
			for _, name := range denied {
				t := kmsg.NewDeleteTopicsResponseTopic()
				t.Topic, t.ErrorCode = &name, topicDenied
				resp.Topics = append(resp.Topics, t)
			}
		})
}

func authzDeleteRecords(c *authCtx, r kmsg.Request) verdict {
	req := r.(*kmsg.DeleteRecordsRequest)
	kept, denied := splitDenied(req.Topics, func(t kmsg.DeleteRecordsRequestTopic) bool { return c.may(OpDelete, ResourceTopic, t.Topic) })
	return filtered(req, len(denied) > 0, len(kept) > 0, func() { req.Topics = kept },
		func(resp *kmsg.DeleteRecordsResponse) {
			for _, t := range denied {
				rt := kmsg.NewDeleteRecordsResponseTopic()
				rt.Topic = t.Topic
				for _, p := range t.Partitions {
					rp := kmsg.NewDeleteRecordsResponseTopicPartition()
					rp.Partition, rp.ErrorCode, rp.LowWatermark = p.Partition, topicDenied, -1
					rt.Partitions = append(rt.Partitions, rp)
				}
				resp.Topics = append(resp.Topics, rt)
			}
		})
}

// authzInitProducerID follows Kafka 2.2: a transactional producer needs
// Write on its transactional id, an idempotent one IdempotentWrite on
// the cluster.
func authzInitProducerID(c *authCtx, r kmsg.Request) verdict {
	req := r.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionalID != nil {
		if c.may(OpWrite, ResourceTransactionalID, *req.TransactionalID) {
			return verdict{}
		}
		resp.ErrorCode = txnDenied
		return verdict{local: resp}
	}
	if c.may(OpIdempotentWrite, ResourceCluster, clusterName) {
		return verdict{}
	}
	resp.ErrorCode = clusterDenied
	return verdict{local: resp}
}

func authzOffsetForLeaderEpoch(c *authCtx, r kmsg.Request) verdict {
	req := r.(*kmsg.OffsetForLeaderEpochRequest)
	if !slices.ContainsFunc(req.Topics, func(t kmsg.OffsetForLeaderEpochRequestTopic) bool {
		return !c.may(OpDescribe, ResourceTopic, t.Topic)
	}) {
		return verdict{}
	}
	return verdict{patch: func(resp kmsg.Response) {
		or := resp.(*kmsg.OffsetForLeaderEpochResponse)
		for i := range or.Topics {
			t := &or.Topics[i]
			if c.may(OpDescribe, ResourceTopic, t.Topic) {
				continue
			}
			for j := range t.Partitions {
				p := &t.Partitions[j]
				p.ErrorCode, p.LeaderEpoch, p.EndOffset = topicDenied, -1, -1
			}
		}
	}}
}

// configResource maps a config resource onto the ACL resource and the
// error its denial carries.
func configResource(rt kmsg.ConfigResourceType, name string) (ResourceType, string, int16) {
	if rt == kmsg.ConfigResourceTypeTopic {
		return ResourceTopic, name, topicDenied
	}
	return ResourceCluster, clusterName, clusterDenied
}

func authzDescribeConfigs(c *authCtx, r kmsg.Request) verdict {
	req := r.(*kmsg.DescribeConfigsRequest)
	denied := func(rt kmsg.ConfigResourceType, name string) (int16, bool) {
		art, an, code := configResource(rt, name)
		return code, !c.may(OpDescribeConfigs, art, an)
	}
	if !slices.ContainsFunc(req.Resources, func(res kmsg.DescribeConfigsRequestResource) bool {
		_, d := denied(res.ResourceType, res.ResourceName)
		return d
	}) {
		return verdict{}
	}
	return verdict{patch: func(resp kmsg.Response) {
		dr := resp.(*kmsg.DescribeConfigsResponse)
		for i := range dr.Resources {
			res := &dr.Resources[i]
			if code, d := denied(res.ResourceType, res.ResourceName); d {
				res.ErrorCode, res.ErrorMessage, res.Configs = code, nil, nil
			}
		}
	}}
}

func authzAlterConfigs(c *authCtx, r kmsg.Request) verdict {
	req := r.(*kmsg.AlterConfigsRequest)
	kept, denied := splitDenied(req.Resources, func(res kmsg.AlterConfigsRequestResource) bool {
		art, an, _ := configResource(res.ResourceType, res.ResourceName)
		return c.may(OpAlterConfigs, art, an)
	})
	return filtered(req, len(denied) > 0, len(kept) > 0, func() { req.Resources = kept },
		func(resp *kmsg.AlterConfigsResponse) {
			for _, d := range denied {
				_, _, code := configResource(d.ResourceType, d.ResourceName)
				res := kmsg.NewAlterConfigsResponseResource()
				res.ResourceType, res.ResourceName, res.ErrorCode = d.ResourceType, d.ResourceName, code
				resp.Resources = append(resp.Resources, res)
			}
		})
}

func authzCreatePartitions(c *authCtx, r kmsg.Request) verdict {
	req := r.(*kmsg.CreatePartitionsRequest)
	kept, denied := splitDenied(req.Topics, func(t kmsg.CreatePartitionsRequestTopic) bool { return c.may(OpAlter, ResourceTopic, t.Topic) })
	return filtered(req, len(denied) > 0, len(kept) > 0, func() { req.Topics = kept },
		func(resp *kmsg.CreatePartitionsResponse) {
			for _, d := range denied {
				t := kmsg.NewCreatePartitionsResponseTopic()
				t.Topic, t.ErrorCode = d.Topic, topicDenied
				resp.Topics = append(resp.Topics, t)
			}
		})
}

func authzDeleteGroups(c *authCtx, r kmsg.Request) verdict {
	req := r.(*kmsg.DeleteGroupsRequest)
	kept, denied := splitDenied(req.Groups, func(g string) bool { return c.may(OpDelete, ResourceGroup, g) })
	return filtered(req, len(denied) > 0, len(kept) > 0, func() { req.Groups = kept },
		func(resp *kmsg.DeleteGroupsResponse) {
			for _, name := range denied {
				g := kmsg.NewDeleteGroupsResponseGroup()
				g.Group, g.ErrorCode = name, groupDenied
				resp.Groups = append(resp.Groups, g)
			}
		})
}
