package openapi

import (
	"context"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

// Tags of instances, topics and consumer groups (TagResources,
// UntagResources, ListTagResources). They are the same tags CreateTopic,
// CreateConsumerGroup and the order actions set and the TagVO lists show.
//
// A resource is named by ResourceType and ResourceId:
//
//	INSTANCE       the instance id (Terraform sends the type in lower case)
//	TOPIC          Kafka_<instanceId>_<topic>
//	CONSUMERGROUP  Kafka_<instanceId>_<consumerId>
//
// Types are matched without regard to case.
const (
	tagTypeInstance = "INSTANCE"
	tagTypeTopic    = "TOPIC"
	tagTypeGroup    = "CONSUMERGROUP"

	// maxTagsPerResource bounds the tags of one resource after a
	// TagResources; tagPageSize is ListTagResources' page, larger than
	// one resource's tags so that a single resource is always one page.
	maxTagsPerResource = 20
	tagPageSize        = 50
)

func tagType(v string) string { return strings.ToUpper(v) }

func validTagType(v string) string {
	switch tagType(v) {
	case tagTypeInstance, tagTypeTopic, tagTypeGroup:
		return ""
	}
	return "Valid values: instance, TOPIC, CONSUMERGROUP."
}

// tagTarget is one resource a tag request names.
type tagTarget struct {
	id         string // ResourceId as sent
	instanceID string
	name       string // topic or consumer id; empty for an instance
}

// parseResourceID splits a ResourceId of type typ. Topic and group ids
// are Kafka_<instanceId>_<name>; instance ids (alikafka_post-…) hold one
// underscore themselves.
func parseResourceID(typ, id string) (tagTarget, bool) {
	t := tagTarget{id: id}
	if tagType(typ) == tagTypeInstance {
		t.instanceID = id
		return t, id != ""
	}
	rest, ok := strings.CutPrefix(id, "Kafka_")
	if !ok {
		return t, false
	}
	head := ""
	if r, ok := strings.CutPrefix(rest, "alikafka_"); ok {
		head, rest = "alikafka_", r
	}
	inst, name, ok := strings.Cut(rest, "_")
	if !ok || inst == "" || name == "" {
		return t, false
	}
	t.instanceID, t.name = head+inst, name
	return t, true
}

func (s *Instances) registerTags(g *Registry) {
	resourceType := Param{Name: "ResourceType", Required: true, Validate: validTagType}
	// Tag answers carry RequestId only (and NextToken, TagResources), not
	// the Code/Success envelope of other alikafka actions. A tag request is
	// authorized on the one instance its resources belong to (tagInstance).
	// RAM actions are unpublished and follow the product's naming;
	// ListTagResources 100/s and UntagResources 40/s as published,
	// TagResources 20/s (none published).
	tagDerive := map[string]func(context.Context, *Request) (string, error){"InstanceId": tagInstance}
	g.Add(kafkaAction(Action{
		Name: "TagResources", RAMAction: "alikafka:TagResources", Resource: instanceARN, QPS: 20, Bare: true, Derive: tagDerive,
		Params: []Param{
			resourceType,
			{Name: "ResourceId", Kind: RepeatList, Required: true},
			{Name: "InstanceId"},
			{Name: "Tag", Kind: TagList},
		},
		Handler: s.tagResources,
	}))
	g.Add(kafkaAction(Action{
		Name: "UntagResources", RAMAction: "alikafka:UntagResources", Resource: instanceARN, QPS: 40, Bare: true, Derive: tagDerive,
		Params: []Param{
			resourceType,
			{Name: "ResourceId", Kind: RepeatList, Required: true},
			{Name: "TagKey", Kind: RepeatList},
			{Name: "All", Kind: Boolean},
		},
		Handler: s.untagResources,
	}))
	g.Add(kafkaAction(Action{
		Name: "ListTagResources", RAMAction: "alikafka:ListTagResources", Resource: instanceARN, QPS: 100, Bare: true, Derive: tagDerive,
		Params: []Param{
			resourceType,
			{Name: "ResourceId", Kind: RepeatList},
			{Name: "Tag", Kind: TagList},
			{Name: "NextToken"},
		},
		Handler: s.listTagResources,
	}))
}

// tagInstance is the instance a tag request acts on, for authorization:
// the one instance every ResourceId (and InstanceId, when sent) belongs
// to. A request naming several instances, or none (ListTagResources of
// every resource), is authorized on all the account's instances ("*").
func tagInstance(_ context.Context, r *Request) (string, error) {
	ids := map[string]bool{}
	for _, id := range r.List("ResourceId") {
		t, ok := parseResourceID(r.String("ResourceType"), id)
		if !ok {
			return "*", nil
		}
		ids[t.instanceID] = true
	}
	if id := r.String("InstanceId"); id != "" {
		ids[id] = true
	}
	if len(ids) != 1 {
		return "*", nil
	}
	for id := range ids {
		return id, nil
	}
	return "*", nil
}

// targets parses the request's ResourceIds; every one must be well formed
// and, when InstanceId is sent, belong to it.
func targets(r *Request) ([]tagTarget, error) {
	var out []tagTarget
	for _, id := range r.List("ResourceId") {
		t, ok := parseResourceID(r.String("ResourceType"), id)
		if !ok {
			return nil, apierr.Invalid("ResourceId", id+" is not a resource id of type "+r.String("ResourceType")+"; topics and groups are Kafka_<InstanceId>_<name>.")
		}
		if inst := r.String("InstanceId"); inst != "" && t.instanceID != inst {
			return nil, apierr.Invalid("ResourceId", id+" does not belong to the instance "+inst+".")
		}
		out = append(out, t)
	}
	return out, nil
}

// retag changes the tags of one resource with compare-and-set.
func (s *Instances) retag(ctx context.Context, r *Request, t tagTarget, fn func([]kafkaplane.Tag) ([]kafkaplane.Tag, error)) error {
	inst, err := s.Store.FindInstance(ctx, r.Caller.AccountID, r.RegionID, t.instanceID)
	if kafkaplane.ErrorCode(err) == kafkaplane.CodeInstanceNotFound {
		return apierr.InstanceNotFound.Errorf("The instance %s does not exist in region %s.", t.instanceID, r.RegionID)
	}
	if err != nil {
		return err
	}
	switch tagType(r.String("ResourceType")) {
	case tagTypeInstance:
		for attempt := 0; ; attempt++ {
			tags, err := fn(inst.Tags)
			if err != nil {
				return err
			}
			inst.Tags = tags
			err = s.Store.UpdateInstance(ctx, inst)
			if kafkaplane.ErrorCode(err) != kafkaplane.CodeConflict || attempt == 20 {
				return err
			}
			if inst, err = s.Store.FindInstance(ctx, r.Caller.AccountID, r.RegionID, t.instanceID); err != nil {
				return err
			}
		}
	case tagTypeTopic:
		if s.Topics == nil {
			return apierr.TopicNotFound.Errorf("The topic %s does not exist on instance %s.", t.name, inst.ID)
		}
		return s.changeTopic(ctx, inst, t.name, func(tp *kafkaplane.Topic) error {
			tags, err := fn(tp.Tags)
			tp.Tags = tags
			return err
		})
	default:
		if s.Topics == nil {
			return apierr.GroupNotFound.Errorf("The consumer group %s does not exist on instance %s.", t.name, inst.ID)
		}
		for attempt := 0; ; attempt++ {
			g, err := s.Topics.FindConsumerGroup(ctx, inst.ID, t.name)
			if kafkaplane.ErrorCode(err) == kafkaplane.CodeNotFound {
				return apierr.GroupNotFound.Errorf("The consumer group %s does not exist on instance %s.", t.name, inst.ID)
			}
			if err != nil {
				return err
			}
			if g.Tags, err = fn(g.Tags); err != nil {
				return err
			}
			err = s.Topics.UpdateConsumerGroup(ctx, g)
			if kafkaplane.ErrorCode(err) != kafkaplane.CodeConflict || attempt == 20 {
				return err
			}
		}
	}
}

// tagResources sets tags on resources: a key a resource has gets the new
// value, other keys are added. Every resource is checked before any is
// changed, so a request that would take one past 20 tags changes none.
func (s *Instances) tagResources(ctx context.Context, r *Request) (Object, error) {
	ts, err := targets(r)
	if err != nil {
		return nil, err
	}
	add, _ := r.TagsOf("Tag")
	if len(add) == 0 {
		return nil, apierr.Missing("Tag.1.Key")
	}
	for _, t := range add {
		if t.Key == "" {
			return nil, apierr.Invalid("Tag", "A tag key may not be empty.")
		}
	}
	merge := func(have []kafkaplane.Tag) ([]kafkaplane.Tag, error) {
		out := slices.Clone(have)
		for _, t := range add {
			if i := slices.IndexFunc(out, func(h kafkaplane.Tag) bool { return h.Key == t.Key }); i >= 0 {
				out[i].Value = t.Value
			} else {
				out = append(out, t)
			}
		}
		if len(out) > maxTagsPerResource {
			return nil, apierr.TagsPerResource.New()
		}
		return out, nil
	}
	// A dry run first: every resource exists and stays within the limit.
	for _, t := range ts {
		if err := s.peekTags(ctx, r, t, merge); err != nil {
			return nil, err
		}
	}
	for _, t := range ts {
		if err := s.retag(ctx, r, t, merge); err != nil {
			return nil, err
		}
	}
	return Object{}, nil
}

// peekTags runs fn on a resource's tags without writing them.
func (s *Instances) peekTags(ctx context.Context, r *Request, t tagTarget, fn func([]kafkaplane.Tag) ([]kafkaplane.Tag, error)) error {
	tags, err := s.tagsOf(ctx, r, t)
	if err != nil {
		return err
	}
	_, err = fn(tags)
	return err
}

// tagsOf reads one resource's tags.
func (s *Instances) tagsOf(ctx context.Context, r *Request, t tagTarget) ([]kafkaplane.Tag, error) {
	inst, err := s.Store.FindInstance(ctx, r.Caller.AccountID, r.RegionID, t.instanceID)
	if kafkaplane.ErrorCode(err) == kafkaplane.CodeInstanceNotFound {
		return nil, apierr.InstanceNotFound.Errorf("The instance %s does not exist in region %s.", t.instanceID, r.RegionID)
	}
	if err != nil {
		return nil, err
	}
	switch tagType(r.String("ResourceType")) {
	case tagTypeInstance:
		return inst.Tags, nil
	case tagTypeTopic:
		if s.Topics == nil {
			return nil, apierr.TopicNotFound.Errorf("The topic %s does not exist on instance %s.", t.name, inst.ID)
		}
		tp, err := s.Topics.FindTopic(ctx, inst.ID, t.name)
		if kafkaplane.ErrorCode(err) == kafkaplane.CodeNotFound {
			// A topic a Kafka client made has no record and no tags yet.
			if _, berr := s.brokerTopic(ctx, inst, t.name); berr != nil {
				return nil, berr
			}
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return tp.Tags, nil
	default:
		if s.Topics == nil {
			return nil, apierr.GroupNotFound.Errorf("The consumer group %s does not exist on instance %s.", t.name, inst.ID)
		}
		g, err := s.Topics.FindConsumerGroup(ctx, inst.ID, t.name)
		if kafkaplane.ErrorCode(err) == kafkaplane.CodeNotFound {
			return nil, apierr.GroupNotFound.Errorf("The consumer group %s does not exist on instance %s.", t.name, inst.ID)
		}
		if err != nil {
			return nil, err
		}
		return g.Tags, nil
	}
}

// untagResources removes the TagKey keys, or every tag with All=true,
// from each resource.
func (s *Instances) untagResources(ctx context.Context, r *Request) (Object, error) {
	ts, err := targets(r)
	if err != nil {
		return nil, err
	}
	keys, all := r.List("TagKey"), r.Bool("All", false)
	drop := func(have []kafkaplane.Tag) ([]kafkaplane.Tag, error) {
		if all {
			return nil, nil
		}
		return slices.DeleteFunc(slices.Clone(have), func(t kafkaplane.Tag) bool { return slices.Contains(keys, t.Key) }), nil
	}
	for _, t := range ts {
		if _, err := s.tagsOf(ctx, r, t); err != nil {
			return nil, err
		}
	}
	for _, t := range ts {
		if err := s.retag(ctx, r, t, drop); err != nil {
			return nil, err
		}
	}
	return Object{}, nil
}

// listTagResources lists (resource, tag) pairs: of the ResourceIds when
// sent, else of every resource of the type in the region; narrowed to
// resources carrying every Tag.N (an empty value matches any value).
// Pages hold tagPageSize pairs; NextToken is where the next page starts.
func (s *Instances) listTagResources(ctx context.Context, r *Request) (Object, error) {
	from := 0
	if tok := r.String("NextToken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		n, aerr := strconv.Atoi(string(b))
		if err != nil || aerr != nil || n < 0 {
			return nil, apierr.Invalid("NextToken", "It is not a token ListTagResources returned.")
		}
		from = n
	}
	ts, err := targets(r)
	if err != nil {
		return nil, err
	}
	if len(r.List("ResourceId")) == 0 {
		if ts, err = s.allTagTargets(ctx, r); err != nil {
			return nil, err
		}
	}
	want, _ := r.TagsOf("Tag")
	typ := tagType(r.String("ResourceType"))
	var pairs []Object
	for _, t := range ts {
		tags, err := s.tagsOf(ctx, r, t)
		if err != nil {
			if len(r.List("ResourceId")) == 0 {
				continue // gone since it was listed
			}
			return nil, err
		}
		if !hasTags(tags, want) {
			continue
		}
		for _, tag := range tags {
			pairs = append(pairs, Object{{"ResourceId", t.id}, {"ResourceType", typ}, {"TagKey", tag.Key}, {"TagValue", tag.Value}})
		}
	}
	from = min(from, len(pairs))
	to := min(from+tagPageSize, len(pairs))
	next := ""
	if to < len(pairs) {
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(to)))
	}
	page := pairs[from:to]
	if page == nil {
		page = []Object{}
	}
	return Object{{"NextToken", next}, {"TagResources", Object{{"TagResource", page}}}}, nil
}

