package store

import (
	"database/sql"
	"testing"
)

// AppliedVersionsForTest returns the versions in db's schema_migrations
// table, for the tests of package store_test.
func AppliedVersionsForTest(t *testing.T, db *sql.DB) []int {
	t.Helper()
	return appliedVersions(t, db)
}
