package config

import (
	"fmt"
	"os"
	"slices"

	"github.com/jupygo/jupygo/internal/lazy"
)

// Value is one setting read from a configuration file: Class.Key = Value.
// Value holds what a TOML or Python reader produces: string, bool, int64,
// float64, []any, map[string]any or []map[string]any. A nil Value, which
// Python's None gives, leaves the key at its default: Build checks that
// the class and key exist and sets nothing.
type Value struct {
	Class string
	Key   string
	Value any
	// Pos is the position of the value, or zero when unknown.
	Pos Position
}

// Build checks values against the key table and returns the configuration
// they describe: defaults, then the values, then environment fallbacks,
// then cross-field defaults and checks. file names the source in messages.
// positions may give the places of keys nested in values, by dotted path
// such as "JupyterHub.services[0].name". A nested key without one is
// reported at its value's Pos.
//
// Every problem found is returned together in an ErrorList. Build is the
// second half of Parse, for readers of other file formats.
func Build(file string, values []Value, positions map[string]Position) (*Config, error) {
	b := newBuilder(file)
	b.pos = positions
	return b.build(values)
}

// buildPython is Build for a Python configuration, whose messages write
// settings as c.Class.trait.
func buildPython(file string, values []Value, positions map[string]Position) (*Config, error) {
	b := newBuilder(file)
	b.pos = positions
	b.python = true
	return b.build(values)
}

// builder collects the errors and warnings of one configuration.
type builder struct {
	file  string
	pos   map[string]Position
	errs  []*Error
	warns []Warning
	// setAt holds, for each Key.ID set by the file or the environment,
	// where its value came from.
	setAt map[string]Position
	// envName holds, for each Key.ID set from the environment, the
	// variable's name.
	envName map[string]string
	// invalid holds each Key.ID whose value, or the file it names, was
	// rejected, so that checks of required keys do not report it missing
	// on top of the real cause.
	invalid map[string]bool
	// tables are class names already checked, so an unknown table is
	// reported once.
	tables map[string]bool
	// python is set for a Python configuration, whose messages name
	// settings in its syntax.
	python bool
}

func newBuilder(file string) *builder {
	return &builder{
		file:    file,
		setAt:   make(map[string]Position),
		envName: make(map[string]string),
		invalid: make(map[string]bool),
		tables:  make(map[string]bool),
	}
}

// table names a class in the syntax of the file: [Class] in TOML, or
// c.Class in Python.
func (b *builder) table(class string) string {
	if b.python {
		return pythonObject + "." + class
	}
	return "[" + class + "]"
}

// setting names a key of a class in the syntax of the file, for messages
// that tell what to set: [Class] key in TOML, or c.Class.key in Python.
func (b *builder) setting(class, key string) string {
	if b.python {
		return pythonObject + "." + class + "." + key
	}
	return "[" + class + "] " + key
}

func (b *builder) errorf(pos Position, key, format string, args ...any) {
	b.errs = append(b.errs, &Error{File: b.file, Pos: pos, Key: key,
		Message: fmt.Sprintf(format, args...)})
}

func (b *builder) warnf(pos Position, key, format string, args ...any) {
	b.warns = append(b.warns, Warning{File: b.file, Pos: pos, Key: key,
		Message: fmt.Sprintf(format, args...)})
}

// posOf returns the position of a nested key, or fallback when unknown.
func (b *builder) posOf(path string, fallback Position) Position {
	if p, ok := b.pos[path]; ok {
		return p
	}
	return fallback
}

// setPos returns the position of the value that set key id, or the zero
// Position when the key holds its default.
func (b *builder) setPos(id string) Position { return b.setAt[id] }

// isSet reports whether the file or the environment set key id.
func (b *builder) isSet(id string) bool {
	_, ok := b.setAt[id]
	return ok
}

// label names key id in messages, with the environment variable it came
// from if any.
func (b *builder) label(id string) string {
	if env := b.envName[id]; env != "" {
		return id + " (from $" + env + ")"
	}
	return id
}

// labelIndex names element i of list key id as label does.
func (b *builder) labelIndex(id string, i int) string {
	elem := fmt.Sprintf("%s[%d]", id, i)
	if env := b.envName[id]; env != "" {
		return elem + " (from $" + env + ")"
	}
	return elem
}

// assignment is a value matched to its key.
type assignment struct {
	table string
	key   Key
	// fromFile is set for Name_file values.
	fromFile bool
	value    any
	pos      Position
	// rank orders assignments of one key: a subclass table wins over its
	// ancestors.
	rank int
}

func (a assignment) path() string {
	if a.fromFile {
		return a.table + "." + a.key.Name + "_file"
	}
	return a.table + "." + a.key.Name
}

