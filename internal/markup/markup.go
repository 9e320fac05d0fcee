// Package markup builds HTML documents from values: elements, attributes and
// text, where every text and attribute value is escaped when it is written.
// Package markup/html has a function for each element and attribute the
// pages use.
//
// Its functions have the names and the output of maragu.dev/gomponents,
// which jupygo used first. gomponents makes each node a closure. Go inlines
// its small constructors into every page function, each with its own copy
// of the closures, which came to 400 KB of code for the hub's ten pages,
// and each jupygo process mapped 0.2 MiB more at start (docs/design.md).
// Here a node is plain data, and one method per kind of node writes it.
package markup

import (
	"html"
	"io"
)

// Node is a part of a document: an element, an attribute, text, or a
// group of them.
type Node interface {
	Render(w io.Writer) error
}

// element is an element with its attributes and children, in any order.
type element struct {
	name     string
	children []Node
}

// attribute is an attribute, written as name="value", or as name alone
// when bare.
type attribute struct {
	name, value string
	bare        bool
}

// text is text that is escaped when written.
type text string

// raw is markup that is written as it is.
type raw string

// Group is a list of nodes that stands for them all, attributes included.
type Group []Node

// NodeFunc is a node that a function writes.
type NodeFunc func(io.Writer) error

// El returns the element name with children: the attributes among them,
// in groups too, go into the start tag, and the other nodes between the
// start and end tags. A void element, such as input, has no end tag and
// keeps only its attributes.
func El(name string, children ...Node) Node { return &element{name, children} }

// Attr returns the attribute name. With no value it is written bare, as
// in required. More than one value is a programming error and panics.
func Attr(name string, value ...string) Node {
	switch len(value) {
	case 0:
		return &attribute{name: name, bare: true}
	case 1:
		return &attribute{name: name, value: value[0]}
	}
	panic("markup: attribute " + name + " has more than one value")
}

// Text returns text that is escaped when written.
func Text(s string) Node { return text(s) }

// Raw returns markup that is written unescaped. Give it only constants.
func Raw(s string) Node { return raw(s) }

// If returns n when cond holds, else nothing.
func If(cond bool, n Node) Node {
	if cond {
		return n
	}
	return nil
}

// Iff returns f() when cond holds, else nothing. Unlike If, it builds the
// node only when it is used.
func Iff(cond bool, f func() Node) Node {
	if cond {
		return f()
	}
	return nil
}

// Map returns the nodes that f makes of each of ts.
func Map[T any](ts []T, f func(T) Node) Group {
	g := make(Group, 0, len(ts))
	for _, t := range ts {
		g = append(g, f(t))
	}
	return g
}

func (e *element) Render(w io.Writer) error {
	sw := stringWriter(w)
	sw.write("<" + e.name)
	for _, c := range e.children {
		renderPart(sw, c, true)
	}
	sw.write(">")
	if isVoid(e.name) {
		return sw.err
	}
	for _, c := range e.children {
		renderPart(sw, c, false)
	}
	sw.write("</" + e.name + ">")
	return sw.err
}

func (a *attribute) Render(w io.Writer) error {
	sw := stringWriter(w)
	a.write(sw)
	return sw.err
}

func (a *attribute) write(sw *errWriter) {
	sw.write(" " + a.name)
	if !a.bare {
		sw.write(`="` + html.EscapeString(a.value) + `"`)
	}
}

func (t text) Render(w io.Writer) error {
	_, err := io.WriteString(w, html.EscapeString(string(t)))
	return err
}

func (r raw) Render(w io.Writer) error {
	_, err := io.WriteString(w, string(r))
	return err
}

// Render writes the group's nodes that are not attributes. Attributes
// only have a place in an element's start tag.
func (g Group) Render(w io.Writer) error {
	sw := stringWriter(w)
	for _, c := range g {
		renderPart(sw, c, false)
	}
	return sw.err
}

func (f NodeFunc) Render(w io.Writer) error { return f(w) }

// renderPart writes the attributes in n when attrs is set, and the other
// nodes in n when it is not. Groups are walked, nil nodes skipped.
func renderPart(sw *errWriter, n Node, attrs bool) {
	if sw.err != nil {
		return
	}
	switch n := n.(type) {
	case nil:
	case *attribute:
		if attrs {
			n.write(sw)
		}
	case Group:
		for _, c := range n {
			renderPart(sw, c, attrs)
		}
	default:
		if !attrs {
			sw.err = n.Render(sw)
		}
	}
}

// isVoid reports whether the element name has no end tag in HTML. It is a
// switch rather than a map, which would be built by an init function in
// every jupygo process.
func isVoid(name string) bool {
	switch name {
	case "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr":
		return true
	}
	return false
}

// errWriter keeps the first error of a series of writes and skips the
// writes after it.
type errWriter struct {
	w   io.Writer
	err error
}

func stringWriter(w io.Writer) *errWriter {
	if ew, ok := w.(*errWriter); ok {
		return ew
	}
	return &errWriter{w: w}
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	var n int
	n, e.err = e.w.Write(p)
	return n, e.err
}

func (e *errWriter) write(s string) {
	if e.err == nil {
		_, e.err = io.WriteString(e.w, s)
	}
}
