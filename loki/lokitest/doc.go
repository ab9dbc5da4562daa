// Package lokitest provides a fake Grafana Loki for tests of code that
// pushes logs, as net/http/httptest provides servers for tests of HTTP
// clients.
//
// [NewServer] starts a [Server] that stores what is pushed to
// /loki/api/v1/push and can be told to fail: answer with an error status
// and a Retry-After header, or hang. [DecodePushRequest] reads a push body
// on its own, for a server or proxy of a test's making; it reads both
// formats that package loki sends, snappy-compressed protobuf and gzipped JSON,
// and JSON that is not gzipped.
//
// Package lokitest does not import package loki, so that loki's own tests
// can use it.
package lokitest
