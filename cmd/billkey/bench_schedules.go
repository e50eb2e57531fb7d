package main

import (
	"context"
	"errors"
)

// benchSchedules is provided by the scheduler work (issue 3).
func benchSchedules(ctx context.Context, args []string) error {
	return errors.New("bench schedules: not available yet")
}
