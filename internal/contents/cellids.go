package contents

// repairCellIDs fixes the cell ids of an nbformat 4.5 or later notebook as
// nbformat does when it reads and validates one. A cell without an id gets
// one, and a cell whose id an earlier cell already has gets a new one.
// Without this, such a notebook would be saved in a form that nbformat's
// validator rejects. Ids that are present and unique are kept,
// so a valid notebook is never changed. Cells that are not objects are
// left to ValidateNotebook. It reports whether it changed an id.
func repairCellIDs(nb map[string]any) (changed bool) {
	minor, ok := intValue(nb["nbformat_minor"])
	if !ok || minor < 5 {
		return false
	}
	cells, _ := nb["cells"].([]any)
	seen := make(map[string]bool, len(cells))
	for _, c := range cells {
		cell, ok := c.(map[string]any)
		if !ok {
			continue
		}
		id, isString := cell["id"].(string)
		_, present := cell["id"]
		if !present || (isString && seen[id]) {
			id = newCellID()
			for seen[id] {
				id = newCellID()
			}
			cell["id"] = id
			isString = true
			changed = true
		}
		if isString {
			seen[id] = true
		}
	}
	return changed
}
