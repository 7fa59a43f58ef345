package resolvers

import (
	"context"
	"log/slog"
	"time"

	"tenantapi/db"
	"tenantapi/live"
	"tenantapi/tenant"
)

// follow subscribes to the events of the tenant id (the caller's own or,
// with TENANT_MANAGE, another: TargetTenant) and calls send with each batch of them that
// committed, oldest first and each once, until ctx ends or send returns
// false; then it calls done. The events are read back through the store
// with the caller's scope, so another tenant's events are never read.
// Codes (before anything is sent): EINVALID, ENOTFOUND (a tenant the caller
// may not see), ERATELIMITED (too many subscriptions), EUNAVAILABLE.
func (r *Resolver) follow(ctx context.Context, id string, types []string, send func([]*tenant.Event) bool, done func()) error {
	if r.Live == nil {
		return tenant.Errorf(tenant.EUNAVAILABLE, "live subscriptions are not enabled on this server")
	}
	if _, err := r.Store.Tenant(ctx, id); err != nil {
		return err
	}
	sub, err := r.Live.Subscribe(ctx, id)
	if err != nil {
		return err
	}
	cur := live.NewCursor(r.Store.Now())
	go func() {
		defer done()
		defer sub.Close()
		retry := time.NewTimer(0)
		<-retry.C
		defer retry.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-sub.C():
			case <-retry.C:
			}
			ids, rescan := sub.Take()
			events, err := r.catchUp(ctx, id, ids, rescan, types, cur)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				// The database did not answer: read everything after the
				// last event sent once it does.
				slog.Default().WarnContext(ctx, "live subscription: reading events", "tenant", id, "err", err)
				sub.Rescan()
				retry.Reset(time.Second)
				continue
			}
			if !send(events) {
				return
			}
		}
	}()
	return nil
}

// catchUp reads the events of ids or, to rescan, every event after the
// cursor, and keeps those not sent yet.
func (r *Resolver) catchUp(ctx context.Context, tenantID string, ids []string, rescan bool, types []string, cur *live.Cursor) ([]*tenant.Event, error) {
	var fresh []*tenant.Event
	keep := func(events []*tenant.Event) {
		for _, e := range events {
			if cur.Fresh(e.ID) {
				fresh = append(fresh, e)
			}
		}
	}
	if !rescan {
		if len(ids) == 0 {
			return nil, nil
		}
		events, err := r.Store.LiveEvents(ctx, tenantID, ids, "", types)
		keep(events)
		return fresh, err
	}
	after := cur.After()
	for {
		events, err := r.Store.LiveEvents(ctx, tenantID, nil, after, types)
		if err != nil {
			return nil, err
		}
		keep(events)
		if len(events) < db.MaxLiveBatch {
			return fresh, nil
		}
		after = events[len(events)-1].ID
	}
}
