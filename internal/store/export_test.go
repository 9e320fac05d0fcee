package store

import (
	"database/sql"
	"testing"
	"time"
)

// AppliedVersionsForTest returns the versions in db's schema_migrations
// table, for the tests of package store_test.
func AppliedVersionsForTest(t *testing.T, db *sql.DB) []int {
	t.Helper()
	return appliedVersions(t, db)
}

// SetExclusiveCheckIntervalForTest sets how often exclusive stores check
// their lock until t ends.
func SetExclusiveCheckIntervalForTest(t *testing.T, d time.Duration) {
	old := exclusiveCheckInterval
	exclusiveCheckInterval = d
	t.Cleanup(func() { exclusiveCheckInterval = old })
}
