package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kafkaplane/kafkaplane"
)

// instanceColumns is the column list every instance read selects, in the
// order scanInstance expects.
const instanceColumns = `id, account_id, region_id, order_id, name, paid_type, spec_type, deploy_type,
	disk_type, disk_size, io_max, io_max_spec, eip_max, topic_quota, partition_num,
	resource_group_id, tags, vpc_id, vswitch_id, zone_id, security_group,
	service_status, view_status, version, minor_version, config, broker_ports,
	create_time, expired_time, modify_index, deployment, auto_create_group, listener_ports`

// tagJSON is the stored shape of a tag.
type tagJSON struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanInstance(s scanner) (*kafkaplane.Instance, error) {
	var (
		in                         kafkaplane.Instance
		tags, config, ports        string
		deployment, listenerPorts  string
		created, expired           int64
		serviceStatus, viewStatus  int64
		paid, deploy, diskT, diskS int64
		ioMax, eip, topics, parts  int64
	)
	err := s.Scan(&in.ID, &in.AccountID, &in.RegionID, &in.OrderID, &in.Name, &paid, &in.SpecType, &deploy,
		&diskT, &diskS, &ioMax, &in.IoMaxSpec, &eip, &topics, &parts,
		&in.ResourceGroupID, &tags, &in.VpcID, &in.VSwitchID, &in.ZoneID, &in.SecurityGroup,
		&serviceStatus, &viewStatus, &in.Version, &in.MinorVersion, &config, &ports,
		&created, &expired, &in.ModifyIndex, &deployment, &in.AutoCreateGroup, &listenerPorts)
	if err != nil {
		return nil, err
	}
	in.PaidType, in.DeployType, in.DiskType, in.DiskSize = int(paid), int(deploy), int(diskT), int(diskS)
	in.IoMax, in.EipMax, in.TopicQuota, in.PartitionNum = int(ioMax), int(eip), int(topics), int(parts)
	in.ServiceStatus = kafkaplane.ServiceStatus(serviceStatus)
	in.ViewStatus = kafkaplane.ViewStatus(viewStatus)
	in.CreateTime, in.ExpiredTime = fromMicros(created), fromMicros(expired)
	if in.Tags, err = decodeTags(tags); err != nil {
		return nil, fmt.Errorf("instance %s tags: %w", in.ID, err)
	}
	if err := json.Unmarshal([]byte(config), &in.Config); err != nil {
		return nil, fmt.Errorf("instance %s config: %w", in.ID, err)
	}
	if len(in.Config) == 0 {
		in.Config = nil
	}
	if err := json.Unmarshal([]byte(deployment), &in.Deployment); err != nil {
		return nil, fmt.Errorf("instance %s deployment: %w", in.ID, err)
	}
	if err := json.Unmarshal([]byte(ports), &in.BrokerPorts); err != nil {
		return nil, fmt.Errorf("instance %s broker ports: %w", in.ID, err)
	}
	if len(in.BrokerPorts) == 0 {
		in.BrokerPorts = nil
	}
	var lp listenerPortsJSON
	if err := json.Unmarshal([]byte(listenerPorts), &lp); err != nil {
		return nil, fmt.Errorf("instance %s listener ports: %w", in.ID, err)
	}
	in.SaslPorts, in.SslPorts = lp.Sasl, lp.Ssl
	return &in, nil
}

// listenerPortsJSON is the stored shape of an instance's SASL_PLAINTEXT
// and SASL_SSL ports.
type listenerPortsJSON struct {
	Sasl []int `json:"sasl,omitempty"`
	Ssl  []int `json:"ssl,omitempty"`
}

func encodeListenerPorts(inst *kafkaplane.Instance) string {
	b, _ := json.Marshal(listenerPortsJSON{Sasl: inst.SaslPorts, Ssl: inst.SslPorts})
	return string(b)
}

// instanceJSON encodes the JSON columns of inst.
func instanceJSON(inst *kafkaplane.Instance) (tags, config, ports string, err error) {
	if tags, err = encodeTags(inst.Tags); err != nil {
		return "", "", "", err
	}
	cfg := inst.Config
	if cfg == nil {
		cfg = map[string]string{}
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return "", "", "", err
	}
	config = string(b)
	p := inst.BrokerPorts
	if p == nil {
		p = []int{}
	}
	if b, err = json.Marshal(p); err != nil {
		return "", "", "", err
	}
	return tags, config, string(b), nil
}

