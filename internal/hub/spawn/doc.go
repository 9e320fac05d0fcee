// Package spawn starts, polls and stops the hub's single-user servers.
package spawn
