package openapi

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

// maxUserDefinedSGs caps the security groups AddUserDefinedSg may add to
// one instance (docs/limits.md).
const maxUserDefinedSGs = 10

var sgIDRE = regexp.MustCompile(`^sg-[A-Za-z0-9]{1,64}$`)

// sgIDList parses SgIdList: JSON text of a list of security group ids.
func sgIDList(v string) ([]string, error) {
	var ids []string
	if err := json.Unmarshal([]byte(v), &ids); err != nil {
		return nil, err
	}
	for _, id := range ids {
		if !sgIDRE.MatchString(id) {
			return nil, fmt.Errorf("%q is not a security group id (sg- and letters or digits)", id)
		}
	}
	return ids, nil
}

func validSgIDList(v string) string {
	ids, err := sgIDList(v)
	if err != nil {
		return "It must be a JSON list of security group ids, e.g. [\"sg-abc\"]: " + err.Error() + "."
	}
	if len(ids) > maxUserDefinedSGs {
		return fmt.Sprintf("It may name at most %d security groups.", maxUserDefinedSGs)
	}
	return ""
}

// registerResourceGroup adds ChangeResourceGroup and the user-defined
// security group actions.
func (s *Instances) registerResourceGroup(g *Registry) {
	// ChangeResourceGroup names its instance ResourceId: it is authorized
	// on that instance as every instance action is. Its answer's Success
	// is a number in both SDKs' models, so it writes its own Code, Message
	// and Success.
	g.Add(kafkaAction(Action{
		Name: "ChangeResourceGroup", RAMAction: "alikafka:ChangeResourceGroup", Resource: instanceARN, QPS: 20, Bare: true,
		Params: []Param{
			{Name: "ResourceId", Required: true, MaxLen: maxIDLen},
			{Name: "NewResourceGroupId", Required: true, MaxLen: maxIDLen},
		},
		Derive: map[string]func(context.Context, *Request) (string, error){
			"InstanceId": func(_ context.Context, r *Request) (string, error) { return r.String("ResourceId"), nil },
		},
		Handler: s.changeResourceGroup,
	}))

	sgs := []Param{
		{Name: "InstanceId", Required: true, MaxLen: maxIDLen},
		{Name: "SgIdList", Kind: JSON, MaxLen: 2048, Validate: validSgIDList},
	}
	for _, a := range []struct {
		name string
		fn   sgChange
	}{{"AddUserDefinedSg", addSGs}, {"DeleteUserDefinedSg", deleteSGs}, {"ModifyUserDefinedSg", replaceSGs}} {
		g.Add(kafkaAction(Action{
			Name: a.name, RAMAction: "alikafka:" + a.name, Resource: instanceARN, QPS: 20,
			Params: sgs, Handler: s.userDefinedSg(a.fn),
		}))
	}
}

// changeResourceGroup moves an instance (ResourceId) to another resource
// group; GetInstanceList shows it as ResourceGroupId and filters by it.
func (s *Instances) changeResourceGroup(ctx context.Context, r *Request) (Object, error) {
	id := r.String("ResourceId")
	var inst *kafkaplane.Instance
	for attempt := 0; ; attempt++ {
		var err error
		inst, err = s.Store.FindInstance(ctx, r.Caller.AccountID, r.RegionID, id)
		if kafkaplane.ErrorCode(err) == kafkaplane.CodeInstanceNotFound {
			return nil, apierr.InstanceNotFound.Errorf("The instance %s does not exist in region %s.", id, r.RegionID)
		}
		if err != nil {
			return nil, err
		}
		if inst.State() == kafkaplane.StateReleased {
			return nil, statusError(inst, "ChangeResourceGroup")
		}
		inst.ResourceGroupID = r.String("NewResourceGroupId")
		err = s.Store.UpdateInstance(ctx, inst)
		if kafkaplane.ErrorCode(err) == kafkaplane.CodeConflict && attempt < 20 {
			continue
		}
		if err != nil {
			return nil, err
		}
		break
	}
	return Object{
		{"Code", 200},
		{"Message", "operation success."},
		{"Success", 1},
		{"NewResourceGroupId", inst.ResourceGroupID},
	}, nil
}

// sgChange computes an instance's new user-defined security groups from
// its current ones and the request's, or says why it cannot.
type sgChange func(cur, req []string) ([]string, error)

func addSGs(cur, req []string) ([]string, error) {
	if len(req) == 0 {
		return nil, apierr.Missing("SgIdList")
	}
	out := slices.Clone(cur)
	for _, id := range req {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	if len(out) > maxUserDefinedSGs {
		return nil, apierr.Invalid("SgIdList", fmt.Sprintf("An instance has at most %d user-defined security groups; it has %d.", maxUserDefinedSGs, len(cur)))
	}
	return out, nil
}

func deleteSGs(cur, req []string) ([]string, error) {
	if len(req) == 0 {
		return nil, apierr.Missing("SgIdList")
	}
	for _, id := range req {
		if !slices.Contains(cur, id) {
			return nil, apierr.Invalid("SgIdList", fmt.Sprintf("The instance has no user-defined security group %s.", id))
		}
	}
	return slices.DeleteFunc(slices.Clone(cur), func(id string) bool { return slices.Contains(req, id) }), nil
}

// replaceSGs makes the request's list the instance's; an empty or absent
// list removes every user-defined group.
func replaceSGs(_, req []string) ([]string, error) {
	out := []string{}
	for _, id := range req {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// userDefinedSg stores the security groups an instance's brokers would be
// reachable from besides its own. They are kept and shown (GetInstanceList's
// KafkaplaneUserDefinedSgIds); brokers run on loopback, so nothing else
// follows from them.
func (s *Instances) userDefinedSg(fn sgChange) Handler {
	return func(ctx context.Context, r *Request) (Object, error) {
		var req []string
		if v := r.String("SgIdList"); v != "" {
			req, _ = sgIDList(v) // valid by its declaration
		}
		_, err := s.change(ctx, r, func(inst *kafkaplane.Instance) error {
			if inst.State() == kafkaplane.StateReleased {
				return statusError(inst, r.Action.Name)
			}
			out, err := fn(inst.Deployment.UserDefinedSGs, req)
			if err != nil {
				return err
			}
			inst.Deployment.UserDefinedSGs = out
			return nil
		})
		return Object{}, err
	}
}
