package logging

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DefaultFormat is the TEXT format used when none is set, as in the Python
// Codomyrmex module.
const DefaultFormat = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"

// DetailedFormat is what the format preset DETAILED stands for.
const DetailedFormat = "%(isotime)s - %(name)s - %(levelname)s - %(module)s:%(funcName)s:%(lineno)d - %(message)s"

// pyField names a LogRecord attribute of Python's logging that a format may use.
type pyField int

const (
	fLiteral pyField = iota
	fAsctime
	fName
	fLevelname
	fLevelno
	fMessage
	fFilename
	fLineno
	fFuncName
	fModule
	fPathname
	fProcess
	fCreated
	fMsecs
	fIsotime
)

var pyFields = map[string]pyField{
	"asctime": fAsctime, "name": fName, "levelname": fLevelname, "levelno": fLevelno,
	"message": fMessage, "filename": fFilename, "lineno": fLineno, "funcName": fFuncName,
	"module": fModule, "pathname": fPathname, "process": fProcess, "created": fCreated,
	"msecs": fMsecs, "isotime": fIsotime,
}

// numeric fields may use d, i, f … conversions.
func (f pyField) numeric() bool {
	switch f {
	case fLevelno, fLineno, fProcess, fCreated, fMsecs:
		return true
	}
	return false
}

// needsSource reports whether the field needs the caller's position.
func (f pyField) needsSource() bool {
	switch f {
	case fFilename, fLineno, fFuncName, fModule, fPathname:
		return true
	}
	return false
}

// pySeg is one piece of a compiled format: a literal or a field with its
// conversion spec (%-8s, %5d, %.3s, %08.3f).
type pySeg struct {
	field     pyField
	lit       string
	left      bool // '-' flag
	zero      bool // '0' flag
	width     int
	precision int // -1 when absent
	conv      byte
}

// pyFormat is a compiled Python logging format string.
type pyFormat struct {
	segs        []pySeg
	needsSource bool
	hasMessage  bool
}

// parsePyFormat compiles a Python %-style logging format. It supports the
// fields in pyFields, the flags '-', '0', ' ', '+' and '#', a width, a
// precision, the conversions s r a d i u f F e E g G x X o, and "%%".
func parsePyFormat(s string) (*pyFormat, error) {
	if strings.EqualFold(s, "DETAILED") {
		s = DetailedFormat
	}
	if !IsClean(s) {
		// A newline in the format would make every record two lines: the
		// very forgery the sanitizer exists to prevent.
		return nil, errors.New("want no control or invisible characters (a newline would make every record two lines)")
	}
	pf := &pyFormat{}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			pf.segs = append(pf.segs, pySeg{field: fLiteral, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			lit.WriteByte(c)
			continue
		}
		if i+1 < len(s) && s[i+1] == '%' {
			lit.WriteByte('%')
			i++
			continue
		}
		if i+1 >= len(s) || s[i+1] != '(' {
			return nil, fmt.Errorf("at offset %d: want %%(name)s or %%%%", i)
		}
		end := strings.IndexByte(s[i+2:], ')')
		if end < 0 {
			return nil, fmt.Errorf("at offset %d: unclosed %%(", i)
		}
		name := s[i+2 : i+2+end]
		f, ok := pyFields[name]
		if !ok {
			return nil, fmt.Errorf("unknown format token %%(%s)", name)
		}
		seg := pySeg{field: f, precision: -1}
		j := i + 2 + end + 1
		for ; j < len(s) && strings.IndexByte("-0 +#", s[j]) >= 0; j++ {
			switch s[j] {
			case '-':
				seg.left = true
			case '0':
				seg.zero = true
			}
		}
		w := j
		for ; j < len(s) && s[j] >= '0' && s[j] <= '9'; j++ {
		}
		if j > w {
			seg.width, _ = strconv.Atoi(s[w:j])
		}
		if j < len(s) && s[j] == '.' {
			j++
			p := j
			for ; j < len(s) && s[j] >= '0' && s[j] <= '9'; j++ {
			}
			seg.precision, _ = strconv.Atoi(s[p:j])
		}
		if seg.width > 1000 || seg.precision > 1000 {
			return nil, fmt.Errorf("width or precision of %%(%s) too large", name)
		}
		if j >= len(s) || strings.IndexByte("sradiufFeEgGxXo", s[j]) < 0 {
			return nil, fmt.Errorf("%%(%s) has no valid conversion type (s, d, f, …)", name)
		}
		seg.conv = s[j]
		if strings.IndexByte("sra", seg.conv) < 0 && !f.numeric() {
			return nil, fmt.Errorf("%%(%s)%c: %s is text, use s", name, seg.conv, name)
		}
		flush()
		pf.segs = append(pf.segs, seg)
		pf.needsSource = pf.needsSource || f.needsSource()
		pf.hasMessage = pf.hasMessage || f == fMessage
		i = j
	}
	flush()
	return pf, nil
}

// pad applies the segment's width to what was appended since start; width
// counts runes, as in Python.
func (seg *pySeg) pad(dst []byte, start int) []byte {
	n := utf8.RuneCount(dst[start:])
	if n >= seg.width {
		return dst
	}
	fill := seg.width - n
	if seg.left {
		for range fill {
			dst = append(dst, ' ')
		}
		return dst
	}
	c := byte(' ')
	if seg.zero && seg.conv != 's' {
		c = '0'
	}
	for range fill {
		dst = append(dst, 0)
	}
	copy(dst[start+fill:], dst[start:len(dst)-fill])
	for k := range fill {
		dst[start+k] = c
	}
	return dst
}

// appendNum formats a number field with its conversion.
func (seg *pySeg) appendNum(dst []byte, f float64, isInt bool) []byte {
	switch seg.conv {
	case 'd', 'i', 'u':
		return strconv.AppendInt(dst, int64(f), 10)
	case 'x':
		return strconv.AppendInt(dst, int64(f), 16)
	case 'X':
		return append(dst, strings.ToUpper(strconv.FormatInt(int64(f), 16))...)
	case 'o':
		return strconv.AppendInt(dst, int64(f), 8)
	case 'f', 'F', 'e', 'E', 'g', 'G':
		p := seg.precision
		if p < 0 && seg.conv != 'g' && seg.conv != 'G' {
			p = 6
		}
		c := seg.conv
		if c == 'F' {
			c = 'f'
		}
		return strconv.AppendFloat(dst, f, c, p, 64)
	}
	if isInt {
		return strconv.AppendInt(dst, int64(f), 10)
	}
	return strconv.AppendFloat(dst, f, 'f', -1, 64)
}

// appendText appends a text field, escaped, applying a precision as
// truncation to that many runes (as Python's %.3s does).
func (seg *pySeg) appendText(buf []byte, s string) []byte {
	if seg.precision >= 0 && len(s) > seg.precision {
		n := 0
		for i := range s {
			if n == seg.precision {
				s = s[:i]
				break
			}
			n++
		}
	}
	return appendEscaped(buf, s, quoteNone)
}
