package contents

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// jsonCases are texts on which jsonParser must agree with encoding/json.
var jsonCases = []string{
	``, ` `, `null`, `true`, `false`, `nul`, `truex`, `tru`, `0`, `-0`, `-`, `01`, `1.`, `1.5`,
	`-1.5e+10`, `1E-2`, `1e`, `1e+`, `.5`, `+1`, `12345678901234567890`, `1.0`, `0.00001`,
	`""`, `"a"`, `"\u00e9\ud83d\ude00"`, `"\ud83d"`, `"\ud83dx"`, `"\ud83d\u0041"`, `"\udc00\ud83d"`,
	`"\ud83d\ud83d\ude00"`, `"\u12"`, `"\u12g4"`, `"\x"`, `"\/\b\f\n\r\t\"\\"`, "\"a\tb\"", "\"\x7f\"",
	`"unterminated`, `"trailing backslash\`, `"é ü 😀 \u2028"`, "\"\u2028\"",
	`[]`, `[ ]`, `[1,]`, `[,1]`, `[1 2]`, `[1,2]`, `[[[]]]`, `[`, `]`, `[1`, `[1,`,
	`{}`, `{ }`, `{"a":1}`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":1,"a":2}`, `{"a":}`, `{"a"`, `{`,
	`{"a":{"b":[1,{"c":null}]}}`, `{} x`, `{}}`, `[] []`, " \t\r\n{}\n ", "\f{}", "{}\f",
	"\u00a0{}", `{"a":1}` + "\x00", `[1e999]`, `-01`, `1.5e5.5`, `"` + strings.Repeat("x", 20) + `"`,
	`"` + strings.Repeat(`ab\n`, 9) + `"`, `{"k\u0041y": 1, "kAy": 2}`,
}

func nested(open, close string, depth int) string {
	return strings.Repeat(open, depth) + strings.Repeat(close, depth)
}

func TestParseJSONMatchesEncodingJSON(t *testing.T) {
	cases := append(slices.Clone(jsonCases),
		nested("[", "]", maxJSONDepth), nested("[", "]", maxJSONDepth+1),
		strings.Repeat(`{"a":`, maxJSONDepth)+"1"+strings.Repeat("}", maxJSONDepth),
		strings.Repeat(`{"a":`, maxJSONDepth+1)+"1"+strings.Repeat("}", maxJSONDepth+1))
	for _, src := range cases {
		checkParseJSON(t, []byte(src))
	}
}

// checkParseJSON checks that parseJSON accepts src when encoding/json does,
// and then gives the same value.
func checkParseJSON(t *testing.T, src []byte) {
	t.Helper()
	if !utf8.Valid(src) {
		return
	}
	want, wantErr := refDecodeJSON(src)
	got, _, err := parseJSON(string(src))
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("parseJSON(%.80q): error %v, encoding/json error %v", src, err, wantErr)
	}
	if err != nil {
		return
	}
	// reflect.DeepEqual first: cmp.Diff takes minutes on deep nesting.
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("parseJSON(%.80q) (-encoding/json +parseJSON):\n%s", src, cmp.Diff(want, got))
	}
}

func FuzzParseJSON(f *testing.F) {
	for _, src := range jsonCases {
		f.Add([]byte(src))
	}
	for _, data := range readFixtures(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		checkParseJSON(t, src)
	})
}

func TestParseJSONErrorOffset(t *testing.T) {
	_, _, err := parseJSON(`{"a": [1, 2,, 3]}`)
	if err == nil {
		t.Fatal("parseJSON accepted a doubled comma")
	}
	if want := "invalid character ',' looking for beginning of value at byte 12"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	_, _, err = parseJSON(`{"a": "b`)
	if err == nil || !strings.Contains(err.Error(), "unexpected end of JSON input") {
		t.Errorf("unterminated string: error %v, want unexpected end of JSON input", err)
	}
}

func TestParseJSONStringsShareInput(t *testing.T) {
	src := `{"key": "plain value", "escaped": "a\nb"}`
	v, _, err := parseJSON(src)
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	if got := m["escaped"]; got != "a\nb" {
		t.Errorf("escaped = %q, want %q", got, "a\nb")
	}
	plain := m["key"].(string)
	if !strings.Contains(src, plain) || plain != "plain value" {
		t.Errorf("key = %q, want plain value", plain)
	}
}

