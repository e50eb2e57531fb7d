package core

// OperatorRole is what a merchant console account may do.
type OperatorRole string

const (
	// RoleOwner does everything, including settings, secrets and the audit log.
	RoleOwner OperatorRole = "owner"
	// RoleOperator works with payments: refunds, resends, schedules.
	RoleOperator OperatorRole = "operator"
	// RoleViewer only reads.
	RoleViewer OperatorRole = "viewer"
)

// Valid reports whether r is a known role.
func (r OperatorRole) Valid() bool { return r == RoleOwner || r == RoleOperator || r == RoleViewer }

// CanOperate: refund, resend webhooks, unschedule, cancel subscriptions, advance the sandbox clock.
func (r OperatorRole) CanOperate() bool { return r == RoleOwner || r == RoleOperator }

// CanAdminister: settings, credentials, webhook secrets, the audit log.
func (r OperatorRole) CanAdminister() bool { return r == RoleOwner }
