package store_test

import (
	"testing"

	"github.com/qemgate/qemgate/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