// notebookCases are notebooks on which ReadNotebook must agree with
// refReadNotebook: the places where lists of lines are joined or kept.
var notebookCases = []string{
	`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}`,
	`{"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["a\n", "b"],
	  "attachments": {"x.png": {"image/png": ["aGk=\n", "aGk="], "application/json": ["a", "b"],
	  "application/vnd.x+json": ["c"], "text/plain": "t"}},
	  "outputs": [{"output_type": "stream", "text": ["kept\n", "as list"], "data": {"text/plain": ["k"]}}]}],
	 "metadata": {"orig_nbformat": 3, "signature": "x", "kernelspec": {"name": "python3"}},
	 "nbformat": 4, "nbformat_minor": 2}`,
	`{"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [
	  {"outputs": [
	    {"output_type": "execute_result", "text": ["kept\n", "x"], "data": {"text/plain": ["1\n", "2"],
	     "application/json": ["j"], "image/svg+xml": ["<svg>\n", "</svg>"]}, "execution_count": 1, "metadata": {}},
	    {"output_type": "display_data", "data": {"text/html": []}},
	    {"output_type": "stream", "name": "stdout", "text": ["joined\n", "text"], "data": {"text/plain": ["kept"]}},
	    {"output_type": "", "text": ["falsy type keeps\n", "the list"]},
	    {"text": ["no type keeps the list"]},
	    {"output_type": "error", "ename": "E", "evalue": "v", "traceback": ["a", "b"]},
	    {"output_type": 0, "text": ["zero keeps"]},
	    {"output_type": [1], "text": ["a list is true"]}
	  ], "cell_type": "code", "metadata": {"trusted": true}, "source": [], "execution_count": null}]}`,
	`{"metadata": {}, "nbformat_minor": 5, "nbformat": 4, "cells": [
	  {"source": ["unsorted\n", "keys"], "cell_type": "raw", "metadata": {"trusted": false, "tags": ["a"]}},
	  {"source": "already a string", "cell_type": "code", "metadata": {}, "outputs": []},
	  {"source": ["\u00e9\n", "\ud83d\ude00", "x\r\n"], "cell_type": "markdown", "metadata": {}}]}`,
	`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
	  {"cell_type": "code", "metadata": {}, "source": "x", "outputs": [
	    {"output_type": "stream", "text": ["a", 1]}]}]}`,
	`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
	  {"cell_type": "markdown", "metadata": {}, "source": ["a", null]}]}`,
	`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
	  {"cell_type": "code", "metadata": {}, "source": "", "outputs": [
	    {"output_type": "display_data", "data": {"text/plain": ["a", 2], "text/html": ["<b>", "x"]}}]}]}`,
	`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
	  {"cell_type": "code", "metadata": {}, "source": ["a"], "source": "b", "outputs": [
	    {"output_type": "stream", "text": ["x"], "output_type": "execute_result"}],
	   "cell_type": "markdown"}]}`,
	`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
	  {"cell_type": "code", "metadata": {}, "source": ["a", ], "outputs": []}]}`,
	`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
	  {"cell_type": "code", "metadata": {}, "source": ["a"  ,  "b" ], "outputs": {}}]}`,
	`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "metadata": {},
	  "source": [["nested"]], "outputs": []}]}`,
	`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "metadata": {},
	  "outputs": [{"output_type": "display_data", "data": []}]}]}`,
	`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"metadata": {}, "attachments": {"a": []}}]}`,
	`{"nbformat": 4, "nbformat_minor": 5, "metadata": {"scale": 1.0, "n": 3}, "cells": [], "x": 1e5}`,
	`{"nbformat": 4.0, "nbformat_minor": 5, "metadata": {}, "cells": []}`,
	`{"nbformat": 3, "worksheets": []}`,
	`{"nbformat": 4, "metadata": [], "cells": []}`,
	`{"nbformat": 4, "metadata": {}, "cells": [{"cell_type": "raw", "source": ""}]}`,
	`[]`, `{"nbformat": 4} x`, "{\"cells\": [\"\xff\"]}",
}

func FuzzReadNotebookReference(f *testing.F) {
	for _, src := range notebookCases {
		f.Add([]byte(src))
	}
	for _, data := range readFixtures(f) {
		f.Add(data)
	}
	if data, err := os.ReadFile(v3Fixture); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkReadNotebook(t, data)
	})
}

func TestReadNotebookMatchesReference(t *testing.T) {
	cases := slices.Clone(notebookCases)
	for _, data := range readFixtures(t) {
		cases = append(cases, string(data))
	}
	v3, err := os.ReadFile(v3Fixture)
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases, string(v3))
	for _, src := range cases {
		checkReadNotebook(t, []byte(src))
	}
}

