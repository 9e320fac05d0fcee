package config

import "strconv"

// pythonObject is the name JupyterHub's Python configuration files give
// their config object, as in c.JupyterHub.port = 8000. TOML reads such a
// line as a dotted key under a table named c.
const pythonObject = "c"

// pythonKeys reports each key under the table c, which comes from a line
// of a Python configuration file, with the TOML that sets the same trait.
func (b *builder) pythonKeys(table map[string]any) {
	for _, class := range sortedNames(table, pythonObject, b.pos) {
		path := pythonObject + "." + class
		keys, ok := table[class].(map[string]any)
		if !ok {
			b.errorf(b.posOf(path, Position{}), path, "this file is TOML, not Python: "+
				"put %s under its class table, such as [JupyterHub]", class)
			continue
		}
		for _, key := range sortedNames(keys, path, b.pos) {
			id := path + "." + key
			b.errorf(b.posOf(id, b.posOf(path, Position{})), id, "this file is TOML, not "+
				"Python: write %s as [%s] then %s = %s", id, class, key,
				pythonValueText(class, key, keys[key]))
		}
	}
}

// pythonValueText formats v in TOML for a message. It gives a short scalar
// as it is, and "..." for anything else and for every secret.
func pythonValueText(class, key string, v any) string {
	if k, ok := Lookup(class, key); ok && k.Secret {
		return "..."
	}
	var text string
	switch x := v.(type) {
	case string:
		text = strconv.Quote(x)
	case bool:
		text = strconv.FormatBool(x)
	case int64:
		text = strconv.FormatInt(x, 10)
	case float64:
		text = strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return "..."
	}
	if len(text) > 40 {
		return "..."
	}
	return text
}
