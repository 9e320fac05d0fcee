package contents

import (
	"crypto/sha256"
	"sync"
)

// notary decides which notebooks are trusted, as nbformat's NotebookNotary
// does: a notebook is trusted when this server saved it with every code
// cell trusted, and JupyterLab then shows its HTML and JavaScript outputs
// without sanitizing them. The signature is the sha256 of the notebook as
// WriteNotebook serializes it, which leaves out the "trusted" marks, and so
// the sha256 of the file this server wrote.
//
// NOTE: signatures live in memory, like nbformat's MemorySignatureStore,
// so notebooks are untrusted again after a restart until they are saved.
type notary struct {
	mu     sync.Mutex
	signed map[[sha256.Size]byte]uint64
	clock  uint64
}

// maxSignatures bounds the store; past it the least recently used quarter
// is dropped, as nbformat's SQLiteSignatureStore culls its cache.
const maxSignatures = 65535

func newNotary() *notary {
	return &notary{signed: make(map[[sha256.Size]byte]uint64)}
}

// anySigned reports whether the store holds a signature, which is when
// check needs the sha256 of a notebook file.
func (n *notary) anySigned() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.signed) > 0
}

// check reports whether nb, read from a file whose sha256 is fileSum, has
// been signed. The server signs the bytes it writes, so the sum of the
// file usually decides at once. Only when that misses and the store is
// not empty is nb serialized again, so that a file someone merely
// reformatted keeps its trust. An empty store needs no sum, so fileSum
// may then be zero.
func (n *notary) check(fileSum [sha256.Size]byte, nb map[string]any) bool {
	if !n.anySigned() {
		return false
	}
	if n.checkSum(fileSum) {
		return true
	}
	canonical, err := WriteNotebook(nb)
	if err != nil {
		return false
	}
	return n.checkSum(sha256.Sum256(canonical))
}

// NotebookSigned reports whether the notebook file data is signed: this
// server saved it, or a notebook that it writes the same way, with every
// code cell trusted. Get marks the code cells of such a notebook trusted.
func (m *Manager) NotebookSigned(data []byte) bool {
	if !m.notary.anySigned() {
		return false
	}
	sum := sha256.Sum256(data)
	if m.notary.checkSum(sum) {
		return true
	}
	nb, err := ReadNotebook(data)
	if err != nil {
		return false
	}
	return m.notary.check(sum, nb)
}

// checkSum reports whether sum is a signature in the store, and marks it
// used.
func (n *notary) checkSum(sum [sha256.Size]byte) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.signed[sum]; !ok {
		return false
	}
	n.clock++
	n.signed[sum] = n.clock
	return true
}

// signBytes records the serialized notebook data as trusted.
func (n *notary) signBytes(data []byte) {
	sum := sha256.Sum256(data)
	n.mu.Lock()
	defer n.mu.Unlock()
	n.clock++
	n.signed[sum] = n.clock
	if len(n.signed) > maxSignatures {
		n.cullLocked()
	}
}

func (n *notary) cullLocked() {
	cutoff := n.clock - uint64(len(n.signed))*3/4
	for sum, used := range n.signed {
		if used <= cutoff {
			delete(n.signed, sum)
		}
	}
}

// markCells sets metadata.trusted on every code cell, as nbformat's
// mark_cells does when a notebook is loaded.
func (n *notary) markCells(nb map[string]any, trusted bool) {
	for _, cell := range codeCells(nb) {
		if md, ok := cell["metadata"].(map[string]any); ok {
			md["trusted"] = trusted
		}
	}
}

// checkCells reports whether every code cell of nb is trusted: marked
// trusted by the client, or without outputs that could run code, as
// nbformat's check_cells decides before signing a saved notebook.
func checkCells(nb map[string]any) bool {
	for _, cell := range codeCells(nb) {
		if !cellTrusted(cell) {
			return false
		}
	}
	return true
}

func cellTrusted(cell map[string]any) bool {
	if md, ok := cell["metadata"].(map[string]any); ok && pyTruthy(md["trusted"]) {
		return true
	}
	outputs, _ := cell["outputs"].([]any)
	for _, o := range outputs {
		out, _ := o.(map[string]any)
		switch out["output_type"] {
		case "execute_result", "display_data":
			for key := range out {
				switch key {
				case "output_type", "execution_count", "metadata":
				default:
					return false
				}
			}
		}
	}
	return true
}

func codeCells(nb map[string]any) []map[string]any {
	cells, _ := nb["cells"].([]any)
	var code []map[string]any
	for _, c := range cells {
		if cell, ok := c.(map[string]any); ok && cell["cell_type"] == "code" {
			code = append(code, cell)
		}
	}
	return code
}