// checkReadNotebook checks that ReadNotebook and WriteNotebook agree with
// the reference implementations on data.
func checkReadNotebook(t *testing.T, data []byte) {
	t.Helper()
	want, wantErr := refReadNotebook(data)
	got, plain, err := readNotebook(string(data))
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("readNotebook(%.200q): error %v, reference error %v", data, err, wantErr)
	}
	if err != nil {
		return
	}
	// Version 3 notebooks get random cell ids.
	clearCellIDs(want)
	clearCellIDs(got)
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("readNotebook(%.200q) (-reference +got):\n%s", data, cmp.Diff(want, got))
	}
	if plain && refHasRewritableNumber(got) {
		t.Fatalf("readNotebook(%.200q) calls a notebook with rewritable numbers plain", data)
	}

	wantFile, wantErr := refWriteNotebook(want)
	gotFile, gotPlain, err := writeNotebook(got, 0)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("writeNotebook: error %v, reference error %v", err, wantErr)
	}
	if err != nil {
		return
	}
	if diff := cmp.Diff(string(wantFile), string(gotFile)); diff != "" {
		t.Fatalf("writeNotebook (-reference +got):\n%s", diff)
	}
	if wantPlain := !refHasRewritableNumber(got); gotPlain != wantPlain {
		t.Fatalf("writeNotebook reports plain %v, want %v", gotPlain, wantPlain)
	}
}

// clearCellIDs blanks the ids of the cells of a notebook converted from
// version 3.
func clearCellIDs(nb map[string]any) {
	md, _ := nb["metadata"].(map[string]any)
	if _, converted := md["orig_nbformat"]; !converted {
		return
	}
	cells, _ := nb["cells"].([]any)
	for _, c := range cells {
		if cell, ok := c.(map[string]any); ok {
			cell["id"] = ""
		}
	}
}

func TestWriteNotebookMatchesReference(t *testing.T) {
	nb := map[string]any{
		"nbformat": 4, "nbformat_minor": json.Number("5"),
		"metadata": map[string]any{"signature": "s", "orig_nbformat": 3, "kept": 1.5, "list": []string{"a"}},
		"cells": []any{
			map[string]any{"cell_type": "code", "metadata": map[string]any{"trusted": true},
				"source": "a\r\nb\rc\u2028d\u0085e\u2029f\x1cg\vh\fi\x1dj\x1ek\n",
				"outputs": []any{
					map[string]any{"output_type": "stream", "name": "stdout", "text": "one\ntwo"},
					map[string]any{"output_type": "stream", "name": "stdout", "text": []any{"kept\n", "list"}},
					map[string]any{"output_type": "execute_result", "execution_count": int64(3),
						"data": map[string]any{"text/plain": "1\n2", "application/json": map[string]any{"a": "b\nc"},
							"image/svg+xml": "<svg>\n</svg>", "application/javascript": "a;\nb;", "image/png": "AAAA\nBBBB"},
						"metadata": map[string]any{}},
					map[string]any{"output_type": "error", "ename": "E", "evalue": "v\nw", "traceback": []any{"t"}},
				}},
			map[string]any{"cell_type": "markdown", "metadata": map[string]any{},
				"source":      "invalid \xff utf-8 \"quoted\" \\ \x01 \u007f",
				"attachments": map[string]any{"x.png": map[string]any{"image/png": "aGk=\n", "text/plain": "a\nb"}},
				"outputs":     []any{map[string]any{"output_type": "stream", "text": "not split\nin markdown"}}},
			map[string]any{"cell_type": "raw", "metadata": map[string]any{"trusted": false, "big": json.Number("12345678901234567890")},
				"source": ""},
		},
	}
	want, err := refWriteNotebook(nb)
	if err != nil {
		t.Fatal(err)
	}
	got, plain, err := writeNotebook(nb, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("writeNotebook (-reference +got):\n%s", diff)
	}
	if plain {
		t.Error("writeNotebook calls a notebook with 1.5 in it plain")
	}
}

