// Command kafkaplane runs the control plane (serve) and talks to it (call).
//
//	kafkaplane serve [--addr 127.0.0.1:7330] [--data-dir ./data] …
//	kafkaplane call [alikafka|ram] ACTION [--Param value …]
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `kafkaplane: a control plane for Kafka instances that speaks the alikafka OpenAPI.

Usage:
  kafkaplane serve [flags]                    run the service (see kafkaplane serve -h)
  kafkaplane call [alikafka|ram] ACTION [--Param value ...] [flags]
                                              call an action, signed like the aliyun CLI
  kafkaplane version                          print the version
`

// run dispatches a command line and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		m := NewMain()
		if err := m.ParseFlags(args[1:], stderr); err != nil {
			if errors.Is(err, errHelp) {
				return 0
			}
			fmt.Fprintln(stderr, "kafkaplane:", err)
			return 2
		}
		// A setting that cannot work is a usage error: refused before
		// anything starts.
		if err := m.Validate(); err != nil {
			fmt.Fprintln(stderr, "kafkaplane:", err)
			return 2
		}
		m.Stdout = stdout
		if err := m.Open(ctx); err != nil {
			fmt.Fprintln(stderr, "kafkaplane:", err)
			return 1
		}
		<-ctx.Done()
		if err := m.Close(); err != nil {
			fmt.Fprintln(stderr, "kafkaplane:", err)
			return 1
		}
		return 0
	case "call":
		return runCall(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "kafkaplane", Version)
		return 0
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "kafkaplane: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// Version is the release of this build.
var Version = "0.1.0"
