package config

import "strings"

// maxNesting bounds how deep the values of a configuration file nest, in
// TOML and Python alike. Real files nest a few levels. Without a bound, a
// small file of nested brackets or a long dotted key costs time and memory
// quadratic in its depth. The toml package (v1.6.0) builds the whole key
// path at each level, and both readers record the path of every nested
// value for messages. CPython stops at 200 nested brackets.
const maxNesting = 100

// tomlNesting returns the offset in src where keys and values nest deeper
// than maxNesting, or -1. Each open bracket or brace counts one level, and
// each dot of the key being read one more, so that [a.b.c] nests three
// levels. It skips strings and comments as TOML does, so that their
// brackets do not count, and runs before the toml package decodes src.
func tomlNesting(src string) int {
	depth := 0
	// dots counts the dots of the key being read at each open level, whose
	// own count is last.
	dots := []int{0}
	total := 0
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			i--
		case '"', '\'':
			i = skipTOMLString(src, i) - 1
		case '[', '{':
			depth++
			dots = append(dots, 0)
		case ']', '}':
			if depth > 0 {
				depth--
				total -= dots[len(dots)-1]
				dots = dots[:len(dots)-1]
			}
		case '.':
			dots[len(dots)-1]++
			total++
		case '=', ',', '\n':
			// A value's own dots, as in 1.5, end here, and so does a key
			// at the top level, as in a.b = 1.
			if c == '\n' && depth > 0 {
				continue
			}
			total -= dots[len(dots)-1]
			dots[len(dots)-1] = 0
		}
		if depth+total > maxNesting {
			return i
		}
	}
	return -1
}

// skipTOMLString returns the offset just past the string that starts at
// src[i]: basic or literal, on one line or in triple quotes. An
// unterminated string ends at the end of its line, or of src.
func skipTOMLString(src string, i int) int {
	quote := src[i]
	delim := string(quote)
	if strings.HasPrefix(src[i:], strings.Repeat(delim, 3)) {
		delim = strings.Repeat(delim, 3)
	}
	j := i + len(delim)
	for j < len(src) {
		switch {
		case strings.HasPrefix(src[j:], delim):
			j += len(delim)
			// Up to two more quotes end a multi-line string.
			for k := 0; len(delim) == 3 && k < 2 && j < len(src) && src[j] == quote; k++ {
				j++
			}
			return j
		case src[j] == '\\' && quote == '"':
			j += 2
		case src[j] == '\n' && len(delim) == 1:
			return j
		default:
			j++
		}
	}
	return len(src)
}