func FuzzSplitLines(f *testing.F) {
	for _, s := range []string{"", "a", "a\n", "a\r\nb\rc", "\u2028\u2029\u0085", "\xe2\x80", "\xc2",
		"\xe2\xc2\x85", "\xf0\x9f\xc2\x85x", "x\x1c\x1d\x1e\v\f", "\"\\\x01\x7f", "é\xffü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := refSplitLines(s)
		if diff := cmp.Diff(want, pySplitLines(s)); diff != "" {
			t.Fatalf("pySplitLines(%q) (-reference +got):\n%s", s, diff)
		}
		for _, compact := range []bool{false, true} {
			ref := pyEncoder{compact: compact}
			if err := ref.value(want, 2); err != nil {
				t.Fatal(err)
			}
			e := pyEncoder{compact: compact}
			e.lines(s, 2)
			if !bytes.Equal(ref.buf, e.buf) {
				t.Fatalf("lines(%q) = %q, want %q", s, e.buf, ref.buf)
			}
		}
	})
}

func TestPlainWordChecks(t *testing.T) {
	plainASCIIByte := func(c byte) bool { return c < utf8.RuneSelf && plainASCII[c] }
	plainStringByte := func(c byte) bool { return c >= 0x20 && c != '"' && c != '\\' }
	check := func(b [8]byte) {
		s := string(b[:])
		wantASCII, wantString := true, true
		for _, c := range b {
			wantASCII = wantASCII && plainASCIIByte(c)
			wantString = wantString && plainStringByte(c)
		}
		if got := plainASCIIWord(word(s, 0)); got != wantASCII {
			t.Fatalf("plainASCIIWord(%q) = %v", s, got)
		}
		if got := plainStringWord(word(s, 0)); got != wantString {
			t.Fatalf("plainStringWord(%q) = %v", s, got)
		}
	}
	// Every byte value at every position, among plain bytes and among
	// bytes that could carry a borrow.
	for _, fill := range []byte{'a', 0x20, 0x7e, 0x80, 0xff, 0x21, 0x5d, 0x23} {
		for pos := range 8 {
			for c := range 256 {
				var b [8]byte
				for i := range b {
					b[i] = fill
				}
				b[pos] = byte(c)
				check(b)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{0, 0x1f, 0x20, '"', '\\', 'a', 0x7f, 0x80, 0xc2, 0xff, 0x21, 0x5b, 0x5d}
	for range 200000 {
		var b [8]byte
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		check(b)
	}
}

// requestBodies are bodies on which parseRequestModel must agree with
// encoding/json, or leave the body to it.
var requestBodies = []string{
	``, ` `, `null`, `{}`, `[]`, `"x"`, `{"type": "notebook", "format": "json", "content": {"cells": []}}`,
	`{"type": "file", "format": "text", "content": "x", "chunk": 1}`, `{"chunk": -1}`, `{"chunk": 1.0}`,
	`{"chunk": 1e3}`, `{"chunk": null}`, `{"chunk": "1"}`, `{"chunk": 99999999999999999999}`,
	`{"type": null}`, `{"type": 1}`, `{"Type": "file"}`, `{"TYPE": "x", "type": "y"}`, `{"ſhunk": 1}`,
	`{"content": null}`, `{"content": [1, 2.5, {"a": null}]}`, `{"path": "a/b"}`, `{"path": null}`,
	`{"path": 1}`, `{"copy_from": "a.ipynb"}`, `{"ext": ".py"}`, `{"unknown": {"deep": [1]}}`,
	`{"type": "file"} {}`, `{"type": "file"}]`, `{"type": "a", "type": "b"}`, `{"type": "a", "type": null}`,
	`{"content": "a", "content": null}`, "{\"content\": \"\xff\"}", `{"type": "x",}`, `{"format": "\u0074ext"}`,
}

func FuzzParseRequestModel(f *testing.F) {
	for _, b := range requestBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParseRequestModel(t, data)
	})
}

func TestParseRequestModelMatchesEncodingJSON(t *testing.T) {
	for _, b := range requestBodies {
		checkParseRequestModel(t, []byte(b))
	}
}

func checkParseRequestModel(t *testing.T, data []byte) {
	t.Helper()
	got, ok := parseRequestModel(string(data))
	if !ok {
		return // encoding/json decodes it
	}
	var want *requestModel
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&want); err != nil && !(err.Error() == "EOF" && len(bytes.TrimSpace(data)) == 0) {
		t.Fatalf("parseRequestModel(%q) accepted a body that encoding/json rejects: %v", data, err)
	}
	if dec.More() {
		t.Fatalf("parseRequestModel(%q) accepted more than one value", data)
	}
	if (got == nil) != (want == nil) {
		t.Fatalf("parseRequestModel(%q) = %+v, encoding/json gives %+v", data, got, want)
	}
	if got == nil {
		return
	}
	if got.empty() != want.empty() {
		t.Errorf("parseRequestModel(%q): empty() = %v, encoding/json's is %v", data, got.empty(), want.empty())
	}
	type fields struct {
		Type, Format, CopyFrom, Ext string
		Chunk                       *int
		Path                        *string
	}
	gotFields := fields{got.Type, got.Format, got.CopyFrom, got.Ext, got.Chunk, got.Path}
	wantFields := fields{want.Type, want.Format, want.CopyFrom, want.Ext, want.Chunk, want.Path}
	if diff := cmp.Diff(wantFields, gotFields); diff != "" {
		t.Errorf("parseRequestModel(%q) fields (-encoding/json +got):\n%s", data, diff)
	}
	gotContent, err := got.content()
	if err != nil {
		t.Fatal(err)
	}
	wantContent, err := want.content()
	if err != nil {
		t.Fatalf("encoding/json content of %q: %v", data, err)
	}
	if diff := cmp.Diff(wantContent, gotContent); diff != "" {
		t.Errorf("parseRequestModel(%q) content (-encoding/json +got):\n%s", data, diff)
	}
}

