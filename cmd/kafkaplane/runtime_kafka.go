package main

import (
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
	m.Logger.Info("data plane CA certificate for SASL_SSL clients", "path", ca)
	m.Runtime = k
	return nil
}

// brokerDataDir is --broker-data-dir, or DataDir/brokers.
func (m *Main) brokerDataDir() string {
	if m.BrokerDataDir != "" {
		return m.BrokerDataDir
	}
	return filepath.Join(m.DataDir, "brokers")
}
