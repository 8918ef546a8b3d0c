package openapi

import (
	"context"
	"errors"
	"regexp"
	"sync"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

// Quotas of an instance's security records (docs/limits.md).
const (
	maxSaslUsers       = 100
	maxACLs            = 1000
	maxAllowedIPs      = 100
	maxSaslNameLen     = 64
	maxSaslPasswordLen = 64
)

// SASL mechanisms, as the brokers name them.
const (
	mechanismPlain       = "PLAIN"
	mechanismScramSHA256 = "SCRAM-SHA-256"
	mechanismScramSHA512 = "SCRAM-SHA-512"
)

var saslNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// validSaslName accepts user names a SCRAM exchange carries unescaped.
func validSaslName(v string) string {
	if !saslNameRE.MatchString(v) {
		return "It may hold only letters, digits, '_', '-' and '.'."
	}
	return ""
}

// registerSecurity adds the SASL user, ACL and allowlist actions.
func (s *Instances) registerSecurity(g *Registry) {
	instanceID := Param{Name: "InstanceId", Required: true, MaxLen: maxIDLen}
	username := Param{Name: "Username", Required: true, MaxLen: maxSaslNameLen, Validate: validSaslName}
	saslType := Param{Name: "Type", Enum: []string{"plain", "scram"}}
	mechanism := Param{Name: "Mechanism", Enum: []string{mechanismScramSHA256, mechanismScramSHA512}}
	g.Add(kafkaAction(Action{
		Name: "CreateSaslUser", RAMAction: "alikafka:CreateSaslUser", Resource: instanceARN, QPS: 10,
		Params: []Param{instanceID, username,
			{Name: "Password", Required: true, MaxLen: maxSaslPasswordLen}, saslType, mechanism},
		Handler: s.createSaslUser,
	}))
	g.Add(kafkaAction(Action{
		Name: "DescribeSaslUsers", RAMAction: "alikafka:ListSaslUser", Resource: instanceARN, QPS: 40,
		Params:  []Param{instanceID},
		Handler: s.describeSaslUsers,
	}))
	g.Add(kafkaAction(Action{
		Name: "DeleteSaslUser", RAMAction: "alikafka:DeleteSaslUser", Resource: instanceARN, QPS: 10,
		Params:  []Param{instanceID, username, saslType, mechanism},
		Handler: s.deleteSaslUser,
	}))
	s.registerACLs(g)
	s.registerAllowlists(g)
}

// secured loads the caller's instance for a security action: it must be
// deployed and not stopped or released (Running, Upgrading or
// UpgradeFailed), which is also what Terraform reads as "still there".
func (s *Instances) secured(ctx context.Context, r *Request) (*kafkaplane.Instance, error) {
	if s.Security == nil || s.SaslCredentials == nil {
		return nil, apierr.SecurityUnsupported.Errorf("This server keeps no SASL users, ACLs or allowlists.")
	}
	inst, err := s.find(ctx, r)
	if err != nil {
		return nil, err
	}
	switch inst.State() {
	case kafkaplane.StateRunning, kafkaplane.StateUpgrading, kafkaplane.StateUpgradeFailed:
		return inst, nil
	}
	return nil, statusError(inst, r.Action.Name)
}

// syncSecurity hands what the store now holds for the instance to its
// running brokers. It is the one way a change of users, ACLs, allowlists or
// enable.acl reaches the data plane, and it runs under the instance's
// apply lock, so concurrent changes reach the brokers in the order they
// read the store. Brokers that are not running get it on their next Start
// (jobs.SecureRuntime).
func (s *Instances) syncSecurity(ctx context.Context, inst *kafkaplane.Instance) error {
	if s.Security == nil {
		return nil
	}
	unlock := s.lockApply(inst.ID)
	defer unlock()
	stored, err := s.Store.FindInstance(ctx, inst.AccountID, inst.RegionID, inst.ID)
	if err != nil {
		return err
	}
	return s.applySecurityLocked(ctx, stored)
}

func (s *Instances) applySecurityLocked(ctx context.Context, inst *kafkaplane.Instance) error {
	sec, err := kafkaplane.SecurityFor(ctx, s.Security, inst.ID, inst.Config)
	if err != nil {
		return err
	}
	switch err := s.Runtime.ApplySecurity(ctx, inst.ID, sec); {
	case err == nil, errors.Is(err, kafkaplane.ErrNotStarted):
		return nil
	case errors.Is(err, kafkaplane.ErrInvalidSecurity):
		return apierr.SecurityUnsupported.Errorf("The data plane of instance %s refused its security: %v", inst.ID, err)
	default:
		return err
	}
}

// securable is secured for the actions that change security: it first
// hands the instance's current security to its brokers again, so that a
// data plane that cannot apply security (the strimzi runtime) refuses the
// change before anything is stored.
func (s *Instances) securable(ctx context.Context, r *Request) (*kafkaplane.Instance, error) {
	inst, err := s.secured(ctx, r)
	if err != nil {
		return nil, err
	}
	if err := s.syncSecurity(ctx, inst); err != nil {
		return nil, err
	}
	return inst, nil
}

// lockApply takes the per-instance lock under which configuration and
// security are applied to the brokers.
func (s *Instances) lockApply(instanceID string) func() {
	mu, _ := s.applying.LoadOrStore(instanceID, &sync.Mutex{})
	m := mu.(*sync.Mutex)
	m.Lock()
	return m.Unlock
}

// newSaslUser builds the stored user for r's Type and Mechanism (plain
// when Type is left out; SCRAM-SHA-256 when a scram user names no
// mechanism) with its salted credentials.
func (s *Instances) newSaslUser(instanceID, name, password, typ, mechanism string) (*kafkaplane.SaslUserRecord, error) {
	if typ == "" {
		typ = "plain"
	}
	mech := mechanismPlain
	switch {
	case typ == "plain" && mechanism != "":
		return nil, apierr.Invalid("Mechanism", "It applies to scram users only.")
	case typ == "scram" && mechanism == "":
		mechanism = mechanismScramSHA256
	}
	if typ == "scram" {
		mech = mechanism
	}
	cred, err := s.SaslCredentials(name, password, mech)
	if err != nil {
		return nil, err
	}
	return &kafkaplane.SaslUserRecord{InstanceID: instanceID, Username: name, Type: typ, Mechanism: mechanism,
		Password: password, Credentials: cred}, nil
}

// createSaslUser creates a user, or gives an existing one (same type and
// name) a new password, as Terraform's update of a password expects.
func (s *Instances) createSaslUser(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.securable(ctx, r)
	if err != nil {
		return nil, err
	}
	if r.String("Password") == "" {
		return nil, apierr.Missing("Password")
	}
	// A password change names no Mechanism (Terraform sends Type and
	// Password only): an existing scram user keeps its mechanism.
	mechanism := r.String("Mechanism")
	if mechanism == "" && r.String("Type") == "scram" {
		users, err := s.Security.ListSaslUsers(ctx, inst.ID)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			if u.Type == "scram" && u.Username == r.String("Username") {
				mechanism = u.Mechanism
			}
		}
	}
	u, err := s.newSaslUser(inst.ID, r.String("Username"), r.String("Password"), r.String("Type"), mechanism)
	if err != nil {
		return nil, err
	}
	u.CreateTime = s.now()
	if err := s.Security.PutSaslUser(ctx, u, maxSaslUsers); err != nil {
		if kafkaplane.ErrorCode(err) == kafkaplane.CodeLimitExceeded {
			return nil, apierr.SaslUserQuotaExceeded.Errorf("The instance %s already holds %d SASL users, the most allowed.", inst.ID, maxSaslUsers)
		}
		return nil, err
	}
	return Object{}, s.syncSecurity(ctx, inst)
}

