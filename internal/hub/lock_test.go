package hub

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestLockDataDirSecondHub(t *testing.T) {
	dir := t.TempDir()
	first, err := LockDataDir(dir)
	must(t, err)
	_, err = LockDataDir(dir)
	if err == nil {
		t.Fatal("a second lock on the data folder succeeded")
	}
	if !errors.Is(err, ErrDataDirInUse) {
		t.Errorf("error %q does not wrap ErrDataDirInUse", err)
	}
	if !strings.Contains(err.Error(), dir) {
		t.Errorf("error %q does not name the folder %s", err, dir)
	}
	if pid := "process " + strconv.Itoa(os.Getpid()); !strings.Contains(err.Error(), pid) {
		t.Errorf("error %q does not name the holder, %s", err, pid)
	}
	must(t, first.Close())
	again, err := LockDataDir(dir)
	if err != nil {
		t.Fatalf("locking after the first hub stopped: %v", err)
	}
	must(t, again.Close())
}
