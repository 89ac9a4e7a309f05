//go:build tools

// Package prometheusoperator only holds the pinned requirement (see go.mod); the import is a
// stdlib-only command of the module, so the requirement stays without pulling in its dependencies.
package prometheusoperator

import _ "github.com/prometheus-operator/prometheus-operator/example/alertmanager-webhook"