// hasTags reports whether have carries every wanted tag.
func hasTags(have, want []kafkaplane.Tag) bool {
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h kafkaplane.Tag) bool {
			return (w.Key == "" || h.Key == w.Key) && (w.Value == "" || h.Value == w.Value)
		}) {
			return false
		}
	}
	return true
}

// allTagTargets lists every resource of the request's type in the
// caller's region, instances by creation and their topics and groups in
// list order.
func (s *Instances) allTagTargets(ctx context.Context, r *Request) ([]tagTarget, error) {
	insts, err := s.Store.FindInstances(ctx, kafkaplane.InstanceFilter{AccountID: r.Caller.AccountID, RegionID: r.RegionID})
	if err != nil {
		return nil, err
	}
	var out []tagTarget
	for _, inst := range insts {
		switch tagType(r.String("ResourceType")) {
		case tagTypeInstance:
			out = append(out, tagTarget{id: inst.ID, instanceID: inst.ID})
		case tagTypeTopic:
			if s.Topics == nil {
				continue
			}
			tps, err := s.Topics.ListTopics(ctx, inst.ID)
			if err != nil {
				return nil, err
			}
			for _, tp := range tps {
				out = append(out, tagTarget{id: "Kafka_" + inst.ID + "_" + tp.Name, instanceID: inst.ID, name: tp.Name})
			}
		default:
			if s.Topics == nil {
				continue
			}
			gs, err := s.Topics.ListConsumerGroups(ctx, inst.ID)
			if err != nil {
				return nil, err
			}
			for _, g := range gs {
				out = append(out, tagTarget{id: "Kafka_" + inst.ID + "_" + g.ConsumerID, instanceID: inst.ID, name: g.ConsumerID})
			}
		}
	}
	return out, nil
}
