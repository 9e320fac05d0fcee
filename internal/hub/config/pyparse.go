package config

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/jupygo/jupygo/internal/lazy"
)

// This file reads a jupyterhub_config.py of the usual shape: imports of os
// and of the classes that the *_class keys accept, assignments of literals
// and of a few expressions to c.Class.trait and to local names. It runs
// nothing. Each c.Class.trait becomes the Value that the TOML line
// Class.trait would, so Build gives both formats the same checks and
// defaults. Everything else is an error at its line.

// ParsePython parses a JupyterHub Python configuration and returns it as
// Parse returns a TOML one. name is the file name used in messages. The
// first statement outside the supported subset is returned alone, as a
// TOML syntax error is; then Build checks the values.
func ParsePython(data []byte, name string) (*Config, error) {
	p, err := parsePython(string(data))
	if err != nil {
		var pe *pyError
		if e, ok := err.(*pyError); ok {
			pe = e
		} else {
			pe = &pyError{msg: err.Error()}
		}
		return nil, ErrorList{{File: name, Pos: pe.pos, Message: "unsupported Python: " + pe.msg}}
	}
	values, positions := p.result()
	return buildPython(name, values, positions)
}

// pyObject is a value of the configuration's Python: an object that is
// not data.
type pyObject struct {
	kind pyObjectKind
	// name is the module, function or class, such as "os.path.join" or
	// "oauthenticator.github.LocalGitHubOAuthenticator", or the class of
	// a c.Class object.
	name string
}

type pyObjectKind int

const (
	pyModule pyObjectKind = iota
	pyEnviron
	pyFunc
	pyClassRef
	pyConfigObject
	pyConfigClass
)

// pyNone is Python's None.
type pyNone struct{}

// pyList is a list, tuple or set, with the word that names its kind.
type pyList struct {
	kind  string
	items []*pyValue
	// size is the count of values that pySize returns.
	size int
}

// pyDict is a dict with string keys, in file order.
type pyDict struct {
	keys   []string
	keyPos []Position
	vals   []*pyValue
	// size is the count of values that pySize returns.
	size int
}

// pyValue is the value of an expression: string, int64, float64, bool,
// pyNone, *pyList, *pyDict or pyObject, with the position it was written
// at.
type pyValue struct {
	v   any
	pos Position
}

// pyAssignment is the value a c.Class.trait holds.
type pyAssignment struct {
	class, trait string
	value        *pyValue
	pos          Position
}

type pyParser struct {
	toks []pyToken
	i    int
	// depth counts the expressions being read, one inside another.
	depth int
	vars  map[string]*pyValue
	// assigned holds the current value of each c.Class.trait, in the
	// order of their last assignment.
	assigned []pyAssignment
}

