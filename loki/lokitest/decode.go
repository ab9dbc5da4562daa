package lokitest

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang/snappy"
)

// Stream is one stream of a decoded push request: a label set and its
// entries, in the order the request carried them.
type Stream struct {
	// Labels is the label set as the request carried it, such as
	// {level="INFO",service="api"}; [Stream.LabelMap] parses it. The
	// labels of a JSON request are rendered the same way, names sorted.
	Labels  string
	Entries []DecodedEntry
}

// DecodedEntry is one line of a decoded stream with its timestamp.
type DecodedEntry struct {
	Time time.Time
	Line string
}

// ErrCorrupt is returned, wrapped, for a push body or label set that cannot
// be decoded.
var ErrCorrupt = errors.New("lokitest: corrupt push body")

// DecodePushRequest decodes the body of a push to /loki/api/v1/push. A
// contentType starting with application/json means Loki's JSON push format,
// gzipped or not (the gzip header is recognised); anything else means a
// protobuf PushRequest compressed as one snappy block, as Loki expects for
// application/x-protobuf, decoded with github.com/golang/snappy.
func DecodePushRequest(contentType string, body io.Reader) ([]Stream, error) {
	if strings.HasPrefix(contentType, "application/json") {
		return decodeJSON(body)
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	pb, err := unsnappy(raw)
	if err != nil {
		return nil, err
	}
	return decodeProtobuf(pb)
}

// decodeJSON reads {"streams":[{"stream":{...},"values":[["ns","line"]]}]},
// gunzipping it first if it starts with gzip's magic number.
func decodeJSON(body io.Reader) ([]Stream, error) {
	br := bufio.NewReader(body)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		r = zr
	}
	var req struct {
		Streams []struct {
			Stream map[string]string `json:"stream"`
			Values [][2]string       `json:"values"`
		} `json:"streams"`
	}
	if err := json.NewDecoder(r).Decode(&req); err != nil {
		return nil, err
	}
	var out []Stream
	for _, s := range req.Streams {
		st := Stream{Labels: labelString(s.Stream)}
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

// labelString renders labels as {a="b",c="d"}, names sorted, the form the
// protobuf encoding carries.
func labelString(labels map[string]string) string {
	pairs := make([]string, 0, len(labels))
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		pairs = append(pairs, k+"="+strconv.Quote(labels[k]))
	}
	return "{" + strings.Join(pairs, ",") + "}"
}

func readVarint(b []byte) (uint64, []byte, error) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, b[i+1:], nil
		}
	}
	return 0, nil, ErrCorrupt
}

// MaxDecodedBytes bounds the decoded size of a snappy push body: a body
// that claims more is refused before it is decoded.
const MaxDecodedBytes = 256 << 20

// unsnappy decodes a snappy block.
func unsnappy(b []byte) ([]byte, error) {
	n, err := snappy.DecodedLen(b)
	if err != nil || n > MaxDecodedBytes {
		return nil, fmt.Errorf("%w: not a snappy block of at most %d bytes", ErrCorrupt, MaxDecodedBytes)
	}
	out, err := snappy.Decode(nil, b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return out, nil
}

// fields calls f for each field of a protobuf message: with the value of a
// varint field, or the bytes of a length-delimited one.
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
				return ErrCorrupt
			}
			if err := f(int(key>>3), 0, rest[:n]); err != nil {
				return err
			}
			b = rest[n:]
		default:
			return ErrCorrupt
		}
	}
	return nil
}

// decodeProtobuf reads a logproto.PushRequest:
//
//	PushRequest   { repeated StreamAdapter streams = 1; }
//	StreamAdapter { string labels = 1; repeated EntryAdapter entries = 2; }
//	EntryAdapter  { google.protobuf.Timestamp timestamp = 1; string line = 2; }
//	Timestamp     { int64 seconds = 1; int32 nanos = 2; }
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

// LabelMap parses the stream's label set, such as {a="b", c="d"}, into a
// map. It returns an error wrapping [ErrCorrupt] if Labels is not of that
// form.
func (s Stream) LabelMap() (map[string]string, error) {
	corrupt := fmt.Errorf("%w: label set %q", ErrCorrupt, s.Labels)
	out := map[string]string{}
	t := strings.TrimSpace(s.Labels)
	if !strings.HasPrefix(t, "{") || !strings.HasSuffix(t, "}") {
		return nil, corrupt
	}
	t = t[1 : len(t)-1]
	for t = strings.TrimSpace(t); t != ""; t = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t), ",")) {
		k, rest, ok := strings.Cut(t, "=")
		if !ok {
			return nil, corrupt
		}
		q, err := strconv.QuotedPrefix(strings.TrimSpace(rest))
		if err != nil {
			return nil, corrupt
		}
		v, _ := strconv.Unquote(q)
		out[strings.TrimSpace(k)] = v
		t = strings.TrimSpace(rest)[len(q):]
	}
	return out, nil
}
