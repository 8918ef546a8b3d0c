package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/kafkaplane/kafkaplane/rpcsig"
)

// products maps the product names call accepts to their API versions.
var products = map[string]string{
	"alikafka": "2019-09-16",
	"ram":      "2015-05-01",
}

const callUsage = `Usage: kafkaplane call [alikafka|ram] ACTION [--Param value ...] [flags]

Parameters are passed as the aliyun CLI passes them: --InstanceId alikafka_post-cn-xxx,
--InstanceId.1 a --InstanceId.2 b, --Tag.1.Key k. Flags:
  --endpoint URL             service endpoint (env KAFKAPLANE_ENDPOINT, default http://127.0.0.1:7330)
  --access-key-id ID         (env KAFKAPLANE_ROOT_ACCESS_KEY_ID or ALIBABA_CLOUD_ACCESS_KEY_ID)
  --access-key-secret SECRET (env KAFKAPLANE_ROOT_ACCESS_KEY_SECRET or ALIBABA_CLOUD_ACCESS_KEY_SECRET)
  --region ID                RegionId (default cn-hangzhou; RAM calls send none)
  --signature-version v1|v3  HMAC-SHA1 query signature or ACS3-HMAC-SHA256 (default v3)
  --method GET|POST          (default POST)
  --format JSON|XML          response format for v1 (default JSON)

The response body is printed; the exit status is 1 when the service answers an error.
`

// callFlags are the flags call itself takes; every other --Name is an API
// parameter.
type callFlags struct {
	endpoint, keyID, secret, region, sigVersion, method, format string
}

func runCall(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := callFlags{
		endpoint:   envOr("KAFKAPLANE_ENDPOINT", "http://127.0.0.1:7330"),
		keyID:      envOr("KAFKAPLANE_ROOT_ACCESS_KEY_ID", os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID")),
		secret:     envOr("KAFKAPLANE_ROOT_ACCESS_KEY_SECRET", os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET")),
		region:     "cn-hangzhou",
		sigVersion: "v3",
		method:     "POST",
		format:     "JSON",
	}
	product := "alikafka"
	var action string
	params := url.Values{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "-h" || a == "--help" {
			fmt.Fprint(stdout, callUsage)
			return 0
		}
		if !strings.HasPrefix(a, "--") {
			if _, ok := products[a]; ok && action == "" && product == "alikafka" && len(params) == 0 {
				product = a
				continue
			}
			if action != "" {
				fmt.Fprintf(stderr, "kafkaplane call: unexpected argument %q\n", a)
				return 2
			}
			action = a
			continue
		}
		name, value, hasValue := strings.Cut(a[2:], "=")
		if !hasValue {
			if i+1 >= len(args) {
				fmt.Fprintf(stderr, "kafkaplane call: --%s needs a value\n", name)
				return 2
			}
			i++
			value = args[i]
		}
		switch name {
		case "endpoint":
			f.endpoint = value
		case "access-key-id":
			f.keyID = value
		case "access-key-secret":
			f.secret = value
		case "region":
			f.region = value
		case "signature-version":
			f.sigVersion = strings.ToLower(value)
		case "method":
			f.method = strings.ToUpper(value)
		case "format":
			f.format = strings.ToUpper(value)
		default:
			params.Add(name, value)
		}
	}
	if action == "" {
		fmt.Fprint(stderr, callUsage)
		return 2
	}
	if f.keyID == "" || f.secret == "" {
		fmt.Fprintln(stderr, "kafkaplane call: no credentials: pass --access-key-id and --access-key-secret or set KAFKAPLANE_ROOT_ACCESS_KEY_ID/SECRET")
		return 2
	}
	if product == "alikafka" && params.Get("RegionId") == "" && f.region != "" {
		params.Set("RegionId", f.region)
	}
	req, err := buildCall(ctx, f, product, action, params, time.Now())
	if err != nil {
		fmt.Fprintln(stderr, "kafkaplane call:", err)
		return 2
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "kafkaplane call:", err)
		return 1
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		fmt.Fprintln(stderr, "kafkaplane call:", err)
		return 1
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, body, "", "  ") == nil {
		body = pretty.Bytes()
	}
	stdout.Write(body)
	fmt.Fprintln(stdout)
	if resp.StatusCode >= 300 {
		return 1
	}
	return 0
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// buildCall signs one request the way the official clients do: V1 puts
// every parameter and the signature in the query (the legacy SDK's shape),
// V3 sends the parameters in the query and signs headers (Darabonba's).
func buildCall(ctx context.Context, f callFlags, product, action string, params url.Values, now time.Time) (*http.Request, error) {
	version := products[product]
	base, err := url.Parse(f.endpoint)
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("--endpoint %q is not a URL", f.endpoint)
	}
	base.Path = "/"
	switch f.sigVersion {
	case "v1":
		params.Set("Action", action)
		params.Set("Version", version)
		params.Set("Format", f.format)
		rpcsig.SignV1(f.method, params, f.keyID, f.secret, now, rpcsig.NewNonce())
		base.RawQuery = params.Encode()
		req, err := http.NewRequestWithContext(ctx, f.method, base.String(), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req, nil
	case "v3":
		base.RawQuery = params.Encode()
		req, err := http.NewRequestWithContext(ctx, f.method, base.String(), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("x-acs-action", action)
		req.Header.Set("x-acs-version", version)
		req.Header.Set("Accept", "application/json")
		if err := rpcsig.SignV3(req, nil, f.keyID, f.secret, now, rpcsig.NewNonce()); err != nil {
			return nil, err
		}
		return req, nil
	}
	return nil, fmt.Errorf("--signature-version %q: want v1 or v3", f.sigVersion)
}
