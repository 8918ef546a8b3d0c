package openapi

import (
	"context"
	"net/netip"
	"slices"
	"strings"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

// ACL enumerations as the API answers them: Kafka's upper-case enum names
// (TOPIC, WRITE, IDEMPOTENT_WRITE), which is how alikafka answers
// DescribeAcls even when CreateAcl was called with Topic or Write.
// Requests may spell them in any case, with or without underscores.
var (
	aclResourceTypes = []string{"TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID"}
	aclPatternTypes  = []string{"LITERAL", "PREFIXED"}
	aclOperations    = []string{"ALL", "READ", "WRITE", "CREATE", "DELETE", "ALTER", "DESCRIBE",
		"CLUSTER_ACTION", "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE"}
	aclPermissions = []string{"ALLOW", "DENY"}
)

// aclEnum finds v among known without regard to case or underscores, and
// returns "" when it is not there.
func aclEnum(v string, known []string) string {
	norm := func(s string) string { return strings.ToUpper(strings.ReplaceAll(s, "_", "")) }
	for _, k := range known {
		if norm(k) == norm(v) {
			return k
		}
	}
	return ""
}

// enumParam declares an ACL enumeration parameter checked by aclEnum.
func enumParam(name string, required bool, known []string) Param {
	return Param{Name: name, Required: required, MaxLen: 64, Validate: func(v string) string {
		if aclEnum(v, known) == "" {
			return "Valid values: " + strings.Join(known, ", ") + " (any case, underscores optional)."
		}
		return ""
	}}
}

// validACLHost accepts "*" or one IP address.
func validACLHost(v string) string {
	if v == "*" {
		return ""
	}
	if _, err := netip.ParseAddr(v); err != nil {
		return "It must be * or one IP address."
	}
	return ""
}

func (s *Instances) registerACLs(g *Registry) {
	instanceID := Param{Name: "InstanceId", Required: true, MaxLen: maxIDLen}
	username := Param{Name: "Username", Required: true, MaxLen: maxSaslNameLen, Validate: func(v string) string {
		if v == "*" {
			return ""
		}
		return validSaslName(v)
	}}
	resourceName := Param{Name: "AclResourceName", Required: true, MaxLen: 256}
	host := Param{Name: "Host", MaxLen: 64, Validate: validACLHost}
	ops := Param{Name: "AclOperationTypes", MaxLen: 1024, Validate: func(v string) string {
		for _, op := range strings.Split(v, ",") {
			if aclEnum(strings.TrimSpace(op), aclOperations) == "" {
				return "Each comma-separated item must be one of " + strings.Join(aclOperations, ", ") + "."
			}
		}
		return ""
	}}
	full := func(required bool) []Param {
		return []Param{instanceID, username,
			enumParam("AclResourceType", true, aclResourceTypes), resourceName,
			enumParam("AclResourcePatternType", required, aclPatternTypes),
			enumParam("AclOperationType", required, aclOperations), ops,
			enumParam("AclPermissionType", false, aclPermissions), host}
	}
	g.Add(kafkaAction(Action{
		Name: "CreateAcl", RAMAction: "alikafka:CreateAcl", Resource: instanceARN, QPS: 10,
		Params:  full(true),
		Handler: s.createACL,
	}))
	g.Add(kafkaAction(Action{
		Name: "DeleteAcl", RAMAction: "alikafka:DeleteAcl", Resource: instanceARN, QPS: 10,
		Params:  full(true),
		Handler: s.deleteACL,
	}))
	g.Add(kafkaAction(Action{
		Name: "DescribeAcls", RAMAction: "alikafka:ListAcl", Resource: instanceARN, QPS: 80,
		Params:  full(false),
		Handler: s.describeACLs,
	}))
	g.Add(kafkaAction(Action{
		Name: "DescribeAclResourceName", RAMAction: "alikafka:ListAcl", Resource: instanceARN, QPS: 100,
		Params: []Param{instanceID,
			enumParam("AclResourceType", true, aclResourceTypes),
			enumParam("AclResourcePatternType", true, aclPatternTypes)},
		Handler: s.describeACLResourceName,
	}))
}

// aclFilter is the request's ACL fields in canonical form; an empty field
// matches any value.
func aclFilter(r *Request) (kafkaplane.ACLRecord, []string) {
	f := kafkaplane.ACLRecord{
		Username:     r.String("Username"),
		ResourceType: aclEnum(r.String("AclResourceType"), aclResourceTypes),
		ResourceName: r.String("AclResourceName"),
		PatternType:  aclEnum(r.String("AclResourcePatternType"), aclPatternTypes),
		Permission:   aclEnum(r.String("AclPermissionType"), aclPermissions),
		Host:         r.String("Host"),
	}
	var ops []string
	add := func(op string) {
		if op = aclEnum(strings.TrimSpace(op), aclOperations); op != "" && !slices.Contains(ops, op) {
			ops = append(ops, op)
		}
	}
	add(r.String("AclOperationType"))
	if v := r.String("AclOperationTypes"); v != "" {
		for _, op := range strings.Split(v, ",") {
			add(op)
		}
	}
	return f, ops
}

// aclMatches reports whether a passes the filter f and ops (no ops: any
// operation).
func aclMatches(f kafkaplane.ACLRecord, ops []string, a *kafkaplane.ACLRecord) bool {
	eq := func(want, have string) bool { return want == "" || want == have }
	return eq(f.Username, a.Username) && eq(f.ResourceType, a.ResourceType) && eq(f.ResourceName, a.ResourceName) &&
		eq(f.PatternType, a.PatternType) && eq(f.Permission, a.Permission) && eq(f.Host, a.Host) &&
		(len(ops) == 0 || slices.Contains(ops, a.Operation))
}

// createACL adds one ACL per operation named in AclOperationType and
// AclOperationTypes (ALLOW and host * unless given). An ACL that exists
// already is left as it is, as Kafka's CreateAcls does, so a retried call
// succeeds. The ACLs take effect on the brokers' next request when the
// instance has enable.acl set.
func (s *Instances) createACL(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.securable(ctx, r)
	if err != nil {
		return nil, err
	}
	f, ops := aclFilter(r)
	if f.Permission == "" {
		f.Permission = "ALLOW"
	}
	if f.Host == "" {
		f.Host = "*"
	}
	for _, op := range ops {
		a := f
		a.InstanceID, a.Operation, a.CreateTime = inst.ID, op, s.now()
		switch err := s.Security.CreateACL(ctx, &a, maxACLs); kafkaplane.ErrorCode(err) {
		case "", kafkaplane.CodeAlreadyExists:
		case kafkaplane.CodeLimitExceeded:
			// The ones added before stay: each is a complete ACL, and the
			// call may be repeated once room is made.
			if serr := s.syncSecurity(ctx, inst); serr != nil {
				return nil, serr
			}
			return nil, apierr.AclQuotaExceeded.Errorf("The instance %s already holds %d ACLs, the most allowed.", inst.ID, maxACLs)
		default:
			return nil, err
		}
	}
	return Object{}, s.syncSecurity(ctx, inst)
}

// deleteACL removes the ACLs matching the request. Terraform identifies an
// ACL by user, resource type, name, pattern and operation, so a left-out
// AclPermissionType or Host matches any.
func (s *Instances) deleteACL(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.securable(ctx, r)
	if err != nil {
		return nil, err
	}
	f, ops := aclFilter(r)
	acls, err := s.Security.ListACLs(ctx, inst.ID)
	if err != nil {
		return nil, err
	}
	deleted := 0
	for _, a := range acls {
		if !aclMatches(f, ops, a) {
			continue
		}
		switch err := s.Security.DeleteACL(ctx, a); kafkaplane.ErrorCode(err) {
		case "":
			deleted++
		case kafkaplane.CodeNotFound:
		default:
			return nil, err
		}
	}
	if deleted == 0 {
		return nil, apierr.AclNotFound.Errorf("No ACL of the instance %s matches.", inst.ID)
	}
	return Object{}, s.syncSecurity(ctx, inst)
}

func aclVO(a *kafkaplane.ACLRecord) Object {
	return Object{
		{"Username", a.Username},
		{"AclResourceType", a.ResourceType},
		{"AclResourceName", a.ResourceName},
		{"AclResourcePatternType", a.PatternType},
		{"AclOperationType", a.Operation},
		{"AclPermissionType", a.Permission},
		{"Host", a.Host},
	}
}

// describeACLs lists the ACLs matching the request, oldest first.
func (s *Instances) describeACLs(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.secured(ctx, r)
	if err != nil {
		return nil, err
	}
	f, ops := aclFilter(r)
	acls, err := s.Security.ListACLs(ctx, inst.ID)
	if err != nil {
		return nil, err
	}
	vos := []Object{}
	for _, a := range acls {
		if aclMatches(f, ops, a) {
			vos = append(vos, aclVO(a))
		}
	}
	return Object{{"KafkaAclList", Object{{"KafkaAclVO", vos}}}}, nil
}

// describeACLResourceName lists the distinct resource names the
// instance's ACLs of that resource and pattern type name.
func (s *Instances) describeACLResourceName(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.secured(ctx, r)
	if err != nil {
		return nil, err
	}
	rt := aclEnum(r.String("AclResourceType"), aclResourceTypes)
	pt := aclEnum(r.String("AclResourcePatternType"), aclPatternTypes)
	acls, err := s.Security.ListACLs(ctx, inst.ID)
	if err != nil {
		return nil, err
	}
	names := []string{}
	for _, a := range acls {
		if a.ResourceType == rt && a.PatternType == pt && !slices.Contains(names, a.ResourceName) {
			names = append(names, a.ResourceName)
		}
	}
	return Object{{"Data", Object{{"data", names}}}}, nil
}
