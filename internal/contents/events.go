package contents

// ChangeOp is the kind of a Change.
type ChangeOp int

// The changes that Manager reports to its observers.
const (
	// Renamed: the file or folder Path is now at NewPath.
	Renamed ChangeOp = iota + 1
	// Copied: the file or folder Path was copied to NewPath.
	Copied
	// Deleted: the file or folder Path was deleted or moved to the trash.
	Deleted
)

// Change is a rename, copy or delete that a Manager has completed. Paths
// are clean API paths.
type Change struct {
	Op      ChangeOp
	Path    string
	NewPath string
}

// OnChange registers f to receive every Change made through the Manager,
// after it took effect on disk, such as the file ids of the collaboration
// service follow. f runs on the goroutine of the request that made the
// change and must not call back into the Manager's changing methods.
// Changes made outside the Manager, such as by a shell, are not reported.
func (m *Manager) OnChange(f func(Change)) {
	m.observersMu.Lock()
	defer m.observersMu.Unlock()
	m.observers = append(m.observers, f)
}

func (m *Manager) notify(c Change) {
	m.observersMu.Lock()
	observers := m.observers
	m.observersMu.Unlock()
	for _, f := range observers {
		f(c)
	}
}