func parsePython(src string) (*pyParser, error) {
	toks, lexErr := pyTokens(src)
	p := &pyParser{toks: toks, vars: map[string]*pyValue{
		"c":          {v: pyObject{kind: pyConfigObject}},
		"get_config": {v: pyObject{kind: pyFunc, name: "get_config"}},
		"set":        {v: pyObject{kind: pyFunc, name: "set"}},
	}}
	for p.peek().kind != pyEOF {
		err := p.statement()
		if p.peek().kind == pyBad {
			// The statement reached the text the lexer could not read,
			// whose error comes first.
			return nil, lexErr
		}
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *pyParser) peek() pyToken { return p.toks[p.i] }

func (p *pyParser) next() pyToken {
	t := p.toks[p.i]
	if t.kind != pyEOF && t.kind != pyBad {
		p.i++
	}
	return t
}

func (p *pyParser) isOp(text string) bool {
	t := p.peek()
	return t.kind == pyOp && t.text == text
}

func (p *pyParser) expectOp(text string) error {
	if !p.isOp(text) {
		return p.unexpected(fmt.Sprintf("%q", text))
	}
	p.next()
	return nil
}

// unexpected reports the next token, where want was expected.
func (p *pyParser) unexpected(want string) error {
	t := p.peek()
	if t.kind == pyOp && slices.Contains([]string{"-", "*", "/", "//", "%", "**", "==", "!=",
		"<", ">", "<=", ">=", "|", "&", "^", "<<", ">>", "@", "~"}, t.text) {
		return pyErrorf(t.pos, "operator %s is not supported: only + joins strings and lists", t.text)
	}
	if t.kind == pyOp && t.text == ":=" {
		return pyErrorf(t.pos, "the walrus operator := is not supported: assign the name "+
			"on a line of its own")
	}
	if t.kind == pyOp && t.text == ";" {
		return pyErrorf(t.pos, "semicolons are not supported: write one statement per line")
	}
	if t.kind == pyName && pyKeywords()[t.text] {
		return pyErrorf(t.pos, "%q is not supported here", t.text)
	}
	return pyErrorf(t.pos, "expected %s, found %s", want, t.describe())
}

var pyKeywordsValue lazy.Value[map[string]bool]

// pyKeywords returns the set of Python's keywords other than True, False
// and None.
func pyKeywords() map[string]bool {
	return pyKeywordsValue.Get(func() map[string]bool {
		return map[string]bool{
			"and": true, "as": true, "assert": true, "async": true, "await": true, "break": true,
			"class": true, "continue": true, "def": true, "del": true, "elif": true, "else": true,
			"except": true, "finally": true, "for": true, "from": true, "global": true, "if": true,
			"import": true, "in": true, "is": true, "lambda": true, "nonlocal": true, "not": true,
			"or": true, "pass": true, "raise": true, "return": true, "try": true, "while": true,
			"with": true, "yield": true,
		}
	})
}

func (p *pyParser) endStatement() error {
	if p.peek().kind == pyNewline {
		p.next()
		return nil
	}
	return p.unexpected("end of line")
}

func (p *pyParser) statement() error {
	t := p.peek()
	if t.kind == pyName {
		switch {
		case t.text == "import":
			return p.importStatement()
		case t.text == "from":
			return p.fromStatement()
		case pyKeywords()[t.text]:
			return pyErrorf(t.pos, "%q statements are not supported: only imports and "+
				"assignments are", t.text)
		}
		if p.nameAssignmentAhead() {
			return p.nameAssignment()
		}
	}
	if p.docstringAhead() {
		return nil
	}
	if class, trait, ok := p.traitTarget(); ok {
		return p.traitAssignment(class, trait, t.pos)
	}
	if op, ok := p.assignmentOp(); ok {
		if op.text == "=" {
			return pyErrorf(t.pos, "only c.Class.trait and plain names can be assigned to")
		}
		return pyErrorf(op.pos, "augmented assignment %s is not supported: only += on "+
			"c.Class.trait is", op.text)
	}
	if _, err := p.expr(); err != nil {
		return err
	}
	switch {
	case p.peek().kind == pyNewline:
		return pyErrorf(t.pos, "statements other than imports and assignments are not supported")
	}
	return p.unexpected("end of line")
}

// nameAssignmentAhead reports whether the tokens at p.i are a plain name
// and =.
func (p *pyParser) nameAssignmentAhead() bool {
	t, op := p.peek(), p.toks[min(p.i+1, len(p.toks)-1)]
	return t.kind == pyName && !pyKeywords()[t.text] && op.kind == pyOp && op.text == "="
}

// nameAssignment reads name = value, or a chain name = name = value,
// which gives each name the value.
func (p *pyParser) nameAssignment() error {
	var names []string
	for p.nameAssignmentAhead() {
		names = append(names, p.next().text)
		p.next()
	}
	if op, ok := p.assignmentOp(); ok {
		return pyErrorf(op.pos, "chained assignments are supported between plain names only, "+
			"such as x = y = 1")
	}
	if p.isOp("=") || pyKeywords()[p.peek().text] {
		return p.unexpected("a value")
	}
	v, err := p.expr()
	if err != nil {
		return err
	}
	for _, name := range names {
		p.vars[name] = v
	}
	return p.endStatement()
}

// docstringAhead reports whether the statement at p.i is string literals
// alone, such as a docstring, which does nothing, and if so skips it.
func (p *pyParser) docstringAhead() bool {
	i := p.i
	for p.toks[i].kind == pyString {
		i++
	}
	if i == p.i || p.toks[i].kind != pyNewline {
		return false
	}
	p.i = i + 1
	return true
}

// assignmentOp returns the assignment operator of the statement at p.i,
// if it has one outside brackets and before any semicolon.
func (p *pyParser) assignmentOp() (pyToken, bool) {
	depth := 0
	for _, t := range p.toks[p.i:] {
		switch {
		case t.kind == pyNewline || t.kind == pyEOF || t.kind == pyBad,
			t.kind == pyOp && t.text == ";" && depth == 0:
			return pyToken{}, false
		case t.kind != pyOp:
		case t.text == "(" || t.text == "[" || t.text == "{":
			depth++
		case t.text == ")" || t.text == "]" || t.text == "}":
			depth--
		case depth == 0 && (t.text == "=" || len(t.text) >= 2 && strings.HasSuffix(t.text, "=") &&
			!slices.Contains([]string{"==", "!=", "<=", ">="}, t.text)):
			return t, true
		}
	}
	return pyToken{}, false
}

// comprehensionAhead reports whether the brackets opened just before p.i
// hold a comprehension: a for at their own depth.
func (p *pyParser) comprehensionAhead() (pyToken, bool) {
	depth := 0
	for _, t := range p.toks[p.i:] {
		switch {
		case t.kind == pyEOF || t.kind == pyBad:
			return pyToken{}, false
		case t.kind == pyName && t.text == "for" && depth == 0:
			return t, true
		case t.kind != pyOp:
		case t.text == "(" || t.text == "[" || t.text == "{":
			depth++
		case t.text == ")" || t.text == "]" || t.text == "}":
			if depth == 0 {
				return pyToken{}, false
			}
			depth--
		}
	}
	return pyToken{}, false
}

// traitTarget reads c.Class.trait followed by = or +=, where c is the
// configuration object, and leaves p unmoved when the tokens are anything
// else.
func (p *pyParser) traitTarget() (class, trait string, ok bool) {
	if p.i+6 > len(p.toks) {
		return "", "", false
	}
	t := p.toks[p.i : p.i+6]
	v := p.vars[t[0].text]
	if t[0].kind != pyName || v == nil {
		return "", "", false
	}
	obj, isObj := v.v.(pyObject)
	if !isObj || obj.kind != pyConfigObject ||
		t[1].text != "." || t[2].kind != pyName || t[3].text != "." || t[4].kind != pyName ||
		t[5].kind != pyOp || t[5].text != "=" && t[5].text != "+=" {
		return "", "", false
	}
	p.i += 5
	return t[2].text, t[4].text, true
}

func (p *pyParser) traitAssignment(class, trait string, pos Position) error {
	op := p.next()
	if p.isOp("=") {
		return p.unexpected("a value")
	}
	if next, ok := p.assignmentOp(); ok {
		return pyErrorf(next.pos, "chained assignments are supported between plain names only, "+
			"such as x = y = 1")
	}
	v, err := p.expr()
	if err != nil {
		return err
	}
	if err := p.checkTraitValue(trait, v, true); err != nil {
		return err
	}
	if op.text == "+=" {
		if v, err = p.extend(class, trait, v, pos); err != nil {
			return err
		}
	}
	p.assigned = slices.DeleteFunc(p.assigned, func(a pyAssignment) bool {
		return a.class == class && a.trait == trait
	})
	p.assigned = append(p.assigned, pyAssignment{class: class, trait: trait, value: v, pos: pos})
	return p.endStatement()
}

// extend works out c.Class.trait += v as a list extend: of the value this
// file gave the trait before, or of its default when that is empty.
func (p *pyParser) extend(class, trait string, v *pyValue, pos Position) (*pyValue, error) {
	add, ok := v.v.(*pyList)
	if !ok {
		return nil, pyErrorf(v.pos, "+= takes a list, tuple or set, got %s", pyDescribe(v))
	}
	for _, a := range p.assigned {
		if a.class != class || a.trait != trait {
			continue
		}
		old, ok := a.value.v.(*pyList)
		if !ok {
			return nil, pyErrorf(pos, "+= extends a list, but c.%s.%s contains %s", class, trait,
				pyDescribe(a.value))
		}
		return newPyList(old.kind, slices.Concat(old.items, add.items), a.value.pos)
	}
	k, ok := Lookup(class, trait)
	if !ok {
		// Build reports the unknown class or trait.
		return v, nil
	}
	scratch := &Config{}
	applyDefaults(scratch)
	switch f := k.field(scratch).(type) {
	case *[]string:
		if len(*f) == 0 {
			return v, nil
		}
	case *[]Secret:
		if len(*f) == 0 {
			return v, nil
		}
	}
	return nil, pyErrorf(pos, "+= is supported only on a list trait that this file set "+
		"before, or whose default is empty: assign c.%s.%s with =", class, trait)
}

// checkTraitValue reports a value that a trait cannot take: None inside a
// list or dict, which TOML cannot write, a module or function, and a class
// outside the *_class keys. None as the whole value leaves the trait at its
// default.
func (p *pyParser) checkTraitValue(trait string, v *pyValue, top bool) error {
	switch x := v.v.(type) {
	case pyNone:
		if !top {
			return pyErrorf(v.pos, "None inside a list, tuple, set or dict is not supported: "+
				"None is accepted only as the whole value of a trait, which then keeps its default")
		}
	case pyObject:
		if x.kind == pyClassRef {
			if top && strings.HasSuffix(trait, "_class") {
				return nil
			}
			return pyErrorf(v.pos, "a class can be the value of authenticator_class, "+
				"spawner_class or proxy_class only")
		}
		return pyErrorf(v.pos, "%s is not a value that a trait can take", pyDescribe(v))
	case *pyList:
		for _, item := range x.items {
			if err := p.checkTraitValue(trait, item, false); err != nil {
				return err
			}
		}
	case *pyDict:
		for _, item := range x.vals {
			if err := p.checkTraitValue(trait, item, false); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *pyParser) importStatement() error {
	p.next()
	for {
		path, pos, err := p.dotted()
		if err != nil {
			return err
		}
		if path != "os" && path != "os.path" {
			return pyErrorf(pos, "import %s is not supported: only os and os.path can be "+
				"imported, and the classes that authenticator_class, spawner_class and "+
				"proxy_class accept", path)
		}
		if p.peek().text == "as" {
			p.next()
			alias := p.next()
			if alias.kind != pyName || pyKeywords()[alias.text] {
				return pyErrorf(alias.pos, "expected a name after as")
			}
			p.vars[alias.text] = &pyValue{v: pyObject{kind: pyModule, name: path}, pos: pos}
		} else {
			p.vars["os"] = &pyValue{v: pyObject{kind: pyModule, name: "os"}, pos: pos}
		}
		if !p.isOp(",") {
			return p.endStatement()
		}
		p.next()
	}
}

// dotted reads a dotted module name.
func (p *pyParser) dotted() (string, Position, error) {
	first := p.peek()
	var parts []string
	for {
		t := p.next()
		if t.kind != pyName || pyKeywords()[t.text] {
			return "", t.pos, pyErrorf(t.pos, "expected a module name, found %s", t.describe())
		}
		parts = append(parts, t.text)
		if !p.isOp(".") {
			return strings.Join(parts, "."), first.pos, nil
		}
		p.next()
	}
}

func (p *pyParser) fromStatement() error {
	p.next()
	if p.isOp(".") {
		return pyErrorf(p.peek().pos, "relative imports are not supported")
	}
	module, _, err := p.dotted()
	if err != nil {
		return err
	}
	if t := p.next(); t.text != "import" {
		return pyErrorf(t.pos, "expected import, found %s", t.describe())
	}
	paren := p.isOp("(")
	if paren {
		p.next()
	}
	for {
		t := p.next()
		if t.kind == pyOp && t.text == "*" {
			return pyErrorf(t.pos, "from %s import * is not supported: name what to import",
				module)
		}
		if t.kind != pyName || pyKeywords()[t.text] {
			return pyErrorf(t.pos, "expected a name to import, found %s", t.describe())
		}
		v, ok := pyImport(module, t.text)
		if hint := pyImportHint(module + "." + t.text); !ok && hint != "" {
			return pyErrorf(t.pos, "from %s import %s: %s", module, t.text, hint)
		}
		if !ok {
			return pyErrorf(t.pos, "from %s import %s is not supported: only os.path.join, "+
				"os.environ, os.getenv and the classes that authenticator_class, "+
				"spawner_class and proxy_class accept can be imported", module, t.text)
		}
		name := t.text
		if p.peek().text == "as" {
			p.next()
			alias := p.next()
			if alias.kind != pyName || pyKeywords()[alias.text] {
				return pyErrorf(alias.pos, "expected a name after as")
			}
			name = alias.text
		}
		p.vars[name] = &pyValue{v: v, pos: t.pos}
		if !p.isOp(",") {
			break
		}
		p.next()
		if paren && p.isOp(")") {
			break
		}
	}
	if paren {
		if err := p.expectOp(")"); err != nil {
			return err
		}
	}
	return p.endStatement()
}

// pyImport returns what from module import name binds.
func pyImport(module, name string) (pyObject, bool) {
	switch module + "." + name {
	case "os.path.join", "os.getenv":
		return pyObject{kind: pyFunc, name: module + "." + name}, true
	case "os.environ":
		return pyObject{kind: pyEnviron, name: "os.environ"}, true
	case "os.path":
		return pyObject{kind: pyModule, name: "os.path"}, true
	}
	qual := module + "." + name
	for _, key := range []string{"authenticator_class", "spawner_class", "proxy_class"} {
		if _, ok := ClassNames(key)[qual]; ok && strings.Contains(qual, ".") {
			return pyObject{kind: pyClassRef, name: qual}, true
		}
	}
	return pyObject{}, false
}

// pyImportHint returns misplacedClassHint for the class qual of any
// *_class key.
func pyImportHint(qual string) string {
	for _, key := range []string{"authenticator_class", "spawner_class", "proxy_class"} {
		if hint := misplacedClassHint(implementations(key), qual); hint != "" {
			return hint
		}
	}
	return ""
}

// expr reads an expression: terms joined by +.
func (p *pyParser) expr() (*pyValue, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxNesting {
		return nil, pyErrorf(p.peek().pos, "expressions nested deeper than %d levels are "+
			"not supported", maxNesting)
	}
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	var sum pySum
	sum.reset(left)
	for p.isOp("+") {
		op := p.next()
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		if err := sum.add(right, op.pos); err != nil {
			return nil, err
		}
	}
	if t := p.peek(); t.kind == pyName && pyKeywords()[t.text] && t.text != "as" {
		return nil, pyErrorf(t.pos, "%q expressions are not supported", t.text)
	}
	return sum.value()
}

// pySum adds up a chain of + in place, so that a chain of strings, lists
// or tuples takes time linear in its length, where adding one term at a
// time would copy the sum so far each time.
type pySum struct {
	pos Position
	// v is the sum when it is not a string, list or tuple.
	v *pyValue
	// text is the sum of strings.
	text *strings.Builder
	// items are the items of a sum of lists or tuples of kind, and size
	// their pySize.
	items []*pyValue
	kind  string
	size  int
}

func (s *pySum) reset(v *pyValue) {
	*s = pySum{pos: v.pos, v: v}
	switch x := v.v.(type) {
	case string:
		s.text = &strings.Builder{}
		s.text.WriteString(x)
		s.v = nil
	case *pyList:
		if x.kind != "set" {
			s.items, s.kind, s.size = slices.Clone(x.items), x.kind, x.size
			s.v = nil
		}
	}
}

func (s *pySum) add(v *pyValue, pos Position) error {
	switch x := v.v.(type) {
	case string:
		if s.text != nil {
			if s.text.Len()+len(x) > pyMaxSize {
				return pyErrorf(pos, "the string is too long: over %d bytes", pyMaxSize)
			}
			s.text.WriteString(x)
			return nil
		}
	case *pyList:
		if s.v == nil && s.text == nil && x.kind == s.kind {
			if s.size+x.size-1 > pyMaxSize {
				return pyErrorf(pos, "the %s is too large: over %d values", s.kind, pyMaxSize)
			}
			s.items = append(s.items, x.items...)
			s.size += x.size - 1
			return nil
		}
	}
	sum, err := s.value()
	if err != nil {
		return err
	}
	if sum, err = pyAdd(sum, v, pos); err != nil {
		return err
	}
	s.reset(sum)
	return nil
}

// value returns the sum.
func (s *pySum) value() (*pyValue, error) {
	switch {
	case s.v != nil:
		return s.v, nil
	case s.text != nil:
		return &pyValue{v: s.text.String(), pos: s.pos}, nil
	}
	return newPyList(s.kind, s.items, s.pos)
}

// pyMaxSize bounds the length of a string and the items of a list that +
// builds, so that a few lines such as x = x + x cannot exhaust memory.
const pyMaxSize = 1 << 20

func pyAdd(x, y *pyValue, pos Position) (*pyValue, error) {
	switch a := x.v.(type) {
	case string:
		if b, ok := y.v.(string); ok {
			if len(a)+len(b) > pyMaxSize {
				return nil, pyErrorf(pos, "the string is too long: over %d bytes", pyMaxSize)
			}
			return &pyValue{v: a + b, pos: x.pos}, nil
		}
	case int64:
		switch b := y.v.(type) {
		case int64:
			if s := a + b; (s > a) == (b > 0) {
				return &pyValue{v: s, pos: x.pos}, nil
			}
			return nil, pyErrorf(pos, "integer sum is out of range")
		case float64:
			return &pyValue{v: float64(a) + b, pos: x.pos}, nil
		}
	case float64:
		switch b := y.v.(type) {
		case int64:
			return &pyValue{v: a + float64(b), pos: x.pos}, nil
		case float64:
			return &pyValue{v: a + b, pos: x.pos}, nil
		}
	case *pyList:
		if b, ok := y.v.(*pyList); ok && a.kind == b.kind && a.kind != "set" {
			v, err := newPyList(a.kind, slices.Concat(a.items, b.items), x.pos)
			if err != nil {
				return nil, pyErrorf(pos, "%s", err.(*pyError).msg)
			}
			return v, nil
		}
	}
	return nil, pyErrorf(pos, "cannot add %s and %s", pyDescribe(x), pyDescribe(y))
}

// pySize counts v and the items of the lists and dicts in it, each time
// it holds them.
func pySize(v *pyValue) int {
	switch x := v.v.(type) {
	case *pyList:
		return x.size
	case *pyDict:
		return x.size
	}
	return 1
}

// newPyList returns a list of items, or an error at pos when it would
// hold more than pyMaxSize values.
func newPyList(kind string, items []*pyValue, pos Position) (*pyValue, error) {
	size := 1
	for _, item := range items {
		size += pySize(item)
	}
	if size > pyMaxSize {
		return nil, pyErrorf(pos, "the %s is too large: over %d values", kind, pyMaxSize)
	}
	return &pyValue{v: &pyList{kind: kind, items: items, size: size}, pos: pos}, nil
}

// unary reads a term with its leading signs, in a loop rather than by
// recursion, so that a long run of signs cannot deepen the stack.
func (p *pyParser) unary() (*pyValue, error) {
	var signs []pyToken
	for p.isOp("-") || p.isOp("+") {
		signs = append(signs, p.next())
	}
	v, err := p.postfix()
	if err != nil {
		return nil, err
	}
	for i := len(signs) - 1; i >= 0; i-- {
		op := signs[i]
		switch x := v.v.(type) {
		case int64:
			if op.text == "-" {
				x = -x
			}
			v = &pyValue{v: x, pos: op.pos}
		case float64:
			if op.text == "-" {
				x = -x
			}
			v = &pyValue{v: x, pos: op.pos}
		default:
			return nil, pyErrorf(op.pos, "unary %s applies to numbers only, not %s", op.text,
				pyDescribe(v))
		}
	}
	return v, nil
}

// postfix reads an atom followed by attribute accesses, calls and
// subscripts.
func (p *pyParser) postfix() (*pyValue, error) {
	v, err := p.atom()
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case p.isOp("."):
			p.next()
			name := p.next()
			if name.kind != pyName {
				return nil, pyErrorf(name.pos, "expected a name after the dot, found %s",
					name.describe())
			}
			if v, err = pyAttribute(v, name); err != nil {
				return nil, err
			}
		case p.isOp("("):
			if v, err = p.call(v); err != nil {
				return nil, err
			}
		case p.isOp("["):
			open := p.next()
			key, err := p.expr()
			if err != nil {
				return nil, err
			}
			if err := p.expectOp("]"); err != nil {
				return nil, err
			}
			obj, ok := v.v.(pyObject)
			if !ok || obj.kind != pyEnviron {
				return nil, pyErrorf(open.pos, "subscripts are supported on os.environ only")
			}
			name, ok := key.v.(string)
			if !ok {
				return nil, pyErrorf(key.pos, "os.environ takes a string, got %s", pyDescribe(key))
			}
			text, set := os.LookupEnv(name)
			if !set {
				return nil, pyErrorf(open.pos, "environment variable %s is not set: set it, or "+
					"use os.environ.get(%q, default)", name, name)
			}
			v = &pyValue{v: text, pos: v.pos}
		default:
			return v, nil
		}
	}
}

// pyAttribute returns v.name.
func pyAttribute(v *pyValue, name pyToken) (*pyValue, error) {
	obj, ok := v.v.(pyObject)
	if ok {
		full := obj.name + "." + name.text
		switch {
		case obj.kind == pyModule && obj.name == "os" && name.text == "path":
			return &pyValue{v: pyObject{kind: pyModule, name: full}, pos: v.pos}, nil
		case obj.kind == pyModule && obj.name == "os" && name.text == "environ":
			return &pyValue{v: pyObject{kind: pyEnviron, name: full}, pos: v.pos}, nil
		case obj.kind == pyModule && (full == "os.getenv" || full == "os.path.join"),
			obj.kind == pyEnviron && name.text == "get":
			return &pyValue{v: pyObject{kind: pyFunc, name: full}, pos: v.pos}, nil
		case obj.kind == pyConfigObject:
			return &pyValue{v: pyObject{kind: pyConfigClass, name: name.text}, pos: v.pos}, nil
		case obj.kind == pyConfigClass:
			return nil, pyErrorf(name.pos, "reading c.%s.%s is not supported: c.Class.trait "+
				"can only be assigned to", obj.name, name.text)
		}
		if obj.kind == pyModule || obj.kind == pyEnviron {
			return nil, pyErrorf(name.pos, "%s is not supported: only os.environ, "+
				"os.environ.get, os.getenv and os.path.join are", full)
		}
	}
	return nil, pyErrorf(name.pos, "attribute %s of %s is not supported", name.text, pyDescribe(v))
}

// call reads the arguments of a call of fn and returns its result.
func (p *pyParser) call(fn *pyValue) (*pyValue, error) {
	open := p.next()
	var args []*pyValue
	for !p.isOp(")") {
		if p.isOp("*") || p.isOp("**") {
			return nil, pyErrorf(p.peek().pos, "unpacking arguments is not supported")
		}
		if p.peek().kind == pyName && p.toks[p.i+1].text == "=" {
			return nil, pyErrorf(p.peek().pos, "keyword arguments are not supported")
		}
		arg, err := p.expr()
		if err != nil {
			return nil, err
		}
		args = append(args, arg)
		if !p.isOp(",") {
			break
		}
		p.next()
	}
	if err := p.expectOp(")"); err != nil {
		return nil, err
	}
	obj, ok := fn.v.(pyObject)
	if !ok || obj.kind != pyFunc {
		return nil, pyErrorf(open.pos, "calling %s is not supported: only get_config, set, "+
			"os.environ.get, os.getenv and os.path.join can be called", pyDescribe(fn))
	}
	wrongArgs := func(usage string) error {
		return pyErrorf(open.pos, "%s takes %s", obj.name, usage)
	}
	switch obj.name {
	case "get_config":
		if len(args) != 0 {
			return nil, wrongArgs("no arguments")
		}
		return &pyValue{v: pyObject{kind: pyConfigObject}, pos: fn.pos}, nil
	case "set":
		return pySetCall(args, open.pos, fn.pos)
	case "os.environ.get", "os.getenv":
		if len(args) < 1 || len(args) > 2 {
			return nil, wrongArgs("a variable name and an optional default")
		}
		name, ok := args[0].v.(string)
		if !ok {
			return nil, pyErrorf(args[0].pos, "%s takes a string, got %s", obj.name,
				pyDescribe(args[0]))
		}
		if text, set := os.LookupEnv(name); set {
			return &pyValue{v: text, pos: fn.pos}, nil
		}
		if len(args) == 2 {
			return &pyValue{v: args[1].v, pos: fn.pos}, nil
		}
		return &pyValue{v: pyNone{}, pos: fn.pos}, nil
	case "os.path.join":
		if len(args) == 0 {
			return nil, wrongArgs("at least one path")
		}
		var path string
		for _, a := range args {
			s, ok := a.v.(string)
			if !ok {
				return nil, pyErrorf(a.pos, "os.path.join takes strings, got %s", pyDescribe(a))
			}
			switch {
			case strings.HasPrefix(s, "/"):
				path = s
			case path == "" || strings.HasSuffix(path, "/"):
				path += s
			default:
				path += "/" + s
			}
		}
		return &pyValue{v: path, pos: fn.pos}, nil
	}
	return nil, pyErrorf(open.pos, "calling %s is not supported", obj.name)
}

func (p *pyParser) atom() (*pyValue, error) {
	t := p.peek()
	switch t.kind {
	case pyNumber:
		p.next()
		return &pyValue{v: t.value, pos: t.pos}, nil
	case pyString:
		p.next()
		var b strings.Builder
		b.WriteString(t.value.(string))
		for p.peek().kind == pyString {
			b.WriteString(p.next().value.(string))
		}
		return &pyValue{v: b.String(), pos: t.pos}, nil
	case pyName:
		p.next()
		switch t.text {
		case "True":
			return &pyValue{v: true, pos: t.pos}, nil
		case "False":
			return &pyValue{v: false, pos: t.pos}, nil
		case "None":
			return &pyValue{v: pyNone{}, pos: t.pos}, nil
		}
		if pyKeywords()[t.text] {
			return nil, pyErrorf(t.pos, "%q is not supported here", t.text)
		}
		v, ok := p.vars[t.text]
		if !ok && p.isOp(":=") {
			return nil, p.unexpected("a value")
		}
		if !ok {
			return nil, pyErrorf(t.pos, "name %s is not defined: only os, get_config, c, "+
				"imported names and names assigned above can be used", t.text)
		}
		if _, isObj := v.v.(pyObject); isObj {
			return &pyValue{v: v.v, pos: t.pos}, nil
		}
		return v, nil
	case pyOp:
		switch t.text {
		case "(", "[", "{":
			return p.collection()
		}
	}
	return nil, p.unexpected("a value")
}

// collection reads a parenthesized expression, tuple, list, set or dict.
func (p *pyParser) collection() (*pyValue, error) {
	open := p.next()
	closer := map[string]string{"(": ")", "[": "]", "{": "}"}[open.text]
	kind := map[string]string{"(": "tuple", "[": "list", "{": "set"}[open.text]
	if t, ok := p.comprehensionAhead(); ok {
		return nil, pyErrorf(t.pos, "comprehensions are not supported: write the items out")
	}

	var items []*pyValue
	dict := &pyDict{}
	isDict := false
	trailingComma := false
	for !p.isOp(closer) {
		if p.isOp("*") || p.isOp("**") {
			return nil, pyErrorf(p.peek().pos, "unpacking is not supported")
		}
		keyTok := p.peek()
		item, err := p.expr()
		if err != nil {
			return nil, err
		}
		if open.text == "{" && (len(items) == 0 && len(dict.keys) == 0 && p.isOp(":") || isDict) {
			isDict = true
			key, ok := item.v.(string)
			if !ok {
				return nil, pyErrorf(keyTok.pos, "dict keys must be strings, got %s", pyDescribe(item))
			}
			if err := p.expectOp(":"); err != nil {
				return nil, err
			}
			val, err := p.expr()
			if err != nil {
				return nil, err
			}
			if i := slices.Index(dict.keys, key); i >= 0 {
				dict.keys = slices.Delete(dict.keys, i, i+1)
				dict.keyPos = slices.Delete(dict.keyPos, i, i+1)
				dict.vals = slices.Delete(dict.vals, i, i+1)
			}
			dict.keys = append(dict.keys, key)
			dict.keyPos = append(dict.keyPos, keyTok.pos)
			dict.vals = append(dict.vals, val)
		} else {
			items = append(items, item)
		}
		trailingComma = p.isOp(",")
		if !trailingComma {
			break
		}
		p.next()
	}
	if err := p.expectOp(closer); err != nil {
		return nil, err
	}
	switch {
	case isDict:
		dict.size = 1
		for _, v := range dict.vals {
			dict.size += pySize(v)
		}
		if dict.size > pyMaxSize {
			return nil, pyErrorf(open.pos, "the dict is too large: over %d values", pyMaxSize)
		}
		return &pyValue{v: dict, pos: open.pos}, nil
	case open.text == "{" && len(items) == 0:
		return &pyValue{v: &pyDict{size: 1}, pos: open.pos}, nil
	case open.text == "(" && len(items) == 1 && !trailingComma:
		return items[0], nil
	case kind == "set":
		return newPySet(items, open.pos)
	}
	return newPyList(kind, items, open.pos)
}

// pySetCall returns set() or set(iterable), where the iterable is a list,
// tuple or set written in the file.
func pySetCall(args []*pyValue, open, pos Position) (*pyValue, error) {
	if len(args) == 0 {
		return newPyList("set", nil, pos)
	}
	list, ok := args[0].v.(*pyList)
	if len(args) > 1 || !ok {
		got := "more than one argument"
		if len(args) == 1 {
			got = pyDescribe(args[0])
		}
		return nil, pyErrorf(open, "set takes no argument or a list, tuple or set, got %s", got)
	}
	return newPySet(list.items, pos)
}

// newPySet returns a set of items, without repeats. Like Python, it
// rejects lists, sets and dicts as items, which are not hashable.
func newPySet(items []*pyValue, pos Position) (*pyValue, error) {
	var unique []*pyValue
	seen := make(map[any]bool)
	for _, item := range items {
		switch x := item.v.(type) {
		case *pyDict:
			return nil, pyErrorf(item.pos, "a set cannot contain a dict: it is not hashable")
		case *pyList:
			if x.kind != "tuple" {
				return nil, pyErrorf(item.pos, "a set cannot contain a %s: it is not hashable", x.kind)
			}
		case string, int64, float64, bool, pyNone:
			if seen[x] {
				continue
			}
			seen[x] = true
		}
		unique = append(unique, item)
	}
	return newPyList("set", unique, pos)
}

// pyDescribe names the kind of v for messages.
func pyDescribe(v *pyValue) string {
	switch x := v.v.(type) {
	case pyNone:
		return "None"
	case *pyList:
		return "a " + x.kind
	case *pyDict:
		return "a dict"
	case pyObject:
		switch x.kind {
		case pyModule:
			return "the module " + x.name
		case pyEnviron:
			return "os.environ"
		case pyFunc:
			return "the function " + x.name
		case pyClassRef:
			return "the class " + x.name
		case pyConfigObject:
			return "the config object"
		case pyConfigClass:
			return "c." + x.name
		}
	}
	return describe(v.v, true)
}

// result returns the Values of the c.Class.trait assignments, in file
// order, and the positions of their nested keys and items.
func (p *pyParser) result() ([]Value, map[string]Position) {
	positions := map[string]Position{}
	list := slices.Clone(p.assigned)
	slices.SortStableFunc(list, func(x, y pyAssignment) int {
		if x.pos.Line != y.pos.Line {
			return x.pos.Line - y.pos.Line
		}
		return x.pos.Column - y.pos.Column
	})
	values := make([]Value, 0, len(list))
	for _, a := range list {
		if _, ok := positions[a.class]; !ok {
			positions[a.class] = a.pos
		}
		path := a.class + "." + a.trait
		positions[path] = a.pos
		values = append(values, Value{Class: a.class, Key: a.trait,
			Value: pyPlain(a.value, path, positions, true), Pos: a.pos})
	}
	return values, positions
}

// pyPlain converts v to the types Build takes, recording the position of
// each nested item and key under path.
func pyPlain(v *pyValue, path string, positions map[string]Position, top bool) any {
	if !top {
		positions[path] = v.pos
	}
	switch x := v.v.(type) {
	case pyNone:
		return nil
	case pyObject:
		return x.name
	case *pyList:
		out := make([]any, len(x.items))
		for i, item := range x.items {
			out[i] = pyPlain(item, fmt.Sprintf("%s[%d]", path, i), positions, false)
		}
		return out
	case *pyDict:
		out := make(map[string]any, len(x.keys))
		for i, key := range x.keys {
			itemPath := path + "." + key
			out[key] = pyPlain(x.vals[i], itemPath, positions, false)
			positions[itemPath] = x.keyPos[i]
		}
		return out
	}
	return v.v
}
