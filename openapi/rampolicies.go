package openapi

import (
	"context"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
	"github.com/kafkaplane/kafkaplane/policy"
)

func (s *RAM) createPolicy(ctx context.Context, r *Request) (Object, error) {
	name, doc, desc := r.String("PolicyName"), r.String("PolicyDocument"), r.String("Description")
	if err := ramFirstErr(
		ramCheckPolicyName(name),
		ramCheckLength(doc, policy.MaxDocumentLength, apierr.RAMPolicyDocLength),
		ramCheckLength(desc, 1024, apierr.RAMDescriptionLength),
	); err != nil {
		return nil, err
	}
	// The document is checked with the evaluator's own parser, so a stored
	// policy can always be evaluated; the parser's reason names the
	// offending element.
	if _, err := policy.Parse([]byte(doc)); err != nil {
		return nil, apierr.RAMMalformedPolicy.Errorf("The policy document is malformed: %s", err.Error())
	}
	now := s.now()
	p := &kafkaplane.Policy{
		AccountID:      r.Caller.AccountID,
		PolicyName:     name,
		PolicyType:     kafkaplane.PolicyTypeCustom,
		Description:    desc,
		Document:       doc,
		DefaultVersion: "v1",
		CreateDate:     now,
		UpdateDate:     now,
	}
	if err := s.Identities.CreatePolicy(ctx, p); err != nil {
		return nil, ramTranslate(err, apierr.Def{}, apierr.RAMPolicyExists)
	}
	return Object{{"Policy", Object{
		{"PolicyName", p.PolicyName},
		{"PolicyType", p.PolicyType},
		{"Description", p.Description},
		{"DefaultVersion", p.DefaultVersion},
		{"CreateDate", ramTime(p.CreateDate)},
	}}}, nil
}

func (s *RAM) findPolicy(ctx context.Context, r *Request, typ, name string) (*kafkaplane.Policy, error) {
	if err := ramFirstErr(ramCheckPolicyType(typ), ramCheckPolicyName(name)); err != nil {
		return nil, err
	}
	p, err := s.Identities.FindPolicy(ctx, r.Caller.AccountID, typ, name)
	if err != nil {
		return nil, ramTranslate(err, apierr.RAMPolicyNotExist, apierr.Def{})
	}
	return p, nil
}

func (s *RAM) getPolicy(ctx context.Context, r *Request) (Object, error) {
	p, err := s.findPolicy(ctx, r, r.String("PolicyType"), r.String("PolicyName"))
	if err != nil {
		return nil, err
	}
	o := ramPolicyObject(p)
	o = append(o, Field{"PolicyDocument", p.Document})
	return Object{
		{"Policy", o},
		{"DefaultPolicyVersion", Object{
			{"VersionId", p.DefaultVersion},
			{"IsDefaultVersion", true},
			{"PolicyDocument", p.Document},
			{"CreateDate", ramTime(p.UpdateDate)},
		}},
	}, nil
}

func (s *RAM) listPolicies(ctx context.Context, r *Request) (Object, error) {
	typ := r.String("PolicyType")
	if typ != "" {
		if err := ramCheckPolicyType(typ); err != nil {
			return nil, err
		}
	}
	list, err := s.Identities.ListPolicies(ctx, r.Caller.AccountID, typ)
	if err != nil {
		return nil, err
	}
	return ramList(r, list, func(p *kafkaplane.Policy) string { return p.PolicyType + "/" + p.PolicyName }, ramPolicyObject, "Policies", "Policy")
}

func (s *RAM) deletePolicy(ctx context.Context, r *Request) (Object, error) {
	name := r.String("PolicyName")
	if err := ramCheckPolicyName(name); err != nil {
		return nil, err
	}
	if err := s.Identities.DeletePolicy(ctx, r.Caller.AccountID, name); err != nil {
		return nil, wireError(err, ramPolicyEntity)
	}
	return Object{}, nil
}
