package main

import (
	"flag"
	"fmt"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kafkaplane/kafkaplane/strimzi"
)

// strimziFlags are serve's settings for --broker-runtime strimzi.
type strimziFlags struct {
	// Namespace holds the instances' Kafka resources.
	Namespace string
	// Kubeconfig is a kubeconfig file; empty uses the in-cluster config
	// (the pod's service account).
	Kubeconfig string
	// Versions maps catalogue versions to Kafka versions the installed
	// Strimzi supports, as strimzi.ParseVersions reads it.
	Versions string
	// Poll is how often waiting steps read the resources again.
	Poll time.Duration
}

func defaultStrimziFlags() strimziFlags {
	return strimziFlags{Namespace: "kafka", Versions: "0.10.2=4.0.0/4.0,2.2.0=4.1.0/4.1", Poll: 2 * time.Second}
}

func (f *strimziFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.Namespace, "kube-namespace", f.Namespace, "with --broker-runtime=strimzi, the namespace of the instances' Kafka resources")
	fs.StringVar(&f.Kubeconfig, "kubeconfig", f.Kubeconfig, "with --broker-runtime=strimzi, a kubeconfig file (default: in-cluster config)")
	fs.StringVar(&f.Versions, "strimzi-versions", f.Versions, "with --broker-runtime=strimzi, catalogue version → Kafka version/metadata version, comma-separated")
	fs.DurationVar(&f.Poll, "strimzi-poll", f.Poll, "with --broker-runtime=strimzi, how often waiting steps read the cluster's status")
}

// validate checks the settings against the catalogue: every version an
// instance may run needs a Kafka version.
func (m *Main) validateStrimzi() error {
	if m.BrokerRuntime != "strimzi" {
		return nil
	}
	f := m.Strimzi
	if err := validHost(f.Namespace); err != nil || len(f.Namespace) > 63 {
		return fmt.Errorf("--kube-namespace %q: want a Kubernetes namespace name", f.Namespace)
	}
	vs, err := strimzi.ParseVersions(f.Versions)
	if err != nil {
		return fmt.Errorf("--strimzi-versions: %w", err)
	}
	for _, v := range m.Catalogue.Versions {
		if _, ok := vs[v.Version]; !ok {
			return fmt.Errorf("--strimzi-versions: catalogue version %s has no Kafka version", v.Version)
		}
	}
	if f.Poll <= 0 {
		return fmt.Errorf("--strimzi-poll %s: want a positive duration", f.Poll)
	}
	return nil
}

// openStrimziRuntime connects to the Kubernetes API: in-cluster, or
// through --kubeconfig.
func (m *Main) openStrimziRuntime() error {
	f := m.Strimzi
	var cfg *rest.Config
	var err error
	if f.Kubeconfig != "" {
		cfg, err = clientcmd.BuildConfigFromFlags("", f.Kubeconfig)
	} else {
		cfg, err = rest.InClusterConfig()
	}
	if err != nil {
		return fmt.Errorf("kubernetes config: %w", err)
	}
	// Waiting steps poll; client-go's default of 5 requests a second would
	// throttle a few instances upgrading at once.
	cfg.QPS, cfg.Burst = 50, 100
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	vs, err := strimzi.ParseVersions(f.Versions)
	if err != nil {
		return err
	}
	rt, err := strimzi.New(strimzi.Config{
		Client: client, Namespace: f.Namespace, Versions: vs, PollInterval: f.Poll,
		Logger: m.Logger.With("component", "strimzi"),
	})
	if err != nil {
		return err
	}
	m.Runtime = rt
	return nil
}
