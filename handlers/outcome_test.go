package handlers

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qemgate/qemgate/intake"
	"github.com/qemgate/qemgate/store"
)

// TestOutcomesMatchIntake: the outcome labels the receiver counts are the
// outcomes intake records.
func TestOutcomesMatchIntake(t *testing.T) {
	require.Equal(t, store.OutcomeAccepted, outcomeAccepted)
	require.Equal(t, store.OutcomeIgnored, outcomeIgnored)
	require.Equal(t, store.OutcomeBadRequest, outcomeBadRequest)
	require.Equal(t, intake.OutcomeDuplicate, outcomeDuplicate)
}
