// Pins the Prometheus Operator release whose ServiceMonitor and PrometheusRule CRDs the manifest
// tests install; they read example/prometheus-operator-crd/*.yaml from this module's download
// (nothing here is compiled).
module obol.org/edge/test/kube/prometheus-operator

go 1.26.0

require github.com/prometheus-operator/prometheus-operator v0.85.0
