package tenant

// Node is an object that node(id:) finds by its id (GraphQL's Node
// interface binds to it): its own id, unique across every type of Node
// (UUIDs, and the plans' catalog ids). An audit entry is none: its id is a
// number within its tenant's log.
type Node interface {
	NodeID() string
}

// NodeID is the tenant's id.
func (t *Tenant) NodeID() string { return t.ID }

// NodeID is the plan's catalog id (`starter`).
func (p *Plan) NodeID() string { return p.ID }

// NodeID is the key's id.
func (k *APIKeyRecord) NodeID() string { return k.ID }

// NodeID is the invoice's id.
func (i *Invoice) NodeID() string { return i.ID }

// NodeID is the grant's id.
func (g *CreditGrant) NodeID() string { return g.ID }

// NodeID is the event's id.
func (e *Event) NodeID() string { return e.ID }

// NodeID is the delivery's id.
func (d *WebhookDelivery) NodeID() string { return d.ID }

// NodeID is the member's id.
func (m *Member) NodeID() string { return m.ID }

// NodeID is the session's id.
func (s *Session) NodeID() string { return s.ID }

// MaxNodeIDs bounds the ids of one nodes(ids:).
const MaxNodeIDs = 100
