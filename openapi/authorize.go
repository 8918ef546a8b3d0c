package openapi

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
	"github.com/kafkaplane/kafkaplane/policy"
)

// RAMAuthorizer evaluates the policies attached to a RAM user, directly or
// through its groups. Every request reads the user's attachments, its
// groups' attachments and the policies' documents from the store, so a
// change is in force from the next request; only parsing is cached, keyed
// by the document text itself, which no change to a policy can leave
// stale.
type RAMAuthorizer struct {
	Identities kafkaplane.IdentityService

	mu    sync.Mutex
	cache map[[sha256.Size]byte]*policy.Document // parsed documents by SHA-256 of their text
}

// Authorize implements Authorizer. The request context carries the
// condition keys RAM documents: acs:SourceIp, acs:SecureTransport,
// acs:CurrentTime, acs:AccessId and acs:MFAPresent (always false: API keys
// carry no MFA).
func (a *RAMAuthorizer) Authorize(ctx context.Context, r *Request, ramAction, resource string) error {
	caller := r.Caller
	atts, err := a.Identities.ListAttachmentsInEffect(ctx, caller.AccountID, caller.UserName)
	if err != nil {
		return err
	}
	docs := make([]policy.Attached, 0, len(atts))
	for _, att := range atts {
		p, err := a.Identities.FindPolicy(ctx, caller.AccountID, att.PolicyType, att.PolicyName)
		if kafkaplane.ErrorCode(err) == kafkaplane.CodeNotFound {
			continue
		}
		if err != nil {
			return err
		}
		doc, err := a.parsed(p)
		if err != nil {
			return err
		}
		docs = append(docs, policy.Attached{Name: p.PolicyName, Type: p.PolicyType, Doc: doc})
	}
	req := policy.Request{
		Action:   ramAction,
		Resource: resource,
		Context: map[string][]string{
			policy.KeySourceIP:        {r.SourceIP},
			policy.KeySecureTransport: {strconv.FormatBool(r.Secure)},
			policy.KeyCurrentTime:     {r.Time.UTC().Format(time.RFC3339)},
			policy.KeyAccessID:        {caller.ID},
			policy.KeyMFAPresent:      {"false"},
		},
	}
	d := policy.Evaluate(req, docs...)
	if d.Allowed() {
		return nil
	}
	return denied(r, ramAction, resource, d)
}

func (a *RAMAuthorizer) parsed(p *kafkaplane.Policy) (*policy.Document, error) {
	key := sha256.Sum256([]byte(p.Document))
	a.mu.Lock()
	defer a.mu.Unlock()
	if d, ok := a.cache[key]; ok {
		return d, nil
	}
	d, err := policy.Parse([]byte(p.Document))
	if err != nil {
		return nil, fmt.Errorf("stored policy %s is not valid: %w", p.PolicyName, err)
	}
	if a.cache == nil || len(a.cache) > 10000 {
		a.cache = map[[sha256.Size]byte]*policy.Document{}
	}
	a.cache[key] = d
	return d, nil
}

// denied builds the 403 answer: Forbidden.RAM with an AccessDeniedDetail
// that names the action, the principal and why, as RAM's diagnostic
// fields do (docs/ram.md, Access denied).
func denied(r *Request, ramAction, resource string, d policy.Decision) error {
	kind, policyType := "ImplicitDeny", ""
	if d.Effect == policy.ExplicitDeny {
		kind, policyType = "ExplicitDeny", "AccountLevelIdentityBasedPolicy"
	}
	detail := Object{
		{"AuthAction", ramAction},
		{"AuthPrincipalType", "SubUser"},
		{"AuthPrincipalOwnerId", r.Caller.AccountID},
		{"AuthPrincipalDisplayName", r.Caller.UserName},
		{"NoPermissionType", kind},
		{"PolicyType", policyType},
	}
	diag, _ := json.Marshal(map[string]string{
		"AuthAction": ramAction, "AuthResource": resource, "NoPermissionType": kind,
		"PolicyName": d.PolicyName, "PolicyType": d.PolicyType, "RequestId": r.ID,
	})
	detail = append(detail, Field{"EncodedDiagnosticMessage", base64.StdEncoding.EncodeToString(diag)})
	e := apierr.ForbiddenRAM.Errorf("User not authorized to operate on the specified resource, or this API doesn't support RAM. Action: %s, Resource: %s (%s).", ramAction, resource, kind)
	e.Detail = detail
	return e
}
