package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/kafkaplane/kafkaplane"
)

// RootKey says where the account's root AccessKey comes from at start.
type RootKey struct {
	AccountID string
	// ID and Secret, when set, fix the key (the service's environment):
	// after BootstrapRootKey it is the account's only root key, Active
	// with that secret, so changing either and restarting rotates it.
	ID, Secret string
	// File holds the key when ID is empty: read if it exists, otherwise
	// generated and written once with mode 0600.
	File string
}

// rootKeyFile is the stored form of RootKey.File.
type rootKeyFile struct {
	AccessKeyID     string `json:"AccessKeyId"`
	AccessKeySecret string `json:"AccessKeySecret"`
}

// BootstrapRootKey makes sure the account's root AccessKey exists and is
// Active, and returns it. generated reports that the key was made now and
// written to src.File, so the caller can show it once; the secret is
// never logged here.
func (db *DB) BootstrapRootKey(ctx context.Context, src RootKey) (key *kafkaplane.AccessKey, generated bool, err error) {
	if (src.ID == "") != (src.Secret == "") {
		return nil, false, errors.New("set both the root AccessKey id and secret, or neither")
	}
	otherPrincipal := func(id string) error {
		return fmt.Errorf("AccessKey %s belongs to another principal; choose another root key id", id)
	}
	if src.ID != "" {
		key := &kafkaplane.AccessKey{ID: src.ID, Secret: src.Secret, AccountID: src.AccountID, Status: kafkaplane.AccessKeyActive}
		err := db.ReplaceRootAccessKeys(ctx, key)
		if kafkaplane.ErrorCode(err) == kafkaplane.CodeAlreadyExists {
			return nil, false, otherPrincipal(src.ID)
		}
		if err != nil {
			return nil, false, err
		}
		return key, false, nil
	}
	id, secret, generated, err := readOrCreateRootKeyFile(src.File)
	if err != nil {
		return nil, false, err
	}
	key, err = db.FindAccessKey(ctx, id)
	switch {
	case kafkaplane.ErrorCode(err) == kafkaplane.CodeNotFound:
		key = &kafkaplane.AccessKey{ID: id, Secret: secret, AccountID: src.AccountID, Status: kafkaplane.AccessKeyActive}
		if err := db.CreateAccessKey(ctx, key, 0); err != nil {
			return nil, false, err
		}
	case err != nil:
		return nil, false, err
	case !key.Root() || key.AccountID != src.AccountID:
		return nil, false, otherPrincipal(id)
	case key.Secret != secret:
		return nil, false, fmt.Errorf("%s does not hold the stored secret of root AccessKey %s", src.File, id)
	case key.Status != kafkaplane.AccessKeyActive:
		key.Status = kafkaplane.AccessKeyActive
		if err := db.UpdateAccessKey(ctx, key); err != nil {
			return nil, false, err
		}
	}
	return key, generated, nil
}

// readOrCreateRootKeyFile reads the root key file at path, or generates a
// key pair and writes it there (mode 0600) when the file does not exist.
func readOrCreateRootKeyFile(path string) (id, secret string, created bool, err error) {
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		var f rootKeyFile
		if err := json.Unmarshal(data, &f); err != nil || f.AccessKeyID == "" || f.AccessKeySecret == "" {
			return "", "", false, fmt.Errorf("%s: not a root key file", path)
		}
		return f.AccessKeyID, f.AccessKeySecret, false, nil
	case errors.Is(err, os.ErrNotExist):
		id, secret = kafkaplane.NewAccessKeyPair()
		data, _ := json.MarshalIndent(rootKeyFile{id, secret}, "", "  ")
		if err := os.WriteFile(path, append(data, '\n'), 0o600); err != nil {
			return "", "", false, err
		}
		return id, secret, true, nil
	}
	return "", "", false, err
}

// SeedSystemPolicies stores the system policies every account can attach
// (documents and descriptions by name), dated by the store clock. A stored
// system policy whose document differs from docs is an error: the release
// changed it, and it is refreshed only by removing it from the store.
func (db *DB) SeedSystemPolicies(ctx context.Context, docs, descriptions map[string]string) error {
	for name, doc := range docs {
		p, err := db.FindPolicy(ctx, "", kafkaplane.PolicyTypeSystem, name)
		switch {
		case kafkaplane.ErrorCode(err) == kafkaplane.CodeNotFound:
			now := db.now()
			p = &kafkaplane.Policy{PolicyName: name, PolicyType: kafkaplane.PolicyTypeSystem, Description: descriptions[name],
				Document: doc, DefaultVersion: "v1", CreateDate: now, UpdateDate: now}
			if err := db.CreatePolicy(ctx, p); err != nil && kafkaplane.ErrorCode(err) != kafkaplane.CodeAlreadyExists {
				return err
			}
		case err != nil:
			return err
		case p.Document != doc:
			return fmt.Errorf("system policy %s differs from this release's; remove it from the store to refresh it", name)
		}
	}
	return nil
}
