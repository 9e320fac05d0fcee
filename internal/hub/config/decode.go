package config

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jupygo/jupygo/internal/hub/spawn"
)

// decode converts v, a value of key k at path, into the field ptr points
// to. It reports each problem and whether v was valid, and leaves ptr as
// it was when v is invalid.
func (b *builder) decode(k Key, ptr any, v any, path string, pos Position) bool {
	bad := func(want string) bool {
		b.errorf(pos, path, "expected %s, got %s", b.pythonWords(want), b.describe(v, k.Secret))
		return false
	}
	switch p := ptr.(type) {
	case *string:
		s, ok := v.(string)
		if !ok {
			return bad("a string")
		}
		*p = s
	case *Secret:
		s, ok := v.(string)
		if !ok {
			return bad("a string")
		}
		*p = Secret(s)
	case *bool:
		x, ok := v.(bool)
		if !ok {
			return bad("true or false")
		}
		*p = x
	case *int:
		n, ok := toInt(v)
		if !ok {
			return bad("an integer")
		}
		*p = n
	case *float64:
		f, ok := toFloat(v)
		if !ok {
			return bad("a number")
		}
		*p = f
	case *time.Duration:
		return b.decodeSeconds(p, k.maxDuration, v, path, pos, bad)
	case *int64:
		return b.decodeByteSize(p, v, path, pos, bad)
	case *[]string:
		if !b.decodeStrings(p, k, v, path, pos, bad) {
			return false
		}
		if k.isUserNames {
			return b.checkUserNames(*p, path, pos)
		}
	case *[]Secret:
		var list []string
		if !b.decodeStrings(&list, k, v, path, pos, bad) {
			return false
		}
		*p = make([]Secret, len(list))
		for i, s := range list {
			(*p)[i] = Secret(s)
		}
	case *map[string]string:
		return b.decodeStringTable(p, v, path, pos, bad)
	case *[]Service:
		return decodeItems(b, p, serviceKeys(), defaultService, v, path, pos, bad)
	case *[]Role:
		return decodeItems(b, p, roleKeys(), func() Role { return Role{} }, v, path, pos, bad)
	default:
		panic(fmt.Sprintf("config: key %s has a field of unsupported type %T", path, ptr))
	}
	return true
}

// decodeSeconds decodes a number of seconds from 0 to limit.
func (b *builder) decodeSeconds(p *time.Duration, limit time.Duration, v any, path string,
	pos Position, bad func(string) bool) bool {
	f, ok := toFloat(v)
	if !ok {
		return bad("a number of seconds")
	}
	if f < 0 || f > limit.Seconds() {
		b.errorf(pos, path, "%v seconds is out of range: use 0 to %s", f, describeLimit(limit))
		return false
	}
	*p = time.Duration(f * float64(time.Second))
	return true
}

func (b *builder) decodeByteSize(p *int64, v any, path string, pos Position,
	bad func(string) bool) bool {
	switch x := v.(type) {
	case int64, int:
		n, _ := toInt64(x)
		if n < 0 {
			b.errorf(pos, path, "a byte size must not be negative")
			return false
		}
		*p = n
		return true
	case float64:
		// JupyterHub's ByteSpecification truncates a float to whole bytes.
		if x < 0 || x >= math.MaxInt64 || math.IsNaN(x) {
			b.errorf(pos, path, "byte size %v is out of range", x)
			return false
		}
		*p = int64(x)
		return true
	case string:
		n, err := parseByteSize(x)
		if err != nil {
			b.errorf(pos, path, "%v", err)
			return false
		}
		*p = n
		return true
	}
	return bad(`a number of bytes or a string such as "512M"`)
}

