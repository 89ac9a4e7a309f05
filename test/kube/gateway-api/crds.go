// Package gatewayapi only holds the pinned requirement (see go.mod).
package gatewayapi

import _ "sigs.k8s.io/gateway-api/apis/v1"
