package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTargetRowsJudgeEachMeasure(t *testing.T) {
	t.Parallel()
	const ms = time.Millisecond
	allMet := targetMeasures{
		againPostgres:    againResult{rate: 1000, pgbenchTPS: 2000},
		againSQLite:      againResult{rate: 3000, p99: 20 * ms},
		overheadSQLite:   againResult{rate: 500, overheadP99: 5 * ms},
		overheadPostgres: againResult{rate: 500, overheadP99: 4 * ms},
		schedules: schedulesResult{
			rate:       map[time.Duration]float64{0: 700, 200 * ms: 1000},
			pgbenchTPS: 2000, rss: 200 << 20,
		},
	}
	tests := []struct {
		name   string
		change func(*targetMeasures)
		unmet  []string // ids of the rows not met
	}{
		{"every target met at its bound", func(*targetMeasures) {}, nil},
		{"Postgres below half of pgbench", func(m *targetMeasures) { m.againPostgres.rate = 999 }, []string{"1"}},
		{"a failed charge fails the run", func(m *targetMeasures) { m.againPostgres.failed = 1 }, []string{"1"}},
		{"pgbench did not run", func(m *targetMeasures) {
			m.againPostgres.pgbenchTPS, m.againPostgres.pgbenchErr = 0, errors.New("pgbench not found")
		}, []string{"1"}},
		{"SQLite short of 3,000/s", func(m *targetMeasures) { m.againSQLite.rate = 2999 }, []string{"2"}},
		{"overhead over 5 ms on SQLite", func(m *targetMeasures) { m.overheadSQLite.overheadP99 = 5*ms + 1 }, []string{"3a"}},
		{"overhead over 5 ms on Postgres", func(m *targetMeasures) { m.overheadPostgres.overheadP99 = 6 * ms }, []string{"3b"}},
		{"an overhead run that did not happen", func(m *targetMeasures) { m.overheadPostgres = againResult{} }, []string{"3b"}},
		{"billing run below 0.35 × pgbench", func(m *targetMeasures) { m.schedules.rate[0] = 699 }, []string{"4a"}},
		{"slow-PG billing run below 1,000/s", func(m *targetMeasures) { m.schedules.rate[200*ms] = 999 }, []string{"4b"}},
		{"RSS over 200 MB", func(m *targetMeasures) { m.schedules.rss = 200<<20 + 1 }, []string{"5"}},
		{"billing runs that failed", func(m *targetMeasures) { m.schedules = schedulesResult{} }, []string{"4a", "4b", "5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := allMet
			m.schedules.rate = map[time.Duration]float64{0: 700, 200 * ms: 1000}
			tt.change(&m)
			rows := m.rows(32, 200, 100_000, 1_000_000)
			if len(rows) != 7 {
				t.Fatalf("%d rows, want 7 (1, 2, 3a, 3b, 4a, 4b, 5)", len(rows))
			}
			var unmet []string
			for _, r := range rows {
				if !r.met {
					unmet = append(unmet, r.id)
				}
			}
			if strings.Join(unmet, ",") != strings.Join(tt.unmet, ",") {
				t.Errorf("unmet %v, want %v", unmet, tt.unmet)
			}
		})
	}
}

func TestPrintTargetsCountsWhatWasMet(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	printTargets(&out, []targetRow{
		{id: "1", what: "again, Postgres", measured: "1000/s vs pgbench 2000 TPS = 0.50", target: "≥ 0.5 × pgbench", met: true},
		{id: "2", what: "again, SQLite", measured: "2500/s", target: "≥ 3,000/s"},
	})
	got := out.String()
	for _, want := range []string{"1000/s vs pgbench 2000 TPS = 0.50", "✓", "✗", "1 of 2 targets met"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
}
