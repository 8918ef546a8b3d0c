package jobs

import (
	"os"
	"strings"

	"github.com/kafkaplane/kafkaplane"
)

// StableWorkerID returns the worker id stored at path, or makes one and
// stores it there (mode 0600). A process that restarts on the same data
// dir keeps its id, so it owns its earlier leases and resumes its own
// operations at once instead of waiting for them to be freed.
func StableWorkerID(path string) (string, error) {
	if data, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(data))) > 0 {
		return strings.TrimSpace(string(data)), nil
	}
	id := "worker-" + kafkaplane.RandomString(kafkaplane.LowerAlnum, 12)
	return id, os.WriteFile(path, []byte(id+"\n"), 0o600)
}