// parseByteSize reads a size as JupyterHub's ByteSpecification does: digits
// alone are bytes, and a number followed by K, M, G or T is multiplied by
// that power of 1024.
func parseByteSize(s string) (int64, error) {
	if s != "" && strings.Trim(s, "0123456789") == "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("byte size %q is out of range", s)
		}
		return n, nil
	}
	units := map[byte]float64{'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30, 'T': 1 << 40}
	if len(s) < 2 || units[s[len(s)-1]] == 0 {
		return 0, fmt.Errorf("invalid byte size %q: use a number of bytes or a number "+
			"followed by K, M, G or T, such as \"1.5G\"", s)
	}
	num, err := strconv.ParseFloat(s[:len(s)-1], 64)
	if err != nil || num < 0 || math.IsInf(num, 0) || math.IsNaN(num) ||
		strings.ContainsAny(s[:len(s)-1], "eEpPxX_+-") {
		return 0, fmt.Errorf("invalid byte size %q: the number must be decimal and "+
			"not negative, such as \"1.5G\"", s)
	}
	bytes := num * units[s[len(s)-1]]
	if bytes >= math.MaxInt64 {
		return 0, fmt.Errorf("byte size %q is out of range", s)
	}
	return int64(bytes), nil
}

// decodeStrings decodes an array of strings, or for command keys a single
// string too.
func (b *builder) decodeStrings(p *[]string, k Key, v any, path string, pos Position,
	bad func(string) bool) bool {
	if s, ok := v.(string); ok && k.Type == TypeCommand {
		*p = []string{s}
		return true
	}
	items, ok := toList(v)
	if !ok {
		if k.Type == TypeCommand {
			return bad("a string or an array of strings")
		}
		return bad("an array of strings")
	}
	list := make([]string, 0, len(items))
	valid := true
	for i, item := range items {
		s, ok := item.(string)
		if !ok {
			itemPath := fmt.Sprintf("%s[%d]", path, i)
			b.errorf(b.posOf(itemPath, pos), itemPath, "expected a string, got %s",
				b.describe(item, k.Secret))
			valid = false
			continue
		}
		list = append(list, s)
	}
	if !valid {
		return false
	}
	*p = list
	return true
}

// checkUserNames reports an error at each name of list that cannot name a
// hub user, so that a start fails before it creates anything.
func (b *builder) checkUserNames(list []string, path string, pos Position) bool {
	valid := true
	for i, name := range list {
		if err := spawn.ValidateUserName(name); err != nil {
			itemPath := fmt.Sprintf("%s[%d]", path, i)
			b.errorf(b.posOf(itemPath, pos), itemPath, "%v", err)
			valid = false
		}
	}
	return valid
}

func (b *builder) decodeStringTable(p *map[string]string, v any, path string, pos Position,
	bad func(string) bool) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return bad("a table of strings")
	}
	out := make(map[string]string, len(m))
	valid := true
	for _, name := range sortedNames(m, path, b.pos) {
		s, ok := m[name].(string)
		if !ok {
			itemPath := path + "." + name
			b.errorf(b.posOf(itemPath, pos), itemPath, "expected a string, got %s",
				b.describe(m[name], false))
			valid = false
			continue
		}
		out[name] = s
	}
	if !valid {
		return false
	}
	*p = out
	return true
}

// decodeItems decodes an array of tables whose entries have the fields
// that keys describe.
func decodeItems[T any](b *builder, p *[]T, keys []Key, zero func() T, v any, path string,
	pos Position, bad func(string) bool) bool {
	tables, ok := toTables(v)
	if !ok {
		if b.python {
			return bad("a list of dicts")
		}
		return bad(fmt.Sprintf("an array of tables, written [[%s]]", path))
	}
	out := make([]T, 0, len(tables))
	valid := true
	for i, m := range tables {
		itemPath := fmt.Sprintf("%s[%d]", path, i)
		item := zero()
		if !decodeItem(b, &item, keys, m, itemPath, b.posOf(itemPath, pos)) {
			valid = false
		}
		out = append(out, item)
	}
	if !valid {
		return false
	}
	*p = out
	return true
}

