package openapi

import (
	"context"
	"encoding/json"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

// StartInstance: deploying a bought instance on its network, zones and
// brokers.

// notServed refuses any value of a parameter of a feature kafkaplane does
// not have, so that a caller is never told a setting took effect when it
// did not.
func notServed(why string) func(string) string {
	return func(string) string { return "kafkaplane does not support it: " + why + "." }
}

// selectedZones parses StartInstance's SelectedZones: a JSON list of zone
// lists, the primary zones first, e.g. [["zonea"],["zoneb"]].
func selectedZones(v string) ([][]string, error) {
	var zones [][]string
	if err := json.Unmarshal([]byte(v), &zones); err != nil {
		return nil, err
	}
	return zones, nil
}

func validSelectedZones(v string) string {
	zones, err := selectedZones(v)
	if err != nil || len(zones) == 0 {
		return `It must be a JSON list of zone lists, e.g. [["zonea"],["zoneb"]].`
	}
	return ""
}

// defaultZone is the zone of an instance started without ZoneId and
// without SelectedZones. alikafka takes the zone of the vSwitch from its
// VPC service; kafkaplane has no VPC service, so it takes the region's
// first zone.
const defaultZone = "zonea"

// startZone is the ZoneId StartInstance records: the one sent, else the
// first primary zone of SelectedZones, else defaultZone.
func startZone(r *Request) string {
	if z := r.String("ZoneId"); z != "" {
		return z
	}
	if zones, err := selectedZones(r.String("SelectedZones")); err == nil && len(zones) > 0 && len(zones[0]) > 0 {
		return zones[0][0]
	}
	return defaultZone
}

// startInstance deploys a bought instance: 0 → 1 (deploying) now, 5 when
// the START operation has brought its brokers up.
func (s *Instances) startInstance(ctx context.Context, r *Request) (Object, error) {
	if !r.Has("VSwitchId") && len(r.List("VSwitchIds")) == 0 {
		return nil, apierr.Missing("VSwitchId")
	}
	initialUser, err := startUser(r)
	if err != nil {
		return nil, err
	}
	if initialUser != nil && (s.Security == nil || s.SaslCredentials == nil) {
		return nil, apierr.SecurityUnsupported.Errorf("This server keeps no SASL users.")
	}
	inst, err := s.find(ctx, r)
	if err != nil {
		return nil, err
	}
	if err := inst.Apply(kafkaplane.EventStart); err != nil {
		return nil, err
	}
	cfg := map[string]string{}
	if c := r.String("Config"); c != "" {
		if cfg, err = parseConfig(c); err != nil {
			return nil, err
		}
	}
	version := r.String("ServiceVersion")
	if version == "" {
		version = s.Catalogue.Default
	}
	// Every instance gets SASL_PLAINTEXT ports, bound from the start so
	// that enable.acl never has to find free ports; internet instances
	// (DeployType 4) also get SASL_SSL ports.
	listeners := 2
	if inst.DeployType == 4 {
		listeners = 3
	}
	ports, err := s.Ports.Allocate(ctx, s.Brokers*listeners)
	if err != nil {
		return nil, err
	}
	ports, inst.SaslPorts, inst.SslPorts = ports[:s.Brokers], ports[s.Brokers:2*s.Brokers], ports[2*s.Brokers:]
	if len(inst.SslPorts) == 0 {
		inst.SslPorts = nil
	}
	inst.VpcID, inst.VSwitchID, inst.ZoneID = r.String("VpcId"), r.String("VSwitchId"), startZone(r)
	inst.SecurityGroup = r.String("SecurityGroup")
	inst.Deployment = kafkaplane.Deployment{
		VSwitchIDs:           r.List("VSwitchIds"),
		SelectedZones:        r.String("SelectedZones"),
		CrossZone:            r.Bool("CrossZone", false),
		IsForceSelectedZones: r.Bool("IsForceSelectedZones", false),
		KMSKeyID:             r.String("KMSKeyId"),
		DeployModule:         r.String("DeployModule"),
		IsEipInner:           r.Bool("IsEipInner", false),
	}
	if inst.VSwitchID == "" {
		inst.VSwitchID = inst.Deployment.VSwitchIDs[0]
	}
	if n := r.String("Name"); n != "" {
		inst.Name = n
	} else {
		inst.Name = inst.ID
	}
	inst.Version, inst.MinorVersion = version, s.Catalogue.LatestMinor(version)
	inst.Config = withDefaults(cfg)
	inst.BrokerPorts = ports
	// The allowlists and the first user are stored before the operation
	// that starts the brokers, which read them when they start.
	if err := s.seedAllowlists(ctx, inst); err != nil {
		return nil, err
	}
	if initialUser != nil {
		u, err := s.newSaslUser(inst.ID, initialUser[0], initialUser[1], "plain", "")
		if err != nil {
			return nil, err
		}
		u.CreateTime = s.now()
		if err := s.Security.PutSaslUser(ctx, u, maxSaslUsers); err != nil {
			return nil, err
		}
	}
	op := kafkaplane.NewStartOperation(inst, newOperationID(), s.now())
	if err := s.Operations.StartOperation(ctx, inst, op); err != nil {
		return nil, s.raced(ctx, r, err, "StartInstance")
	}
	s.wake()
	return Object{}, nil
}

// startUser reads StartInstance's first SASL user: with
// IsSetUserAndPassword=true, Username and Password are required; without
// it they are refused rather than dropped.
func startUser(r *Request) (*[2]string, error) {
	if !r.Bool("IsSetUserAndPassword", false) {
		for _, name := range []string{"Username", "Password"} {
			if r.Has(name) {
				return nil, apierr.Invalid(name, "It applies only with IsSetUserAndPassword=true.")
			}
		}
		return nil, nil
	}
	for _, name := range []string{"Username", "Password"} {
		if r.String(name) == "" {
			return nil, apierr.Missing(name)
		}
	}
	return &[2]string{r.String("Username"), r.String("Password")}, nil
}

func newOperationID() string { return "op-" + randomID(20) }