// describeSaslUsers lists the instance's users with their passwords, as
// alikafka does (Terraform reads the password back from here).
func (s *Instances) describeSaslUsers(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.secured(ctx, r)
	if err != nil {
		return nil, err
	}
	users, err := s.Security.ListSaslUsers(ctx, inst.ID)
	if err != nil {
		return nil, err
	}
	vos := make([]Object, 0, len(users))
	for _, u := range users {
		vos = append(vos, Object{{"Username", u.Username}, {"Password", u.Password}, {"Type", u.Type}, {"Mechanism", u.Mechanism}})
	}
	return Object{{"SaslUserList", Object{{"SaslUserVO", vos}}}}, nil
}

// deleteSaslUser removes the user of the given Type (every type of that
// name when Type is left out). Connections it has stay open; its next
// login fails.
func (s *Instances) deleteSaslUser(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.securable(ctx, r)
	if err != nil {
		return nil, err
	}
	name := r.String("Username")
	types := []string{"plain", "scram"}
	if t := r.String("Type"); t != "" {
		types = []string{t}
	}
	deleted := 0
	for _, t := range types {
		switch err := s.Security.DeleteSaslUser(ctx, inst.ID, t, name); kafkaplane.ErrorCode(err) {
		case "":
			deleted++
		case kafkaplane.CodeNotFound:
		default:
			return nil, err
		}
	}
	if deleted == 0 {
		return nil, apierr.SaslUserNotFound.Errorf("The instance %s has no SASL user %s.", inst.ID, name)
	}
	return Object{}, s.syncSecurity(ctx, inst)
}

// saslPorts are the ports GetInstanceList shows as the SASL endpoint: the
// SASL_PLAINTEXT ports while ACLs are enabled, none otherwise.
func saslPorts(inst *kafkaplane.Instance) []int {
	if !kafkaplane.ACLEnabled(inst.Config) {
		return nil
	}
	return inst.SaslPorts
}

// sslPorts are the ports GetInstanceList shows as the SSL endpoint: the
// SASL_SSL ports of an internet (DeployType 4) instance.
func sslPorts(inst *kafkaplane.Instance) []int {
	if inst.DeployType != 4 {
		return nil
	}
	return inst.SslPorts
}
