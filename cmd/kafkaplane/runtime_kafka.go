package main

import (
	"net/http"
	"os"
	"path/filepath"

	"github.com/kafkaplane/kafkaplane/broker"
)

// openKafkaRuntime starts the real data plane: every running instance's
// brokers listen on their stored ports with data under DataDir/brokers.
func (m *Main) openKafkaRuntime() error {
	k, err := broker.NewKafka(broker.KafkaConfig{
		DataDir:        m.brokerDataDir(),
		AdvertisedHost: m.AdvertisedHost,
		Logger:         m.Logger.With("component", "broker"),
	})
	if err != nil {
		return err
	}
	// SASL_SSL clients trust the installation CA; say where it is.
	ca, err := k.EnsureCA()
	if err != nil {
		k.Close()
		return err
	}
	m.Logger.Info("data plane CA certificate for SASL_SSL clients", "path", ca, "url_path", caURLPath)
	m.caFile = ca
	m.Runtime = k
	return nil
}

// caURLPath is where the endpoint serves the installation CA's certificate,
// so that SASL_SSL clients on other hosts can fetch what they must trust.
const caURLPath = "/dataplane/ca.pem"

// serveCA answers the installation CA's certificate (public by nature; the
// key is never served).
func (m *Main) serveCA(w http.ResponseWriter, r *http.Request) {
	pem, err := os.ReadFile(m.caFile)
	if err != nil {
		http.Error(w, "the data plane CA is not available", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Write(pem)
}

// brokerDataDir is --broker-data-dir, or DataDir/brokers.
func (m *Main) brokerDataDir() string {
	if m.BrokerDataDir != "" {
		return m.BrokerDataDir
	}
	return filepath.Join(m.DataDir, "brokers")
}