// CreateInstance stores a new instance with ModifyIndex 1. A zero
// CreateTime is set from the store clock; times are truncated to
// microseconds in inst, as they are stored. A duplicate id is
// CodeAlreadyExists. A limit above zero caps the account's live instances,
// in every region (CodeLimitExceeded), counted in the same transaction as
// the insert.
func (db *DB) CreateInstance(ctx context.Context, inst *kafkaplane.Instance, limit int) error {
	tags, config, ports, err := instanceJSON(inst)
	if err != nil {
		return wrap("create instance", err)
	}
	deployment, err := json.Marshal(inst.Deployment)
	if err != nil {
		return wrap("create instance", err)
	}
	created := db.orNow(inst.CreateTime)
	expired := norm(inst.ExpiredTime)
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.withinLimit(ctx, tx, limit, "instances/"+inst.AccountID, "instances in the account",
			`SELECT count(*) FROM instances WHERE account_id = $1 AND deleted_at IS NULL`, inst.AccountID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO instances (`+instanceColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
				$16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, 1, $30, $31, $32)`,
			inst.ID, inst.AccountID, inst.RegionID, inst.OrderID, inst.Name, inst.PaidType, inst.SpecType, inst.DeployType,
			inst.DiskType, inst.DiskSize, inst.IoMax, inst.IoMaxSpec, inst.EipMax, inst.TopicQuota, inst.PartitionNum,
			inst.ResourceGroupID, tags, inst.VpcID, inst.VSwitchID, inst.ZoneID, inst.SecurityGroup,
			int(inst.ServiceStatus), int(inst.ViewStatus), inst.Version, inst.MinorVersion, config, ports,
			toMicros(created), toMicros(expired), string(deployment), inst.AutoCreateGroup, encodeListenerPorts(inst))
		if isUniqueViolation(err) {
			return kafkaplane.Errorf(kafkaplane.CodeAlreadyExists, "The instance %s already exists.", inst.ID)
		}
		return err
	})
	if err != nil {
		return wrap("create instance", err)
	}
	inst.CreateTime, inst.ExpiredTime, inst.ModifyIndex = created, expired, 1
	return nil
}

// FindInstance returns a live instance of the account and region; a deleted
// one, or one in another account or region, is CodeInstanceNotFound.
func (db *DB) FindInstance(ctx context.Context, accountID, regionID, id string) (*kafkaplane.Instance, error) {
	row := db.queryRow(ctx, `SELECT `+instanceColumns+` FROM instances
		WHERE id = $1 AND account_id = $2 AND region_id = $3 AND deleted_at IS NULL`, id, accountID, regionID)
	inst, err := scanInstance(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, instanceNotFound(id)
	}
	return inst, wrap("find instance", err)
}

func instanceNotFound(id string) error {
	return kafkaplane.Errorf(kafkaplane.CodeInstanceNotFound, "The instance %s does not exist.", id)
}

