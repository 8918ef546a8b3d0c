// Package openapi is the HTTP adapter that speaks Alibaba Cloud's RPC
// OpenAPI on one endpoint, "/". Every request goes through one pipeline:
//
//	parse → verify signature (V1 or V3) → replay/timestamp checks →
//	throttle → validate parameters → authorize (RAM) → dispatch on Action →
//	render JSON or XML
//
// and every failure leaves through one function, toWire, which looks the
// error's code up in the apierr catalogue. Actions are declared in a
// Registry: name, parameters, RAM action and resource, and QPS limit; a
// handler only does the action's own work.
package openapi
