package broker

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/kafkaplane/kafkaplane"
)

// The ACL types belong to the domain (package kafkaplane); these names
// keep the broker package's spelling.
type (
	// ResourceType is what a Kafka ACL is about.
	ResourceType = kafkaplane.ResourceType
	// PatternType says how an ACL's resource name matches.
	PatternType = kafkaplane.PatternType
	// Operation is a Kafka ACL operation.
	Operation = kafkaplane.ACLOperation
	// Permission is ALLOW or DENY.
	Permission = kafkaplane.Permission
	// ACL is one Kafka ACL.
	ACL = kafkaplane.ACL
)

// Resource types, pattern types, operations and permissions.
const (
	ResourceTopic           = kafkaplane.ResourceTopic
	ResourceGroup           = kafkaplane.ResourceGroup
	ResourceCluster         = kafkaplane.ResourceCluster
	ResourceTransactionalID = kafkaplane.ResourceTransactionalID

	PatternLiteral  = kafkaplane.PatternLiteral
	PatternPrefixed = kafkaplane.PatternPrefixed

	OpAll             = kafkaplane.OpAll
	OpRead            = kafkaplane.OpRead
	OpWrite           = kafkaplane.OpWrite
	OpCreate          = kafkaplane.OpCreate
	OpDelete          = kafkaplane.OpDelete
	OpAlter           = kafkaplane.OpAlter
	OpDescribe        = kafkaplane.OpDescribe
	OpClusterAction   = kafkaplane.OpClusterAction
	OpDescribeConfigs = kafkaplane.OpDescribeConfigs
	OpAlterConfigs    = kafkaplane.OpAlterConfigs
	OpIdempotentWrite = kafkaplane.OpIdempotentWrite

	Allow = kafkaplane.PermissionAllow
	Deny  = kafkaplane.PermissionDeny
)

// clusterName is the name of the one Cluster resource, as in Kafka.
const clusterName = "kafka-cluster"

func normEnum(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }

// canonical finds s among the known values, ignoring case and underscores.
func canonical[T ~string](s T, known ...T) (T, bool) {
	n := normEnum(string(s))
	for _, k := range known {
		if normEnum(string(k)) == n {
			return k, true
		}
	}
	return s, false
}

var (
	resourceTypes = []ResourceType{ResourceTopic, ResourceGroup, ResourceCluster, ResourceTransactionalID}
	operations    = []Operation{OpAll, OpRead, OpWrite, OpCreate, OpDelete, OpAlter, OpDescribe,
		OpClusterAction, OpDescribeConfigs, OpAlterConfigs, OpIdempotentWrite}
)

// aclEntry is an ACL as the index keeps it under its resource.
type aclEntry struct {
	user string // the name after "User:", or "*"
	host string // "*" or a canonical address
	op   Operation
	deny bool
}

// resourceIndex holds the ACLs of one resource type: literal names
// (including "*") in a map, prefixes in a map keyed by the prefix, with
// the distinct prefix lengths so that a lookup probes only those.
type resourceIndex struct {
	literal    map[string][]aclEntry
	prefixed   map[string][]aclEntry
	prefixLens []int
}

// authorizer answers Kafka's question "may this principal from this host
// do this operation on this resource" with Kafka's semantics: a matching
// DENY wins, otherwise a matching ALLOW (directly or through an implied
// operation) permits, otherwise the answer is no.
type authorizer struct {
	idx [4]*resourceIndex // by position in resourceTypes
}

func resourceSlot(rt ResourceType) int { return slices.Index(resourceTypes, rt) }

func newAuthorizer(acls []ACL) (*authorizer, error) {
	a := &authorizer{}
	for _, acl := range acls {
		rt, ok := canonical(acl.ResourceType, resourceTypes...)
		if !ok {
			return nil, invalid("ACL resource type %q", acl.ResourceType)
		}
		op, ok := canonical(acl.Operation, operations...)
		if !ok {
			return nil, invalid("ACL operation %q", acl.Operation)
		}
		pt, ok := canonical(acl.PatternType, PatternLiteral, PatternPrefixed)
		if !ok {
			if acl.PatternType != "" {
				return nil, invalid("ACL pattern type %q", acl.PatternType)
			}
			pt = PatternLiteral
		}
		perm, ok := canonical(acl.Permission, Allow, Deny)
		if !ok {
			if acl.Permission != "" {
				return nil, invalid("ACL permission %q", acl.Permission)
			}
			perm = Allow
		}
		user, ok := strings.CutPrefix(acl.Principal, "User:")
		if !ok || user == "" {
			return nil, invalid("ACL principal %q is not User:<name>", acl.Principal)
		}
		host := acl.Host
		if host == "" {
			host = "*"
		}
		if host != "*" {
			h, err := netip.ParseAddr(host)
			if err != nil {
				return nil, invalid("ACL host %q", acl.Host)
			}
			host = h.Unmap().String()
		}
		name := acl.ResourceName
		if rt == ResourceCluster {
			name = clusterName
			pt = PatternLiteral
		}
		if name == "" {
			return nil, invalid("ACL without a resource name")
		}
		slot := resourceSlot(rt)
		ix := a.idx[slot]
		if ix == nil {
			ix = &resourceIndex{literal: map[string][]aclEntry{}, prefixed: map[string][]aclEntry{}}
			a.idx[slot] = ix
		}
		e := aclEntry{user: user, host: host, op: op, deny: perm == Deny}
		if pt == PatternPrefixed {
			ix.prefixed[name] = append(ix.prefixed[name], e)
			if !slices.Contains(ix.prefixLens, len(name)) {
				ix.prefixLens = append(ix.prefixLens, len(name))
			}
		} else {
			ix.literal[name] = append(ix.literal[name], e)
		}
	}
	for _, ix := range a.idx {
		if ix != nil {
			slices.Sort(ix.prefixLens)
		}
	}
	return a, nil
}

// implies reports whether an ALLOW for granted permits requested: All
// permits everything; Read, Write, Delete and Alter permit Describe;
// AlterConfigs permits DescribeConfigs. DENY entries are not widened this
// way: a DENY for Read does not deny Describe.
func implies(granted, requested Operation) bool {
	if granted == OpAll || granted == requested {
		return true
	}
	switch requested {
	case OpDescribe:
		return granted == OpRead || granted == OpWrite || granted == OpDelete || granted == OpAlter
	case OpDescribeConfigs:
		return granted == OpAlterConfigs
	}
	return false
}

// authorize decides one operation of user (connected from host) on the
// resource rt/name.
func (a *authorizer) authorize(user, host string, op Operation, rt ResourceType, name string) bool {
	ix := a.idx[resourceSlot(rt)]
	if ix == nil {
		return false
	}
	allowed, denied := false, false
	visit := func(es []aclEntry) {
		for _, e := range es {
			if (e.user != "*" && e.user != user) || (e.host != "*" && e.host != host) {
				continue
			}
			if e.deny {
				if e.op == OpAll || e.op == op {
					denied = true
				}
			} else if implies(e.op, op) {
				allowed = true
			}
		}
	}
	visit(ix.literal[name])
	if name != "*" {
		visit(ix.literal["*"])
	}
	for _, n := range ix.prefixLens {
		if n > len(name) {
			break
		}
		visit(ix.prefixed[name[:n]])
	}
	return allowed && !denied
}