// decodeItem decodes the fields of one entry of an array of tables.
func decodeItem[T any](b *builder, item *T, keys []Key, m map[string]any, path string,
	pos Position) bool {
	valid := true
	seen := map[string]string{}
	for _, name := range sortedNames(m, path, b.pos) {
		namePath := path + "." + name
		namePos := b.posOf(namePath, pos)
		k, ok := lookupItem(keys, name)
		if !ok {
			msg := "unknown key" + suggest(name, itemNames(keys))
			if name == "admin" && keys[0].Class == servicesClass {
				roles := "[[JupyterHub.load_roles]]"
				if b.python {
					roles = "c.JupyterHub.load_roles"
				}
				msg += "; JupyterHub 2.0 deprecated it: list the service under services " +
					"of the role named \"admin\" in " + roles
			}
			b.errorf(namePos, namePath, "%s", msg)
			valid = false
			continue
		}
		if other, dup := seen[k.Name]; dup {
			b.errorf(namePos, namePath, "%s and %s are both set; set only one", other, name)
			valid = false
			continue
		}
		seen[k.Name] = name
		v := m[name]
		if name != k.Name {
			text, ok := b.readFileValue(namePath, v, namePos)
			if !ok {
				valid = false
				continue
			}
			v = text
		}
		if !b.decode(k, k.field(item), v, namePath, namePos) {
			valid = false
		}
	}
	return valid
}

// sortedNames returns the keys of m in file order where positions are
// known, then by name.
func sortedNames(m map[string]any, path string, pos map[string]Position) []string {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.SortFunc(names, func(x, y string) int {
		px, py := pos[joinPath(path, x)], pos[joinPath(path, y)]
		if px != py {
			if lineOrMax(px) != lineOrMax(py) {
				return lineOrMax(px) - lineOrMax(py)
			}
			return px.Column - py.Column
		}
		return strings.Compare(x, y)
	})
	return names
}

func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	}
	return 0, false
}

func toInt(v any) (int, bool) {
	n, ok := toInt64(v)
	if !ok || n != int64(int(n)) {
		return 0, false
	}
	return int(n), true
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, false
		}
		return x, true
	}
	return 0, false
}

func toList(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case []string:
		return anyList(x), true
	case []map[string]any:
		out := make([]any, len(x))
		for i, m := range x {
			out[i] = m
		}
		return out, true
	}
	return nil, false
}

func toTables(v any) ([]map[string]any, bool) {
	switch x := v.(type) {
	case []map[string]any:
		return x, true
	case []any:
		out := make([]map[string]any, len(x))
		for i, item := range x {
			m, ok := item.(map[string]any)
			if !ok {
				return nil, false
			}
			out[i] = m
		}
		return out, true
	}
	return nil, false
}

// describe names the kind of v for messages, with the value itself for
// short scalars unless secret is set.
func describe(v any, secret bool) string {
	var kind, text string
	switch x := v.(type) {
	case string:
		kind, text = "a string", strconv.Quote(x)
	case bool:
		kind, text = "a boolean", strconv.FormatBool(x)
	case int64, int:
		kind, text = "an integer", fmt.Sprint(x)
	case float64:
		kind, text = "a float", strconv.FormatFloat(x, 'g', -1, 64)
	case []any, []string, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	case nil:
		return "nothing"
	case time.Time:
		return "a date or time"
	default:
		return fmt.Sprintf("a value of type %T", v)
	}
	if secret || len(text) > 40 {
		return kind
	}
	return kind + " " + text
}

// describe is describe in the words of the file's syntax.
func (b *builder) describe(v any, secret bool) string {
	return b.pythonWords(describe(v, secret))
}

// pythonWords replaces the TOML names of arrays and tables in text with
// Python's list and dict when the file is Python.
func (b *builder) pythonWords(text string) string {
	if !b.python {
		return text
	}
	return strings.NewReplacer("an array", "a list", "a table", "a dict").Replace(text)
}

// describeLimit formats a bound of a TypeSeconds key in seconds and in whole
// days, such as "86400 seconds (1 day)".
func describeLimit(limit time.Duration) string {
	days := int(limit / (24 * time.Hour))
	unit := "days"
	if days == 1 {
		unit = "day"
	}
	return fmt.Sprintf("%.0f seconds (%d %s)", limit.Seconds(), days, unit)
}
