package encar

import (
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// jsonReader splits one JSON text in memory into tokens, validating the
// whole of it as encoding/json did: the grammar of RFC 8259, no control
// characters in strings, valid escapes, nesting at most maxDepth deep,
// nothing but white space after the value. Like encoding/json it lets
// invalid UTF-8 and lone surrogate escapes through (the decoder reads them
// as U+FFFD) and does not look for duplicate names.
//
// It does what github.com/go-json-experiment/json/jsontext's Decoder did
// here with less work: an answer is one slice already in memory, a value is
// handed out as a slice of it, never copied or unquoted, and a string's
// UTF-8 is checked while it is read. Names are kept, as slices, only for
// the path an error gives.
type jsonReader struct {
	b     []byte
	i     int     // the next byte to read
	stack []frame // the objects and arrays open around i
	done  bool    // the top-level value has been read

	// The token peek read and did not hand out yet.
	peeked     bool
	kind       byte // '{', '}', '[', ']', '"', '0' (a number), 't', 'f' or 'n'
	start, end int
	err        error
	// Whether the last string read, the peeked token and the value
	// last handed out had an escape or invalid UTF-8: a string
	// without either reads as its bytes.
	special, peekSpecial, valueSpecial bool
}

// frame is an open object or array.
type frame struct {
	array bool
	n     int    // tokens read in it: names and values in an object, values in an array
	name  []byte // an object's last name, quoted, for error paths
}

// maxDepth is how deep encoding/json let objects and arrays nest.
const maxDepth = 10000

func (r *jsonReader) reset(b []byte) {
	stack := r.stack[:0]
	if cap(stack) > 64 {
		stack = nil // an answer nested thousands deep: not kept in the pool
	}
	// Up to the capacity: frames popped still hold names of the earlier
	// answer, which would keep its body alive in the pool.
	clear(r.stack[:cap(r.stack)])
	*r = jsonReader{b: b, stack: stack}
}

// peek returns the kind of the next token, reading it if not yet read; 0
// when it is not one (the error comes with the next read).
func (r *jsonReader) peek() byte {
	if !r.peeked {
		r.special = false
		r.kind, r.start, r.err = r.next()
		r.end, r.peekSpecial, r.peeked = r.i, r.special, true
	}
	if r.err != nil {
		return 0
	}
	return r.kind
}

// readDelim reads the next token, which peek has said is a '{', '[', '}'
// or ']'.
func (r *jsonReader) readDelim() error {
	r.peek()
	r.peeked = false
	return r.err
}

// atEnd reads past the top-level value: nil if only white space follows,
// else the error next gave for what does.
func (r *jsonReader) atEnd() error {
	if r.peek(); r.err == io.EOF {
		return nil
	}
	return r.err
}

// readValue reads the next value whole (or a name) and returns its text,
// a slice of the answer.
func (r *jsonReader) readValue() ([]byte, error) {
	k := r.peek()
	r.peeked = false
	r.valueSpecial = r.peekSpecial
	switch k {
	case 0:
		return nil, r.err
	case '}', ']':
		return nil, r.errorAt(r.start, "%q where a value was due", k)
	case '{', '[':
		for depth := len(r.stack); len(r.stack) >= depth; {
			if _, _, err := r.next(); err != nil {
				return nil, err
			}
		}
		return r.b[r.start:r.i], nil
	}
	return r.b[r.start:r.end], nil
}

// next reads the token after the separator due before it.
func (r *jsonReader) next() (kind byte, start int, err error) {
	r.space()
	if len(r.stack) == 0 {
		if r.done {
			if r.i == len(r.b) {
				return 0, r.i, io.EOF
			}
			return 0, r.i, r.errorAt(r.i, "a value after the top-level value")
		}
		return r.value()
	}
	if r.i == len(r.b) {
		return 0, r.i, r.errorAt(r.i, "unexpected end of the answer")
	}
	f := &r.stack[len(r.stack)-1]
	if !f.array && f.n%2 == 1 {
		if r.b[r.i] != ':' {
			return 0, r.i, r.unexpected("after a name")
		}
		r.i++
		r.space()
		f.n++
		return r.value()
	}
	if c, closer := r.b[r.i], closerOf(f.array); c == closer {
		r.i++
		r.stack = r.stack[:len(r.stack)-1]
		r.done = len(r.stack) == 0
		return c, r.i - 1, nil
	}
	if f.n > 0 {
		if r.b[r.i] != ',' {
			return 0, r.i, r.unexpected("after a value")
		}
		r.i++
		r.space()
	}
	f.n++
	if f.array {
		return r.value()
	}
	if r.i == len(r.b) || r.b[r.i] != '"' {
		return 0, r.i, r.unexpected("where a name was due")
	}
	start = r.i
	if err := r.str(); err != nil {
		return 0, start, err
	}
	f.name = r.b[start:r.i]
	return '"', start, nil
}

func closerOf(array bool) byte {
	if array {
		return ']'
	}
	return '}'
}

// value reads the start of a value: a scalar whole, the opening of an
// object or array.
func (r *jsonReader) value() (kind byte, start int, err error) {
	if r.i == len(r.b) {
		return 0, r.i, r.errorAt(r.i, "unexpected end of the answer")
	}
	start = r.i
	switch c := r.b[r.i]; c {
	case '{', '[':
		if len(r.stack) == maxDepth {
			return 0, start, r.errorAt(start, "nested deeper than %d", maxDepth)
		}
		r.stack = append(r.stack, frame{array: c == '['})
		r.i++
		return c, start, nil
	case '"':
		err = r.str()
		kind = '"'
	case 't':
		err = r.literal("true")
		kind = 't'
	case 'f':
		err = r.literal("false")
		kind = 'f'
	case 'n':
		err = r.literal("null")
		kind = 'n'
	default:
		if c != '-' && (c < '0' || c > '9') {
			return 0, start, r.unexpected("where a value was due")
		}
		err = r.number()
		kind = '0'
	}
	r.done = len(r.stack) == 0
	return kind, start, err
}

// space skips white space. Encar indents some answers deeply (the mobile
// list's facets): runs of spaces are skipped eight at a time.
func (r *jsonReader) space() {
	b, i := r.b, r.i
	for i < len(b) {
		if i+8 <= len(b) && binary.LittleEndian.Uint64(b[i:]) == 0x2020202020202020 {
			i += 8
			continue
		}
		if c := b[i]; c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			break
		}
		i++
	}
	r.i = i
}