func (b *builder) build(values []Value) (*Config, error) {
	c := &Config{File: b.file, positions: b.pos}
	applyDefaults(c)

	assigned := b.match(values)
	b.checkFileConflicts(assigned)

	var rest []assignment
	for _, a := range assigned {
		if a.table == "JupyterHub" {
			b.apply(c, a)
		} else {
			rest = append(rest, a)
		}
	}
	resolveSpawnerClass(c, b)
	b.applyClassTables(c, rest)
	b.applyEnv(c)
	if err := resolve(c, b); err != nil {
		return nil, err
	}
	c.Warnings = sortWarnings(b.warns)
	return c, nil
}

// match finds the key of each value, reporting unknown tables and keys.
func (b *builder) match(values []Value) []assignment {
	var out []assignment
	for _, v := range values {
		if v.Class == "" {
			b.topLevelKey(v.Key, v.Pos)
			continue
		}
		if !b.checkTable(v.Class, v.Pos) {
			continue
		}
		k, ok := Lookup(v.Class, v.Key)
		if !ok {
			b.unknownKey(v.Class, v.Key, v.Pos)
			continue
		}
		if v.Value == nil {
			continue
		}
		out = append(out, assignment{table: v.Class, key: k, fromFile: v.Key != k.Name,
			value: v.Value, pos: v.Pos})
	}
	return out
}

// checkTable reports whether name is a known class, reporting it once
// when it is not.
func (b *builder) checkTable(name string, pos Position) bool {
	if name == "" {
		return false
	}
	if _, ok := findClass(name); ok {
		return true
	}
	if !b.tables[name] {
		b.tables[name] = true
		format := "unknown table [%s]%s; the tables are %s"
		if b.python {
			format = "unknown class %s%s; the classes are %s"
		}
		b.errorf(pos, name, format, name, suggest(name, classNames()), joinNames(classNames()))
	}
	return false
}

// unknownKey reports a key that class does not accept.
func (b *builder) unknownKey(class, name string, pos Position) {
	msg := "unknown key"
	if hint, ok := renamedKeys()[name]; ok {
		msg += "; " + hint
	} else if s := suggest(name, acceptedNames(class)); s != "" {
		msg += s
	} else if owner := ownerOf(name); owner != "" {
		msg += fmt.Sprintf("; %s is a key of %s", name, b.table(owner))
	}
	b.errorf(pos, class+"."+name, "%s", msg)
}

var renamedKeysValue lazy.Value[map[string]string]

// renamedKeys returns the explanations of keys that JupyterHub has renamed
// or removed, by key.
func renamedKeys() map[string]string {
	return renamedKeysValue.Get(func() map[string]string {
		return map[string]string{
			"whitelist":       "JupyterHub 1.2 renamed it to allowed_users",
			"blacklist":       "JupyterHub 1.2 renamed it to blocked_users",
			"admin_access":    "JupyterHub 2.0 deprecated it, because the admin role has full access",
			"group_whitelist": "JupyterHub renamed it to allowed_groups, which jupygo does not support yet",
		}
	})
}

// ownerOf returns the class that defines a key named name, or "".
func ownerOf(name string) string {
	for _, k := range classKeys() {
		if k.Name == name || k.acceptsFileName(name) {
			return k.Class
		}
	}
	return ""
}

// checkFileConflicts reports tables that set both a secret and its file.
func (b *builder) checkFileConflicts(list []assignment) {
	for i, a := range list {
		for _, other := range list[:i] {
			if a.table == other.table && a.key.ID() == other.key.ID() {
				b.errorf(a.pos, a.path(), "%s and %s are both set; set only one",
					a.table+"."+a.key.Name, a.table+"."+a.key.Name+"_file")
			}
		}
	}
}

// applyClassTables applies values of every table but [JupyterHub], once
// the classes chosen there are known. A value under a subclass table wins
// over one under its ancestors, as in traitlets, when the chosen class is
// that subclass or inherits from it. Otherwise the value is checked and
// ignored.
func (b *builder) applyClassTables(c *Config, list []assignment) {
	chain := chosenChain(c)
	var applied []assignment
	for _, a := range list {
		if a.table == a.key.Class {
			applied = append(applied, a)
			continue
		}
		if i := slices.Index(chain, a.table); i >= 0 {
			a.rank = i + 1
			applied = append(applied, a)
			continue
		}
		scratch := &Config{}
		applyDefaults(scratch)
		b.decodeAssignment(scratch, a)
		b.warnf(a.pos, a.path(), "ignored: %s applies only when %s names it or a subclass",
			b.table(a.table), classKeyFor(a.table))
	}
	slices.SortStableFunc(applied, func(x, y assignment) int { return x.rank - y.rank })
	for _, a := range applied {
		b.apply(c, a)
	}
}