// TestParseJSONLargeStrings checks strings with escapes around and past
// largeString against encoding/json. The cases put escapes at the edge of
// the window, escaped quotes and backslashes before the closing quote, a
// long plain run before the first escape, mostly escapes, and no end.
func TestParseJSONLargeStrings(t *testing.T) {
	lines := strings.Repeat(`0123456789 abcdefghij ABCDEFGHIJ \"q\" \\ é 😀 \ud83d\ude00\n`, 2*largeString/60)
	cases := []string{
		`"` + lines + `"`,
		`["` + lines + `", "` + lines[:largeString-3] + `\"", "after"]`,
		`"` + strings.Repeat("x", largeString-2) + `\n"`,
		`"` + strings.Repeat("x", largeString-1) + `\\"`,
		`"` + strings.Repeat("x", largeString+10) + `\t"`,
		`"` + strings.Repeat(`\\`, largeString) + `"`,
		`"` + strings.Repeat(`\"`, largeString) + `\""`,
		`"` + strings.Repeat(`\u0000`, largeString/4) + `"`,
		`{"content": "` + lines + `", "type": "file"}`,
		`"` + lines,
		`"` + lines + `\`,
		`"` + lines + "\x01" + lines + `"`,
	}
	for _, src := range cases {
		checkParseJSON(t, []byte(src))
	}
	for _, width := range []int{1, 2, 3, 4, 5, 6, 7} {
		for _, n := range []int{largeString - 8, largeString - 1, largeString, largeString + 1} {
			src := `"` + strings.Repeat("y", n-width) + `\n` + strings.Repeat("z", width) + `"`
			checkParseJSON(t, []byte(src))
		}
	}
	checkParseRequestModel(t, []byte(`{"type": "file", "format": "text", "content": "`+lines+`"}`))
}

func TestStringEnd(t *testing.T) {
	tests := []struct {
		src  string
		i    int
		want int
	}{
		{`"abc"`, 1, 4},
		{`"a\"b"`, 2, 5},
		{`"a\\"b`, 2, 4},
		{`"a\\\"b"`, 2, 7},
		{`"\\\\"`, 1, 5},
		{`"abc`, 1, -1},
		{`"a\"`, 2, -1},
	}
	for _, tc := range tests {
		if got := stringEnd(tc.src, tc.i, len(tc.src)); got != tc.want {
			t.Errorf("stringEnd(%q, %d) = %d, want %d", tc.src, tc.i, got, tc.want)
		}
	}
	if got := stringEnd(`"abcdef"`, 1, 4); got != -1 {
		t.Errorf("stringEnd with the quote past limit = %d, want -1", got)
	}
}

// TestParseJSONLargeStringAllocation checks that a large string with
// escapes is decoded into one allocation of about its size, rather than a
// growing buffer and a copy of it.
func TestParseJSONLargeStringAllocation(t *testing.T) {
	src := `"` + strings.Repeat(`a line of text in a large file\n`, 128<<10) + `"`
	decodedLen := len(src) - 2 - 128<<10
	parseJSON(src) // allocations of the first call only
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	v, _, err := parseJSON(src)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := v.(string); len(s) != decodedLen {
		t.Fatalf("decoded %d bytes, want %d", len(s), decodedLen)
	}
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > uint64(len(src))*5/4 {
		t.Errorf("decoding a string of %d bytes allocated %d bytes, want at most %d",
			decodedLen, allocated, len(src)*5/4)
	}
}
