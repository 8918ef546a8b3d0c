package openapi

import (
	"fmt"
	"strings"
)

// Every action is declared once, where its handler is registered, with a
// literal that states all of it: name, parameters and their limits, the
// RAM action a policy must allow, the resource it is checked against, the
// per-account QPS and the handler (docs/actions.md lists them all,
// generated from the registry). kafkaAction and ramAction add only what
// every action of their product shares: the product, its API version,
// whether RegionId is required and whether answers carry alikafka's
// Code/Message/Success envelope.

// instanceARN is alikafka's resource template for instance-scoped actions.
const instanceARN = "acs:alikafka:{RegionId}:{AccountId}:{InstanceId}"

// accountARN is the resource of actions on "all resources": every
// instance of the account in the region. It matches a policy Resource of
// "*" as well as AliyunKafkaReadOnlyAccess's acs:alikafka:*:*:*.
const accountARN = "acs:alikafka:{RegionId}:{AccountId}:*"

// alikafkaVersion is the API version of alikafka.
const alikafkaVersion = "2019-09-16"

// ramVersion is RAM's API version.
const ramVersion = "2015-05-01"

// kafkaAction completes the declaration of an alikafka action: regional,
// with enveloped answers unless it is Bare. An action that names one instance (a single
// InstanceId parameter) must be authorized on that instance's ARN, so
// that a policy about one instance governs every action on it.
func kafkaAction(a Action) *Action {
	a.Product, a.Version, a.Regional, a.Envelope = "alikafka", alikafkaVersion, true, !a.Bare
	for _, p := range a.Params {
		if p.Name == "InstanceId" && p.Kind != RepeatList && a.Resource != instanceARN {
			panic("openapi: " + a.Name + " takes an InstanceId but is not authorized on the instance's ARN")
		}
	}
	return declared(&a)
}

// ramAction completes the declaration of a RAM action (global, answers
// without an envelope).
func ramAction(a Action) *Action {
	if a.Bare {
		panic("openapi: " + a.Name + ": RAM answers never carry an envelope; Bare is for alikafka actions")
	}
	a.Product, a.Version = "ram", ramVersion
	return declared(&a)
}

// declared refuses a declaration that leaves out what authorization and
// throttling need: a RAM action of the action's own product and a QPS.
func declared(a *Action) *Action {
	if !strings.HasPrefix(a.RAMAction, a.Product+":") || len(a.RAMAction) == len(a.Product)+1 {
		panic(fmt.Sprintf("openapi: %s declares RAM action %q, not one of %s", a.Name, a.RAMAction, a.Product))
	}
	if a.QPS <= 0 {
		panic("openapi: " + a.Name + " declares no QPS")
	}
	return a
}
