package loki

import "github.com/golang/snappy"

// Loki's native push format: a logproto.PushRequest (push.proto in Loki's
// pkg/push module) in protobuf wire format, written by hand so that the
// package needs no protobuf library, compressed as one snappy block (the
// block format, not the framed stream) by github.com/golang/snappy, as
// Promtail and Grafana's Go clients for Loki do.
//
//	PushRequest   { repeated StreamAdapter streams = 1; }
//	StreamAdapter { string labels = 1; repeated EntryAdapter entries = 2; }
//	EntryAdapter  { google.protobuf.Timestamp timestamp = 1; string line = 2; }
//	Timestamp     { int64 seconds = 1; int32 nanos = 2; }

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// varintLen is the length of v as a varint.
func varintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func appendTag(b []byte, field, wireType int) []byte {
	return appendVarint(b, uint64(field<<3|wireType))
}

func appendBytesField(b []byte, field int, v []byte) []byte {
	b = appendTag(b, field, 2)
	b = appendVarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendStringField(b []byte, field int, v string) []byte {
	b = appendTag(b, field, 2)
	b = appendVarint(b, uint64(len(v)))
	return append(b, v...)
}

// entry encodes one EntryAdapter's timestamp into buf and returns it with
// the encoded size of the EntryAdapter's body.
func entry(buf *[24]byte, ts int64, line string) (timestamp []byte, size int) {
	sec, nanos := ts/1e9, ts%1e9
	if nanos < 0 {
		sec, nanos = sec-1, nanos+1e9
	}
	t := buf[:0]
	if sec != 0 {
		t = appendTag(t, 1, 0)
		t = appendVarint(t, uint64(sec))
	}
	if nanos != 0 {
		t = appendTag(t, 2, 0)
		t = appendVarint(t, uint64(nanos))
	}
	size = 1 + varintLen(uint64(len(t))) + len(t) + 1 + varintLen(uint64(len(line))) + len(line)
	return t, size
}

// encodeProtobuf builds the snappy-compressed protobuf push body; streams and
// their entries keep the queue's order. The buffers are sized up front, so
// a batch costs a handful of allocations whatever its length.
func encodeProtobuf(batch []queued) []byte {
	var order []string
	byStream := map[string][]int{}
	size := 0
	for i, q := range batch {
		if _, ok := byStream[q.stream]; !ok {
			order = append(order, q.stream)
			size += len(q.stream) + 8
		}
		byStream[q.stream] = append(byStream[q.stream], i)
		size += len(q.line) + 32
	}
	pb := make([]byte, 0, size)
	sm := make([]byte, 0, size)
	var ts [24]byte
	for _, key := range order {
		sm = appendStringField(sm[:0], 1, key)
		for _, i := range byStream[key] {
			t, size := entry(&ts, batch[i].ts, batch[i].line)
			sm = appendTag(sm, 2, 2)
			sm = appendVarint(sm, uint64(size))
			sm = appendBytesField(sm, 1, t)
			sm = appendStringField(sm, 2, batch[i].line)
		}
		pb = appendBytesField(pb, 1, sm)
	}
	return snappy.Encode(nil, pb)
}