// plain marks the bytes a string carries as they are: all but the quote,
// the backslash and the control characters. Bytes of invalid UTF-8 are
// plain too: str checks the UTF-8 of a string as a whole.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str reads a string, r.i at its opening quote. Invalid UTF-8 is not an
// error, only noted.
func (r *jsonReader) str() error {
	b, i := r.b, r.i+1
	var bits byte // every byte of the string or'ed: its top bit is set when one is not ASCII
	for {
		for i < len(b) && plain[b[i]] {
			bits |= b[i]
			i++
		}
		if i == len(b) {
			return r.errorAt(i, "unexpected end of the answer in a string")
		}
		switch c := b[i]; {
		case c == '"':
			if bits >= utf8.RuneSelf && !r.special && !utf8.Valid(b[r.i+1:i]) {
				r.special = true
			}
			r.i = i + 1
			return nil
		case c == '\\':
			r.special = true
			if i+1 == len(b) {
				return r.errorAt(i, "unexpected end of the answer in a string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return r.errorAt(i, "invalid \\u escape in a string")
				}
				i += 6
			default:
				return r.errorAt(i, "invalid escape \\%c in a string", b[i+1])
			}
		default:
			return r.errorAt(i, "control character %#02x in a string", b[i])
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// number reads a number, r.i at its first byte.
func (r *jsonReader) number() error {
	b, i := r.b, r.i
	digits := func() bool {
		j := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i > j
	}
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return r.errorAt(i, "a number without digits")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return r.errorAt(i, "a number without digits after its point")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return r.errorAt(i, "a number without digits in its exponent")
		}
	}
	r.i = i
	return nil
}

func (r *jsonReader) literal(lit string) error {
	// Not string(r.b[r.i:]): that copies the rest of the answer for
	// every literal in it.
	if len(r.b)-r.i < len(lit) || string(r.b[r.i:r.i+len(lit)]) != lit {
		return r.unexpected("where a value was due")
	}
	r.i += len(lit)
	return nil
}

func (r *jsonReader) unexpected(where string) error {
	if r.i == len(r.b) {
		return r.errorAt(r.i, "unexpected end of the answer")
	}
	return r.errorAt(r.i, "invalid character %q %s", r.b[r.i], where)
}

func (r *jsonReader) errorAt(offset int, format string, args ...any) error {
	return fmt.Errorf("%s at offset %d (%s)", fmt.Sprintf(format, args...), offset, r.pointer())
}

// pointer names where the reader is, as a JSON pointer (RFC 6901): the
// names and indexes of the objects and arrays open around it.
func (r *jsonReader) pointer() string {
	var sb strings.Builder
	for _, f := range r.stack {
		sb.WriteByte('/')
		switch {
		case f.array:
			sb.WriteString(strconv.Itoa(max(f.n-1, 0)))
		case f.name != nil:
			name, err := strconv.Unquote(string(f.name))
			if err != nil {
				name = string(f.name)
			}
			sb.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(name))
		}
	}
	if sb.Len() == 0 {
		return "/"
	}
	return sb.String()
}

// valueKind is the kind of a value readValue returned, as peek names it.
func valueKind(v []byte) byte {
	if c := v[0]; c == '-' || '0' <= c && c <= '9' {
		return '0'
	}
	return v[0]
}
