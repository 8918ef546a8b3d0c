package broker_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

func saramaConfig(v sarama.KafkaVersion) *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = v
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Consumer.Return.Errors = true
	cfg.Metadata.Retry.Backoff = 100 * time.Millisecond
	return cfg
}

// saramaConsume reads partition-by-partition from the oldest offset until
// want messages arrived.
func saramaConsume(t *testing.T, addrs []string, cfg *sarama.Config, topic string, want int) []*sarama.ConsumerMessage {
	t.Helper()
	c, err := sarama.NewConsumer(addrs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	parts, err := c.Partitions(topic)
	if err != nil {
		t.Fatal(err)
	}
	msgs := make(chan *sarama.ConsumerMessage, want)
	for _, p := range parts {
		pc, err := c.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		go func() {
			for m := range pc.Messages() {
				msgs <- m
			}
		}()
	}
	var out []*sarama.ConsumerMessage
	timeout := time.After(20 * time.Second)
	for len(out) < want {
		select {
		case m := <-msgs:
			out = append(out, m)
		case <-timeout:
			t.Fatalf("sarama consumed %d of %d", len(out), want)
		}
	}
	return out
}

func TestLegacy0102Clients(t *testing.T) {
	k := newRuntime(t, t.TempDir())
	defer k.Close()
	ports := freePorts(t, 3)
	addrs := startInstance(t, k, "alikafka_post-old", "0.10.2", ports)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for id := int32(0); id < 3; id++ {
		if err := k.CheckBroker(ctx, "alikafka_post-old", id, "0.10.2"); err != nil {
			t.Fatal(err)
		}
		if err := k.CheckBroker(ctx, "alikafka_post-old", id, "2.2.0"); err == nil {
			t.Fatal("a 0.10.2 broker passed as 2.2.0")
		}
	}
	createTopic(t, addrs, "0.10.2", "legacy", 3)

	t.Run("sarama", func(t *testing.T) {
		for _, codec := range []sarama.CompressionCodec{sarama.CompressionNone, sarama.CompressionGZIP, sarama.CompressionSnappy, sarama.CompressionLZ4} {
			cfg := saramaConfig(sarama.V0_10_2_0)
			cfg.Producer.Compression = codec
			p, err := sarama.NewSyncProducer(addrs, cfg)
			if err != nil {
				t.Fatal(err)
			}
			var batch []*sarama.ProducerMessage
			for i := range 50 {
				batch = append(batch, &sarama.ProducerMessage{Topic: "legacy", Key: sarama.StringEncoder(fmt.Sprint(i)), Value: sarama.StringEncoder(fmt.Sprintf("%s-%d", codec, i))})
			}
			if err := p.SendMessages(batch); err != nil {
				t.Fatalf("%s: %v", codec, err)
			}
			// Headers need the 0.11 message format: sarama refuses
			// them for a 0.10.2 cluster, as it would for real Kafka.
			_, _, err = p.SendMessage(&sarama.ProducerMessage{Topic: "legacy", Value: sarama.StringEncoder("h"),
				Headers: []sarama.RecordHeader{{Key: []byte("k"), Value: []byte("v")}}})
			if err == nil {
				t.Fatal("header produce on 0.10.2 succeeded")
			}
			p.Close()
		}
		msgs := saramaConsume(t, addrs, saramaConfig(sarama.V0_10_2_0), "legacy", 200)
		seen := map[string]bool{}
		for _, m := range msgs {
			if seen[string(m.Value)] {
				t.Fatalf("duplicate %s", m.Value)
			}
			seen[string(m.Value)] = true
			if m.Timestamp.IsZero() || time.Since(m.Timestamp) > time.Minute {
				t.Fatalf("bad timestamp %v", m.Timestamp)
			}
		}
		// A magic-0 consumer (sarama pinned to 0.9 uses Fetch v0/v1) still reads the data.
		old := saramaConsume(t, addrs, saramaConfig(sarama.V0_9_0_0), "legacy", 200)
		if len(old) != 200 {
			t.Fatalf("v0 consumer got %d", len(old))
		}
	})

	t.Run("franz-go", func(t *testing.T) {
		for _, opts := range [][]kgo.Opt{{kgo.MaxVersions(kversion.V0_10_2())}, nil} {
			cl := newClient(t, addrs, opts...)
			produceN(t, cl, "legacy", "kgo", 100, false)
			// Record headers cannot be expressed in a message set:
			// franz-go, like against a real 0.10.2 broker, sends the
			// record without them (checked below).
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "legacy", Value: []byte("h"), Headers: []kgo.RecordHeader{{Key: "k"}}}).FirstErr(); err != nil {
				t.Fatal(err)
			}
			cl.Close()
		}
		recs := consumeAll(t, addrs, "legacy", 402, kgo.MaxVersions(kversion.V0_10_2()))
		n := 0
		for _, r := range recs {
			if len(r.Headers) != 0 {
				t.Fatalf("a 0.10.2 broker returned headers: %v", r.Headers)
			}
			if len(r.Value) > 3 && string(r.Value[:3]) == "kgo" {
				n++
			}
		}
		if n != 200 {
			t.Fatalf("franz-go read %d of its 200 records", n)
		}
	})

	t.Run("raw produce v3 closes", func(t *testing.T) {
		conn, err := net.Dial("tcp", addrs[0])
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		req := kmsg.NewPtrProduceRequest()
		req.Version = 3
		req.Acks = -1
		req.TimeoutMillis = 1000
		body := req.AppendTo(nil)
		frame := make([]byte, 4, 64)
		frame = binary.BigEndian.AppendUint16(frame, 0)
		frame = binary.BigEndian.AppendUint16(frame, 3)
		frame = binary.BigEndian.AppendUint32(frame, 7)
		frame = binary.BigEndian.AppendUint16(frame, 0xffff)
		frame = append(frame, body...)
		binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
		if _, err := conn.Write(frame); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = bufio.NewReader(conn).ReadByte()
		if !errors.Is(err, io.EOF) {
			t.Fatalf("want the connection closed, got %v", err)
		}
	})
}
