// Package lokitest provides utilities for testing code that pushes logs to
// Grafana Loki, as net/http/httptest does for HTTP: [DecodePushRequest]
// reads the body of a push to /loki/api/v1/push, in either of the formats
// package loki sends.
//
// Package lokitest does not import package loki, so that loki's own tests
// can use it.
package lokitest
