// Package html has a function for each HTML element and attribute that
// jupygo's pages use, with the names of maragu.dev/gomponents/html. An
// element whose name is also an attribute's has the suffix El.
package html

import "github.com/jupygo/jupygo/internal/markup"

type node = markup.Node

// Doctype returns the HTML5 doctype followed by sibling, the html element.
func Doctype(sibling node) node {
	return markup.Group{markup.Raw("<!doctype html>"), sibling}
}

func el(name string, children []node) node { return markup.El(name, children...) }

// Elements.

func A(children ...node) node        { return el("a", children) }
func Body(children ...node) node     { return el("body", children) }
func Button(children ...node) node   { return el("button", children) }
func Code(children ...node) node     { return el("code", children) }
func Div(children ...node) node      { return el("div", children) }
func Form(children ...node) node     { return el("form", children) }
func H1(children ...node) node       { return el("h1", children) }
func H2(children ...node) node       { return el("h2", children) }
func HTML(children ...node) node     { return el("html", children) }
func Head(children ...node) node     { return el("head", children) }
func Header(children ...node) node   { return el("header", children) }
func Input(children ...node) node    { return el("input", children) }
func Label(children ...node) node    { return el("label", children) }
func Li(children ...node) node       { return el("li", children) }
func Link(children ...node) node     { return el("link", children) }
func Main(children ...node) node     { return el("main", children) }
func Meta(children ...node) node     { return el("meta", children) }
func Nav(children ...node) node      { return el("nav", children) }
func NoScript(children ...node) node { return el("noscript", children) }
func P(children ...node) node        { return el("p", children) }
func Progress(children ...node) node { return el("progress", children) }
func Script(children ...node) node   { return el("script", children) }
func Span(children ...node) node     { return el("span", children) }
func Strong(children ...node) node   { return el("strong", children) }
func StyleEl(children ...node) node  { return el("style", children) }
func Table(children ...node) node    { return el("table", children) }
func Td(children ...node) node       { return el("td", children) }
func Textarea(children ...node) node { return el("textarea", children) }
func Th(children ...node) node       { return el("th", children) }
func TitleEl(children ...node) node  { return el("title", children) }
func Tr(children ...node) node       { return el("tr", children) }
func Ul(children ...node) node       { return el("ul", children) }

// Attributes with a value.

func Action(v string) node       { return markup.Attr("action", v) }
func AutoComplete(v string) node { return markup.Attr("autocomplete", v) }
func Charset(v string) node      { return markup.Attr("charset", v) }
func Class(v string) node        { return markup.Attr("class", v) }
func Content(v string) node      { return markup.Attr("content", v) }
func For(v string) node          { return markup.Attr("for", v) }
func Href(v string) node         { return markup.Attr("href", v) }
func ID(v string) node           { return markup.Attr("id", v) }
func Lang(v string) node         { return markup.Attr("lang", v) }
func Max(v string) node          { return markup.Attr("max", v) }
func Method(v string) node       { return markup.Attr("method", v) }
func Min(v string) node          { return markup.Attr("min", v) }
func Name(v string) node         { return markup.Attr("name", v) }
func Pattern(v string) node      { return markup.Attr("pattern", v) }
func Placeholder(v string) node  { return markup.Attr("placeholder", v) }
func Rel(v string) node          { return markup.Attr("rel", v) }
func Rows(v string) node         { return markup.Attr("rows", v) }
func Style(v string) node        { return markup.Attr("style", v) }
func Type(v string) node         { return markup.Attr("type", v) }
func Value(v string) node        { return markup.Attr("value", v) }

// Attributes without a value.

func AutoFocus() node { return markup.Attr("autofocus") }
func Required() node  { return markup.Attr("required") }
