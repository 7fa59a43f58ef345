package db_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"tenantapi/db/dbtest"
	"tenantapi/tenant"
)

// BenchmarkRecordUsage measures ingestion through Store.RecordUsage on a
// real PostgreSQL: batches of 1,000 new events for one tenant (the largest
// batch recordUsage takes), spread over the last week, 500 users, 8
// platforms, a token type on one event in four. "replay" sends batches
// already recorded (every event a duplicate). Run:
//
//	go test ./db -run X -bench RecordUsage -benchtime 20x
//
// 10 million events a month for one tenant is 3.9 events/s on average.
func BenchmarkRecordUsage(b *testing.B) {
	store := dbtest.New(b)
	ctx := tenant.WithActor(context.Background(), &tenant.Actor{Kind: tenant.Admin})
	tn, err := store.CreateTenant(ctx, tenant.CreateTenant{Name: "Bench Co", Domain: "bench.example.com", PlanID: "enterprise"})
	if err != nil {
		b.Fatal(err)
	}
	const size = tenant.MaxUsageBatch
	outcomes := []tenant.Outcome{tenant.OutcomeLogged, tenant.OutcomeLogged, tenant.OutcomeLogged, tenant.OutcomeCoached, tenant.OutcomeBlocked}
	risks := []tenant.RiskLevel{tenant.RiskLow, tenant.RiskLow, tenant.RiskMedium, tenant.RiskHigh, tenant.RiskCritical}
	types := []string{"token", "card", "bank"}
	makeBatch := func(n int) []tenant.UsageEvent {
		now := time.Now().UTC()
		events := make([]tenant.UsageEvent, size)
		for i := range events {
			k := n*size + i
			e := tenant.UsageEvent{
				ID: fmt.Sprintf("bench-%08d", k), OccurredAt: now.Add(-time.Duration(k%(7*24*60)) * time.Minute),
				UserID: fmt.Sprintf("user-%d", k%500), Platform: fmt.Sprintf("platform-%d", k%8),
				Outcome: outcomes[k%len(outcomes)], RiskLevel: risks[k%len(risks)],
			}
			if k%4 == 0 {
				e.TokenType = &types[k%3]
			}
			events[i] = e
		}
		return events
	}
	record := func(b *testing.B, events []tenant.UsageEvent) int {
		r, err := store.RecordUsage(ctx, tn.ID, tenant.UsageBatch{Events: events})
		if err != nil {
			b.Fatal(err)
		}
		return r.Accepted
	}
	next := 0 // batches are numbered across runs, so every run's ids are new
	b.Run("new", func(b *testing.B) {
		batches := make([][]tenant.UsageEvent, b.N)
		for i := range batches {
			batches[i] = makeBatch(next)
			next++
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if n := record(b, batches[i]); n != size {
				b.Fatalf("accepted %d of %d new events", n, size)
			}
		}
		perSecond := float64(b.N*size) / b.Elapsed().Seconds()
		b.ReportMetric(perSecond, "events/s")
		b.ReportMetric(perSecond/(10_000_000/(30*24*3600.0)), "x_10M/month")
	})
	b.Run("replay", func(b *testing.B) {
		events := makeBatch(next)
		next++
		record(b, events)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if n := record(b, events); n != 0 {
				b.Fatalf("a replay accepted %d events", n)
			}
		}
		b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
	})
}
