// Package adversarial is Billkey's hostile-client suite, run on SQLite and
// Postgres by `go test ./internal/adversarial`: a malformed-input battery
// over every route the server serves (no 5xx, nothing stored), the bounds
// on identifiers, lists, fields, currencies, amounts and dates, a tenant
// probe, a card-data grep, slow and greedy clients, and replayed D24
// signatures. Every test logs what it sent and what came back. The package
// has no code of its own; it tests the assembled server.
package adversarial
