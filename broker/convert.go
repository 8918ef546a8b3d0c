package broker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The storage engine only keeps record batches (magic 2), while 0.10.2
// clients speak message sets (magic 0 and 1). This file converts between
// the two the way a real broker does for old clients: up-conversion on
// produce, down-conversion on fetch.

var (
	castagnoli = crc32.MakeTable(crc32.Castagnoli)

	// decompressor is shared: kgo's default decompressor is safe for
	// concurrent use and pools its codec state.
	decompressor = kgo.DefaultDecompressor()

	errCorruptMessage = errors.New("corrupt message set")
)

// legacyMessage is one record of a message set after unwrapping any
// compressed wrapper.
type legacyMessage struct {
	timestamp int64
	key       []byte // nil means null
	value     []byte // nil means null
}

// readBytes reads a Kafka int32-length-prefixed nullable byte array.
func readBytes(b []byte) (v, rest []byte, err error) {
	if len(b) < 4 {
		return nil, nil, errCorruptMessage
	}
	n := int32(binary.BigEndian.Uint32(b))
	b = b[4:]
	if n < 0 {
		return nil, b, nil
	}
	if int(n) > len(b) {
		return nil, nil, errCorruptMessage
	}
	return b[:n:n], b[n:], nil
}

// parseMessageSet appends the messages of a (possibly compressed) message
// set to out. Compressed wrappers are unwrapped one level deep, as Kafka
// never nests them further. now stands in for the missing timestamp of
// magic-0 messages.
func parseMessageSet(out []legacyMessage, set []byte, now int64, depth int) ([]legacyMessage, error) {
	for len(set) > 0 {
		if len(set) < 12 {
			// A trailing partial message is how the protocol pads
			// size-limited sets; producers never send one, so it is
			// corrupt here.
			return out, errCorruptMessage
		}
		size := int32(binary.BigEndian.Uint32(set[8:12]))
		if size < 14 || int(size) > len(set)-12 {
			return out, errCorruptMessage
		}
		msg := set[12 : 12+size]
		set = set[12+size:]

		if crc32.ChecksumIEEE(msg[4:]) != binary.BigEndian.Uint32(msg[:4]) {
			return out, fmt.Errorf("%w: crc mismatch", errCorruptMessage)
		}
		magic, attrs := msg[4], msg[5]
		body := msg[6:]
		ts := now
		switch magic {
		case 0:
		case 1:
			if len(body) < 8 {
				return out, errCorruptMessage
			}
			ts = int64(binary.BigEndian.Uint64(body))
			body = body[8:]
		default:
			return out, fmt.Errorf("%w: magic %d in a message set", errCorruptMessage, magic)
		}
		key, body, err := readBytes(body)
		if err != nil {
			return out, err
		}
		value, _, err := readBytes(body)
		if err != nil {
			return out, err
		}
		codec := kgo.CompressionCodecType(attrs & 0x07)
		if codec == kgo.CodecNone {
			out = append(out, legacyMessage{timestamp: ts, key: key, value: value})
			continue
		}
		if depth > 0 {
			return out, fmt.Errorf("%w: nested compression", errCorruptMessage)
		}
		inner, err := decompressor.Decompress(value, codec)
		if err != nil {
			return out, fmt.Errorf("%w: %v", errCorruptMessage, err)
		}
		start := len(out)
		if out, err = parseMessageSet(out, inner, now, depth+1); err != nil {
			return out, err
		}
		// A LogAppendTime wrapper overrides its inner timestamps.
		if magic == 1 && attrs&0x08 != 0 {
			for i := start; i < len(out); i++ {
				out[i].timestamp = ts
			}
		}
	}
	return out, nil
}

// messagesToBatch encodes msgs as one uncompressed record batch (magic 2)
// without a producer id, which is what a 0.11+ broker stores for a
// message-set producer.
func messagesToBatch(msgs []legacyMessage) []byte {
	first, maxTS := msgs[0].timestamp, msgs[0].timestamp
	for _, m := range msgs {
		maxTS = max(maxTS, m.timestamp)
	}
	var records []byte
	var rec []byte
	for i, m := range msgs {
		rec = rec[:0]
		rec = append(rec, 0) // attributes
		rec = kbin.AppendVarlong(rec, m.timestamp-first)
		rec = kbin.AppendVarint(rec, int32(i))
		rec = appendVarintBytes(rec, m.key)
		rec = appendVarintBytes(rec, m.value)
		rec = kbin.AppendVarint(rec, 0) // no headers exist in this format
		records = kbin.AppendVarint(records, int32(len(rec)))
		records = append(records, rec...)
	}

	b := make([]byte, 0, recordBatchHeaderSize+len(records))
	b = binary.BigEndian.AppendUint64(b, 0)          // base offset, assigned by the log
	b = binary.BigEndian.AppendUint32(b, 0)          // length, patched below
	b = binary.BigEndian.AppendUint32(b, 0xffffffff) // partition leader epoch -1
	b = append(b, 2)                                 // magic
	b = binary.BigEndian.AppendUint32(b, 0)          // crc, patched below
	b = binary.BigEndian.AppendUint16(b, 0)          // attributes: no codec, CreateTime
	b = binary.BigEndian.AppendUint32(b, uint32(len(msgs)-1))
	b = binary.BigEndian.AppendUint64(b, uint64(first))
	b = binary.BigEndian.AppendUint64(b, uint64(maxTS))
	b = binary.BigEndian.AppendUint64(b, 0xffffffffffffffff) // producer id -1
	b = binary.BigEndian.AppendUint16(b, 0xffff)             // producer epoch -1
	b = binary.BigEndian.AppendUint32(b, 0xffffffff)         // base sequence -1
	b = binary.BigEndian.AppendUint32(b, uint32(len(msgs)))
	b = append(b, records...)
	binary.BigEndian.PutUint32(b[8:12], uint32(len(b)-12))
	binary.BigEndian.PutUint32(b[17:21], crc32.Checksum(b[21:], castagnoli))
	return b
}