// chosenChain lists the classes of the chosen authenticator, spawner and
// proxy, each most general first.
func chosenChain(c *Config) []string {
	var chain []string
	pairs := []struct {
		list []implementation
		name string
	}{
		{authenticators, c.JupyterHub.AuthenticatorClass},
		{spawners, c.JupyterHub.SpawnerClass},
		{proxies, c.JupyterHub.ProxyClass},
	}
	for _, p := range pairs {
		if impl, ok := findImplementation(p.list, p.name); ok {
			chain = append(chain, impl.chain...)
		}
	}
	return chain
}

// classKeyFor names the *_class key that chooses among a class family.
func classKeyFor(table string) string {
	for _, a := range ancestors(table) {
		switch a {
		case "Authenticator":
			return "authenticator_class"
		case "Spawner":
			return "spawner_class"
		}
	}
	return "proxy_class"
}

// apply decodes one value into its field of c and records where it came
// from.
func (b *builder) apply(c *Config, a assignment) {
	if !b.decodeAssignment(c, a) {
		b.invalid[a.key.ID()] = true
		return
	}
	b.setAt[a.key.ID()] = a.pos
	if impls := implementations(a.key.Name); impls != nil && a.key.Class == "JupyterHub" {
		b.canonicalClass(c, impls, a)
	}
}

// decodeAssignment decodes one value, or the file it names, into its field
// of c. It reports whether the value was valid.
func (b *builder) decodeAssignment(c *Config, a assignment) bool {
	v := a.value
	if a.fromFile {
		text, ok := b.readFileValue(a.path(), a.value, a.pos)
		if !ok {
			return false
		}
		v = text
		if a.key.Type == TypeStringList {
			v = anyList(splitKeys(text))
		}
	}
	return b.decode(a.key, a.key.field(c), v, a.path(), a.pos)
}

// readFileValue reads the secret file that a Name_file value names.
func (b *builder) readFileValue(path string, v any, pos Position) (string, bool) {
	name, ok := v.(string)
	if !ok {
		b.errorf(pos, path, "expected a file path string, got %s", b.describe(v, false))
		return "", false
	}
	text, err := ReadSecretFile(name)
	if err != nil {
		b.errorf(pos, path, "reading secret file: %v", err)
		return "", false
	}
	return text, true
}

// canonicalClass replaces a *_class value with its canonical name.
func (b *builder) canonicalClass(c *Config, impls []implementation, a assignment) {
	field := a.key.field(c).(*string)
	impl, ok := findImplementation(impls, *field)
	if !ok {
		if hint := misplacedClassHint(impls, *field); hint != "" {
			b.errorf(a.pos, a.path(), "unknown class %q: %s", *field, hint)
			return
		}
		b.errorf(a.pos, a.path(), "unknown class %q; %s", *field, classChoices(impls))
		return
	}
	if !isSupported(impl.canonical) {
		b.errorf(a.pos, a.path(), "class %q is not supported yet; %s", *field,
			classChoices(impls))
		return
	}
	*field = impl.canonical
}

// classChoices names the supported values of a *_class key for messages:
// the canonical names, then their aliases, which are mostly JupyterHub
// class names.
func classChoices(impls []implementation) string {
	var names, aliases []string
	for _, impl := range impls {
		if !isSupported(impl.canonical) {
			continue
		}
		names = append(names, impl.canonical)
		aliases = append(aliases, impl.aliases...)
	}
	msg := "use " + joinNames(names)
	if len(aliases) > 0 {
		msg += ", or an alias: " + joinNames(aliases)
	}
	return msg
}

// applyEnv sets keys that the file leaves unset from their environment
// variables.
func (b *builder) applyEnv(c *Config) {
	for _, k := range classKeys() {
		if len(k.Env) == 0 || b.isSet(k.ID()) || b.invalid[k.ID()] {
			continue
		}
		for _, name := range k.Env {
			text, ok := os.LookupEnv(name)
			if !ok || text == "" {
				continue
			}
			var v any = text
			if k.Type == TypeStringList {
				v = anyList(splitKeys(text))
			}
			label := k.ID() + " (from $" + name + ")"
			if b.decode(k, k.field(c), v, label, Position{}) {
				b.setAt[k.ID()] = Position{}
				b.envName[k.ID()] = name
			} else {
				b.invalid[k.ID()] = true
			}
			break
		}
	}
}

func anyList(list []string) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = s
	}
	return out
}
