package loki

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Stream is one decoded stream of a push request.
type Stream struct {
	Labels  string // the label set as Loki prints it: {a="b", c="d"}
	Entries []DecodedEntry
}

// DecodedEntry is one decoded line.
type DecodedEntry struct {
	Time time.Time
	Line string
}

// DecodePushRequest decodes a push body as this client sends it: protobuf
// in a snappy block of literals (Content-Type application/x-protobuf), or
// gzipped JSON. It is for test servers and proxies; it does not decode
// snappy blocks that use back-references.
func DecodePushRequest(contentType string, body io.Reader) ([]Stream, error) {
	if strings.HasPrefix(contentType, "application/json") {
		return decodeJSON(body)
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	pb, err := unsnappyLiterals(raw)
	if err != nil {
		return nil, err
	}
	return decodeProtobuf(pb)
}

func decodeJSON(body io.Reader) ([]Stream, error) {
	zr, err := gzip.NewReader(body)
	if err != nil {
		return nil, err
	}
	var req struct {
		Streams []struct {
			Stream map[string]string `json:"stream"`
			Values [][2]string       `json:"values"`
		} `json:"streams"`
	}
	if err := json.NewDecoder(zr).Decode(&req); err != nil {
		return nil, err
	}
	var out []Stream
	for _, s := range req.Streams {
		st := Stream{Labels: streamKey(s.Stream)}
		for _, v := range s.Values {
			ns, err := strconv.ParseInt(v[0], 10, 64)
			if err != nil {
				return nil, err
			}
			st.Entries = append(st.Entries, DecodedEntry{time.Unix(0, ns), v[1]})
		}
		out = append(out, st)
	}
	return out, nil
}

var errCorrupt = errors.New("loki: corrupt push body")

func readVarint(b []byte) (uint64, []byte, error) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, b[i+1:], nil
		}
	}
	return 0, nil, errCorrupt
}

func unsnappyLiterals(b []byte) ([]byte, error) {
	n, b, err := readVarint(b)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, n)
	for len(b) > 0 {
		tag := b[0]
		if tag&3 != 0 {
			return nil, fmt.Errorf("%w: snappy copy elements are not supported", errCorrupt)
		}
		m := int(tag >> 2)
		b = b[1:]
		if m >= 60 {
			k := m - 59
			if len(b) < k {
				return nil, errCorrupt
			}
			m = 0
			for i := k - 1; i >= 0; i-- {
				m = m<<8 | int(b[i])
			}
			b = b[k:]
		}
		m++
		if len(b) < m {
			return nil, errCorrupt
		}
		out = append(out, b[:m]...)
		b = b[m:]
	}
	if uint64(len(out)) != n {
		return nil, errCorrupt
	}
	return out, nil
}

// fields calls f for each field of a protobuf message.
func fields(b []byte, f func(num int, v uint64, data []byte) error) error {
	for len(b) > 0 {
		key, rest, err := readVarint(b)
		if err != nil {
			return err
		}
		b = rest
		switch key & 7 {
		case 0:
			v, rest, err := readVarint(b)
			if err != nil {
				return err
			}
			b = rest
			if err := f(int(key>>3), v, nil); err != nil {
				return err
			}
		case 2:
			n, rest, err := readVarint(b)
			if err != nil || uint64(len(rest)) < n {
				return errCorrupt
			}
			if err := f(int(key>>3), 0, rest[:n]); err != nil {
				return err
			}
			b = rest[n:]
		default:
			return errCorrupt
		}
	}
	return nil
}

func decodeProtobuf(pb []byte) ([]Stream, error) {
	var out []Stream
	err := fields(pb, func(num int, _ uint64, data []byte) error {
		if num != 1 {
			return nil
		}
		var st Stream
		err := fields(data, func(num int, _ uint64, data []byte) error {
			switch num {
			case 1:
				st.Labels = string(data)
			case 2:
				var e DecodedEntry
				var sec, nanos uint64
				err := fields(data, func(num int, _ uint64, data []byte) error {
					switch num {
					case 1:
						return fields(data, func(num int, v uint64, _ []byte) error {
							if num == 1 {
								sec = v
							} else if num == 2 {
								nanos = v
							}
							return nil
						})
					case 2:
						e.Line = string(data)
					}
					return nil
				})
				e.Time = time.Unix(int64(sec), int64(nanos))
				st.Entries = append(st.Entries, e)
				return err
			}
			return nil
		})
		out = append(out, st)
		return err
	})
	return out, err
}

// LabelMap parses the stream's label set, {a="b", c="d"}.
func (s Stream) LabelMap() (map[string]string, error) {
	out := map[string]string{}
	t := strings.TrimSpace(s.Labels)
	if !strings.HasPrefix(t, "{") || !strings.HasSuffix(t, "}") {
		return nil, errCorrupt
	}
	t = t[1 : len(t)-1]
	for t = strings.TrimSpace(t); t != ""; t = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t), ",")) {
		k, rest, ok := strings.Cut(t, "=")
		if !ok {
			return nil, errCorrupt
		}
		q, err := strconv.QuotedPrefix(strings.TrimSpace(rest))
		if err != nil {
			return nil, errCorrupt
		}
		v, _ := strconv.Unquote(q)
		out[strings.TrimSpace(k)] = v
		t = strings.TrimSpace(rest)[len(q):]
	}
	return out, nil
}
