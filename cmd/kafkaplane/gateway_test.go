package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane"
)

// TestGatewayOfficialClients calls the real server through every official
// client, unchanged, and checks one success and every gateway error with
// its code and HTTP status.
func TestGatewayOfficialClients(t *testing.T) {
	m := startMain(t)
	throttled := startMain(t, func(m *Main) { m.QPS = map[string]float64{"GetAllInstanceIdList": 1} })
	inactive := &kafkaplane.AccessKey{ID: "LTAIinactive000000000001", Secret: "inactivesecret", AccountID: m.AccountID, Status: kafkaplane.AccessKeyInactive, CreateDate: time.Now()}
	if err := m.DB.CreateAccessKey(context.Background(), inactive, 0); err != nil {
		t.Fatal(err)
	}
	skewed := startMain(t, shiftClock(time.Hour))
	addr := m.ListenAddr()

	isV3 := func(c client) bool { return c.name() == "darabonba-v3" }
	for _, c := range clients(addr, testKeyID, testKeySecret, testRegion) {
		t.Run(c.name(), func(t *testing.T) {
			// with rebuilds the client for another address, key or region.
			with := func(addr, id, secret, region string) client {
				switch cc := c.(type) {
				case legacyClient:
					return legacyClient{addr: addr, id: id, secret: secret, region: region}
				case teaClient:
					return teaClient{addr: addr, id: id, secret: secret, region: region, v1: cc.v1}
				}
				panic("unknown client")
			}
			t.Run("success", func(t *testing.T) {
				r := c.call(t, "2019-09-16", "GetAllInstanceIdList", nil)
				if r.status != 200 || r.code != "" {
					t.Fatalf("got %+v", r)
				}
				if fmt.Sprint(r.body["Code"]) != "200" || r.body["Success"] != true || r.body["Message"] != "operation success." {
					t.Errorf("envelope = %v", r.body)
				}
				if _, ok := r.body["InstanceIds"].(map[string]any); !ok {
					t.Errorf("InstanceIds is not an object: %v", r.body["InstanceIds"])
				}
				if id, _ := r.body["RequestId"].(string); len(id) != 36 || strings.ToUpper(id) != id {
					t.Errorf("RequestId %q is not an upper-case UUID", id)
				}
			})

			v1Only := func(t *testing.T) {
				if isV3(c) {
					t.Skip("V3 requests carry no such query parameter")
				}
			}
			tests := []struct {
				name   string
				skip   func(*testing.T)
				client client
				action string
				ver    string
				status int
				code   string
			}{
				{name: "unknown key", client: with(addr, "LTAInosuchkey0000000000", "x", testRegion), status: 404, code: "InvalidAccessKeyId.NotFound"},
				{name: "inactive key", client: with(addr, inactive.ID, inactive.Secret, testRegion), status: 400, code: "InvalidAccessKeyId.Inactive"},
				{name: "wrong secret", client: with(addr, testKeyID, "wrong-secret", testRegion), status: 400, code: "SignatureDoesNotMatch"},
				{name: "expired timestamp", client: with(skewed.ListenAddr(), testKeyID, testKeySecret, testRegion), status: 400, code: "InvalidTimeStamp.Expired"},
				{name: "malformed timestamp", client: with(proxy(t, m.URL(), func(r *http.Request) {
					if isV3(c) {
						r.Header.Set("x-acs-date", "25/11/2026 10:00")
					} else {
						setQuery("Timestamp", "25/11/2026 10:00")(r)
					}
				}, false), testKeyID, testKeySecret, testRegion), status: 400, code: "InvalidTimeStamp.Format"},
				{name: "replayed nonce", client: with(proxy(t, m.URL(), nil, true), testKeyID, testKeySecret, testRegion), status: 400, code: "SignatureNonceUsed"},
				{name: "missing nonce", client: with(proxy(t, m.URL(), func(r *http.Request) {
					r.Header.Del("x-acs-signature-nonce")
					setQuery("SignatureNonce", "")(r)
				}, false), testKeyID, testKeySecret, testRegion), status: 400, code: "MissingSignatureNonce"},
				{name: "missing timestamp", client: with(proxy(t, m.URL(), func(r *http.Request) {
					r.Header.Del("x-acs-date")
					setQuery("Timestamp", "")(r)
				}, false), testKeyID, testKeySecret, testRegion), status: 400, code: "MissingTimestamp"},
				{name: "unknown action", action: "NoSuchAction", status: 404, code: "InvalidApi.NotFound"},
				{name: "unsupported version", ver: "2017-01-01", status: 400, code: "InvalidVersion"},
				{name: "unknown region", client: with(addr, testKeyID, testKeySecret, "xx-nowhere-1"), status: 400, code: "InvalidRegionId"},
				{name: "bad format", skip: v1Only, client: with(proxy(t, m.URL(), setQuery("Format", "CSV"), false), testKeyID, testKeySecret, testRegion), status: 400, code: "InvalidParameter.Format"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					if tt.skip != nil {
						tt.skip(t)
					}
					cl := tt.client
					if cl == nil {
						cl = c
					}
					action, ver := "GetAllInstanceIdList", "2019-09-16"
					if tt.action != "" {
						action = tt.action
					}
					if tt.ver != "" {
						ver = tt.ver
					}
					r := cl.call(t, ver, action, nil)
					if r.status != tt.status || r.code != tt.code {
						t.Errorf("got HTTP %d %q (%s), want HTTP %d %q", r.status, r.code, r.msg, tt.status, tt.code)
					}
				})
			}

			t.Run("throttling", func(t *testing.T) {
				// GetAllInstanceIdList is limited to 1/s on this server: of
				// three calls in a row at least one is throttled.
				tc := with(throttled.ListenAddr(), testKeyID, testKeySecret, testRegion)
				var codes []string
				for i := 0; i < 3; i++ {
					codes = append(codes, tc.call(t, "2019-09-16", "GetAllInstanceIdList", nil).code)
				}
				found := false
				for _, code := range codes {
					found = found || code == "Throttling.User"
				}
				if !found {
					t.Errorf("codes %v: no Throttling.User", codes)
				}
			})
		})
	}
}
