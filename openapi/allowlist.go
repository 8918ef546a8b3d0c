package openapi

import (
	"context"
	"net/netip"
	"strings"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

// defaultAllowedIP is the entry a new instance's VPC allowlists hold when
// Instances.DefaultAllowedIP is empty: the loopback host the brokers
// listen on, where alikafka puts the vSwitch's CIDR block.
const defaultAllowedIP = "127.0.0.1/32"

func (s *Instances) registerAllowlists(g *Registry) {
	instanceID := Param{Name: "InstanceId", Required: true, MaxLen: maxIDLen}
	var ranges []string
	for _, ep := range kafkaplane.AllowlistEndpoints {
		ranges = append(ranges, ep.PortRange)
	}
	g.Add(kafkaAction(Action{
		Name: "UpdateAllowedIp", RAMAction: "alikafka:UpdateInstance", Resource: instanceARN, QPS: 40,
		Params: []Param{instanceID,
			{Name: "AllowedListType", Required: true, Enum: []string{"vpc", "internet"}},
			{Name: "PortRange", Required: true, Enum: ranges},
			{Name: "AllowedListIp", Required: true, MaxLen: 4096, Validate: validAllowedIPs},
			{Name: "UpdateType", Required: true, Enum: []string{"add", "delete"}},
			{Name: "Description", MaxLen: 256},
		},
		Handler: s.updateAllowedIP,
	}))
	g.Add(kafkaAction(Action{
		Name: "GetAllowedIpList", RAMAction: "alikafka:ListInstance", Resource: instanceARN, QPS: 100,
		Params:  []Param{instanceID},
		Handler: s.getAllowedIPList,
	}))
}

// splitAllowedIPs reads AllowedListIp: addresses or CIDR blocks separated
// by commas.
func splitAllowedIPs(v string) []string {
	var out []string
	for _, ip := range strings.Split(v, ",") {
		if ip = strings.TrimSpace(ip); ip != "" {
			out = append(out, ip)
		}
	}
	return out
}

func validAllowedIPs(v string) string {
	ips := splitAllowedIPs(v)
	if len(ips) == 0 {
		return "It must name at least one address or CIDR block."
	}
	for _, ip := range ips {
		if _, err := netip.ParsePrefix(ip); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(ip); err != nil {
			return "Each comma-separated item must be an IP address or a CIDR block; " + ip + " is neither."
		}
	}
	return ""
}

// endpointOf returns the allowlist a request names, refusing a pair of
// list type and port range the instance does not have: the internet
// endpoint exists only on DeployType 4 instances.
func endpointOf(inst *kafkaplane.Instance, listType, portRange string) (kafkaplane.AllowlistEndpoint, error) {
	for _, ep := range kafkaplane.AllowlistEndpoints {
		if ep.ListType == listType && ep.PortRange == portRange {
			if listType == "internet" && inst.DeployType != 4 {
				return ep, apierr.Invalid("AllowedListType", "The instance has no internet endpoint (DeployType 5).")
			}
			return ep, nil
		}
	}
	return kafkaplane.AllowlistEndpoint{}, apierr.Invalid("PortRange", "The "+listType+" allowlists are "+strings.Join(portRangesOf(listType), ", ")+".")
}

func portRangesOf(listType string) []string {
	var out []string
	for _, ep := range kafkaplane.AllowlistEndpoints {
		if ep.ListType == listType {
			out = append(out, ep.PortRange)
		}
	}
	return out
}

// updateAllowedIP adds entries to, or deletes them from, one allowlist.
// Adding what is there and deleting what is not change nothing and
// succeed. The brokers check the list when they accept a connection, so a
// change applies to new connections; open ones stay open.
func (s *Instances) updateAllowedIP(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.securable(ctx, r)
	if err != nil {
		return nil, err
	}
	ep, err := endpointOf(inst, r.String("AllowedListType"), r.String("PortRange"))
	if err != nil {
		return nil, err
	}
	ips := splitAllowedIPs(r.String("AllowedListIp"))
	if r.String("UpdateType") == "delete" {
		if err := s.Security.DeleteAllowedIPs(ctx, inst.ID, ep.ListType, ep.PortRange, ips); err != nil {
			return nil, err
		}
		return Object{}, s.syncSecurity(ctx, inst)
	}
	entries := make([]kafkaplane.AllowedIP, 0, len(ips))
	for _, ip := range ips {
		entries = append(entries, kafkaplane.AllowedIP{InstanceID: inst.ID, ListType: ep.ListType, PortRange: ep.PortRange,
			IP: ip, Description: r.String("Description"), CreateTime: s.now()})
	}
	if err := s.Security.AddAllowedIPs(ctx, entries, maxAllowedIPs); err != nil {
		if kafkaplane.ErrorCode(err) == kafkaplane.CodeLimitExceeded {
			return nil, apierr.AllowedIPQuotaExceeded.Errorf("The %s allowlist %s of instance %s would hold more than %d entries.", ep.ListType, ep.PortRange, inst.ID, maxAllowedIPs)
		}
		return nil, err
	}
	return Object{}, s.syncSecurity(ctx, inst)
}

// getAllowedIpList shows every allowlist of the instance: the VPC ones
// always, the internet one on DeployType 4 instances, each with its
// entries (AllowedIpList) and their descriptions (AllowedIpGroup).
func (s *Instances) getAllowedIPList(ctx context.Context, r *Request) (Object, error) {
	inst, err := s.secured(ctx, r)
	if err != nil {
		return nil, err
	}
	entries, err := s.Security.ListAllowedIPs(ctx, inst.ID)
	if err != nil {
		return nil, err
	}
	lists := map[string][]Object{"vpc": {}, "internet": {}}
	for _, ep := range kafkaplane.AllowlistEndpoints {
		if ep.ListType == "internet" && inst.DeployType != 4 {
			continue
		}
		ips, group := []string{}, Object{}
		for _, e := range entries {
			if e.ListType == ep.ListType && e.PortRange == ep.PortRange {
				ips = append(ips, e.IP)
				group = append(group, Field{e.IP, e.Description})
			}
		}
		// kafkaplane keeps no blocklists; the security group is the one
		// StartInstance recorded, shared when AddUserDefinedSg added any.
		lists[ep.ListType] = append(lists[ep.ListType], Object{
			{"PortRange", ep.PortRange},
			{"AllowedIpList", ips},
			{"AllowedIpGroup", group},
			{"BlackIPList", []string{}},
			{"BlackIPMap", Object{}},
			{"SecurityGroupId", inst.SecurityGroup},
			{"UserDefinedSharedSecurityGroup", len(inst.Deployment.UserDefinedSGs) > 0},
		})
	}
	return Object{{"AllowedList", Object{
		{"DeployType", inst.DeployType},
		{"VpcList", lists["vpc"]},
		{"InternetList", lists["internet"]},
	}}}, nil
}

// seedAllowlists gives an instance that has no allowlist entries yet the
// lists alikafka starts an instance with: its VPC endpoints admit the
// network the brokers serve (DefaultAllowedIP), and the internet endpoint
// of a DeployType 4 instance admits everyone (0.0.0.0/0).
func (s *Instances) seedAllowlists(ctx context.Context, inst *kafkaplane.Instance) error {
	if s.Security == nil {
		return nil
	}
	have, err := s.Security.ListAllowedIPs(ctx, inst.ID)
	if err != nil || len(have) > 0 {
		return err
	}
	vpc := s.DefaultAllowedIP
	if vpc == "" {
		vpc = defaultAllowedIP
	}
	for _, ep := range kafkaplane.AllowlistEndpoints {
		ip := vpc
		if ep.ListType == "internet" {
			if inst.DeployType != 4 {
				continue
			}
			ip = "0.0.0.0/0"
		}
		if err := s.Security.AddAllowedIPs(ctx, []kafkaplane.AllowedIP{{InstanceID: inst.ID, ListType: ep.ListType,
			PortRange: ep.PortRange, IP: ip, CreateTime: s.now()}}, 0); err != nil {
			return err
		}
	}
	return nil
}