// FindInstances returns the instances matching f (every account's when
// f.AccountID is empty: the worker restores and the port allocator scans
// all of them), ordered by
// creation time and then id so that pages are stable. Tag filters are
// applied after the query: tags are JSON text, and matching them in Go
// keeps one query for both engines (an account has few instances).
func (db *DB) FindInstances(ctx context.Context, f kafkaplane.InstanceFilter) ([]*kafkaplane.Instance, error) {
	var (
		where = []string{"1 = 1"}
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.AccountID != "" {
		where = append(where, "account_id = "+arg(f.AccountID))
	}
	if f.RegionID != "" {
		where = append(where, "region_id = "+arg(f.RegionID))
	}
	if len(f.IDs) > 0 {
		ph := make([]string, len(f.IDs))
		for i, id := range f.IDs {
			ph[i] = arg(id)
		}
		where = append(where, "id IN ("+strings.Join(ph, ", ")+")")
	}
	if f.OrderID != "" {
		where = append(where, "order_id = "+arg(f.OrderID))
	}
	if f.ResourceGroupID != "" {
		where = append(where, "resource_group_id = "+arg(f.ResourceGroupID))
	}
	if !f.IncludeDeleted {
		where = append(where, "deleted_at IS NULL")
	}
	list, err := db.cachedInstanceQuery(ctx, `SELECT `+instanceColumns+` FROM instances
		WHERE `+strings.Join(where, " AND ")+` ORDER BY create_time, id`, args, db.loadInstances)
	if err != nil {
		return nil, wrap("find instances", err)
	}
	var out []*kafkaplane.Instance
	for _, inst := range list {
		if matchTags(inst.Tags, f.Tags) {
			out = append(out, inst)
		}
	}
	return out, nil
}

// loadInstances runs an instance query and scans every row.
func (db *DB) loadInstances(ctx context.Context, query string, args []any) ([]*kafkaplane.Instance, error) {
	return scanAll("find instances", scanInstance)(db.query(ctx, query, args...))
}

// matchTags reports whether have carries every wanted tag; an empty wanted
// Key or Value matches any key or value (GetInstanceList's Tag.N
// semantics: "if the key is empty, all tags are matched").
func matchTags(have, want []kafkaplane.Tag) bool {
	for _, w := range want {
		if w.Key == "" && w.Value == "" {
			continue
		}
		if !slices.ContainsFunc(have, func(h kafkaplane.Tag) bool {
			return (w.Key == "" || h.Key == w.Key) && (w.Value == "" || h.Value == w.Value)
		}) {
			return false
		}
	}
	return true
}

// UpdateInstance writes every mutable field of inst (all but id, account,
// region and CreateTime) if the stored ModifyIndex still equals
// inst.ModifyIndex, then advances inst.ModifyIndex. A stale index is
// CodeConflict; a missing or deleted instance is CodeInstanceNotFound.
func (db *DB) UpdateInstance(ctx context.Context, inst *kafkaplane.Instance) error {
	defer db.writing()()
	return wrap("update instance", db.updateInstance(ctx, db.db, inst))
}

// updateInstance is UpdateInstance on q, so that StartOperation and
// FinishOperation can run it inside their transactions. inst is changed
// only when the row was written; callers in a transaction restore it when
// they roll back.
func (db *DB) updateInstance(ctx context.Context, q querier, inst *kafkaplane.Instance) error {
	tags, config, ports, err := instanceJSON(inst)
	if err != nil {
		return err
	}
	deployment, err := json.Marshal(inst.Deployment)
	if err != nil {
		return err
	}
	expired := norm(inst.ExpiredTime)
	res, err := q.ExecContext(ctx, `UPDATE instances SET
		order_id = $3, name = $4, paid_type = $5, spec_type = $6, deploy_type = $7,
		disk_type = $8, disk_size = $9, io_max = $10, io_max_spec = $11, eip_max = $12,
		topic_quota = $13, partition_num = $14, resource_group_id = $15, tags = $16,
		vpc_id = $17, vswitch_id = $18, zone_id = $19, security_group = $20,
		service_status = $21, view_status = $22, version = $23, minor_version = $24,
		config = $25, broker_ports = $26, expired_time = $27,
		deployment = $28, auto_create_group = $29, listener_ports = $30,
		modify_index = modify_index + 1
		WHERE id = $1 AND modify_index = $2 AND deleted_at IS NULL`,
		inst.ID, inst.ModifyIndex,
		inst.OrderID, inst.Name, inst.PaidType, inst.SpecType, inst.DeployType,
		inst.DiskType, inst.DiskSize, inst.IoMax, inst.IoMaxSpec, inst.EipMax,
		inst.TopicQuota, inst.PartitionNum, inst.ResourceGroupID, tags,
		inst.VpcID, inst.VSwitchID, inst.ZoneID, inst.SecurityGroup,
		int(inst.ServiceStatus), int(inst.ViewStatus), inst.Version, inst.MinorVersion,
		config, ports, toMicros(expired), string(deployment), inst.AutoCreateGroup, encodeListenerPorts(inst))
	if err != nil {
		return err
	}
	if ok, err := oneRow(res); err != nil || ok {
		if ok {
			inst.ExpiredTime = expired
			inst.ModifyIndex++
		}
		return err
	}
	return db.instanceMiss(ctx, q, inst.ID)
}

// instanceMiss explains why a compare-and-set on an instance touched no
// row: CodeConflict when the live row exists (its index moved on),
// CodeInstanceNotFound otherwise.
func (db *DB) instanceMiss(ctx context.Context, q querier, id string) error {
	ok, err := exists(ctx, q, `SELECT 1 FROM instances WHERE id = $1 AND deleted_at IS NULL`, id)
	if err != nil {
		return err
	}
	if !ok {
		return instanceNotFound(id)
	}
	return kafkaplane.Errorf(kafkaplane.CodeConflict, "The instance %s was changed concurrently; retry.", id)
}

// instanceChildTables hold rows that live and die with their instance.
var instanceChildTables = []string{"topics", "consumer_groups", "sasl_users", "acls", "allowed_ips"}

// DeleteInstance marks the instance deleted (compare-and-set on
// ModifyIndex) and advances inst.ModifyIndex. In the same transaction the
// instance's topics and consumer groups go: they lived on brokers whose
// data the caller has destroyed. The instance row is kept as a tombstone:
// operations reference it, and InstanceFilter.IncludeDeleted still lists
// it; every other read treats it as gone.
func (db *DB) DeleteInstance(ctx context.Context, inst *kafkaplane.Instance) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE instances SET deleted_at = $3, modify_index = modify_index + 1
			WHERE id = $1 AND modify_index = $2 AND deleted_at IS NULL`,
			inst.ID, inst.ModifyIndex, toMicros(db.now()))
		if err != nil {
			return err
		}
		ok, err := oneRow(res)
		if err != nil {
			return err
		}
		if !ok {
			return db.instanceMiss(ctx, tx, inst.ID)
		}
		for _, table := range instanceChildTables {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE instance_id = $1`, inst.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return wrap("delete instance", err)
	}
	inst.ModifyIndex++
	return nil
}