func appendVarintBytes(dst, b []byte) []byte {
	if b == nil {
		return kbin.AppendVarint(dst, -1)
	}
	dst = kbin.AppendVarint(dst, int32(len(b)))
	return append(dst, b...)
}

// messageSetToBatch up-converts a produced message set into a record batch.
func messageSetToBatch(set []byte, now int64) ([]byte, error) {
	msgs, err := parseMessageSet(nil, set, now, 0)
	if err != nil {
		return nil, err
	}
	if len(msgs) == 0 {
		return nil, fmt.Errorf("%w: empty", errCorruptMessage)
	}
	return messagesToBatch(msgs), nil
}

// batchesToMessageSet down-converts stored record batches into a message
// set of the given magic (0 for Fetch v0–v1, 1 for v2–v3), dropping
// records before fetchOffset and control records. It stops before the
// message that would take the set past maxBytes, but always keeps the
// first one so a consumer can make progress. Trailing partial batches,
// which the storage engine may hand out when it cuts at its byte limit,
// are ignored.
func batchesToMessageSet(batches []byte, fetchOffset int64, magic int8, maxBytes int32) []byte {
	var out []byte
	for len(batches) >= recordBatchHeaderSize {
		base := int64(binary.BigEndian.Uint64(batches[0:8]))
		length := int32(binary.BigEndian.Uint32(batches[8:12]))
		if length < recordBatchHeaderSize-12 || int(length) > len(batches)-12 {
			break
		}
		batch := batches[:12+length]
		batches = batches[12+length:]
		if batch[16] != 2 {
			continue
		}
		attrs := binary.BigEndian.Uint16(batch[21:23])
		if attrs&0x20 != 0 { // control batch: transaction markers are invisible to old clients
			continue
		}
		logAppend := attrs&0x08 != 0
		firstTS := int64(binary.BigEndian.Uint64(batch[27:35]))
		maxTS := int64(binary.BigEndian.Uint64(batch[35:43]))
		numRecords := int32(binary.BigEndian.Uint32(batch[57:61]))
		records, err := decompressor.Decompress(batch[61:], kgo.CompressionCodecType(attrs&0x07))
		if err != nil {
			break
		}
		r := kbin.Reader{Src: records}
		for i := int32(0); i < numRecords; i++ {
			length := r.Varint()
			if !r.Ok() || int(length) > len(r.Src) {
				break
			}
			rec := kbin.Reader{Src: r.Span(int(length))}
			rec.Int8() // attributes
			tsDelta := rec.Varlong()
			offDelta := rec.Varint()
			key := rec.VarintBytes()
			value := rec.VarintBytes()
			if !rec.Ok() {
				break
			}
			offset := base + int64(offDelta)
			if offset < fetchOffset {
				continue
			}
			ts := firstTS + tsDelta
			if logAppend {
				ts = maxTS
			}
			before := len(out)
			out = appendLegacyMessage(out, magic, offset, ts, logAppend, key, value)
			if before > 0 && len(out) > int(maxBytes) {
				return out[:before]
			}
		}
	}
	return out
}

// appendLegacyMessage encodes one uncompressed message of magic 0 or 1.
func appendLegacyMessage(dst []byte, magic int8, offset, ts int64, logAppend bool, key, value []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(offset))
	sizeAt := len(dst)
	dst = binary.BigEndian.AppendUint32(dst, 0) // size, patched below
	crcAt := len(dst)
	dst = binary.BigEndian.AppendUint32(dst, 0) // crc, patched below
	dst = append(dst, byte(magic))
	var attrs byte
	if magic == 1 && logAppend {
		attrs |= 0x08
	}
	dst = append(dst, attrs)
	if magic == 1 {
		dst = binary.BigEndian.AppendUint64(dst, uint64(ts))
	}
	dst = appendInt32Bytes(dst, key)
	dst = appendInt32Bytes(dst, value)
	binary.BigEndian.PutUint32(dst[sizeAt:], uint32(len(dst)-crcAt))
	binary.BigEndian.PutUint32(dst[crcAt:], crc32.ChecksumIEEE(dst[crcAt+4:]))
	return dst
}

func appendInt32Bytes(dst, b []byte) []byte {
	if b == nil {
		return binary.BigEndian.AppendUint32(dst, 0xffffffff)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(b)))
	return append(dst, b...)
}
