package jobs

import (
	"os"
	"strings"

	"github.com/kafkaplane/kafkaplane"
)

// StableWorkerID returns the worker id stored at path, or makes one and
// stores it there (mode 0600). A process that restarts on the same data
// dir keeps its id, so the worker recognises the leases it held before
// and frees them as it starts (Run): its own operations resume at once.
func StableWorkerID(path string) (string, error) {
	if data, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(data))) > 0 {
		return strings.TrimSpace(string(data)), nil
	}
	id := "worker-" + kafkaplane.RandomString(kafkaplane.LowerAlnum, 12)
	return id, os.WriteFile(path, []byte(id+"\n"), 0o600)
}
