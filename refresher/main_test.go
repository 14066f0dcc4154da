package refresher

import (
	"testing"

	"github.com/workablegw/gateway/redisconn/redistest"
)

// TestMain keeps go-redis's own log lines out of the output of passing
// tests (see redistest.Main).
func TestMain(m *testing.M) { redistest.Main(m) }
