package logging

import (
	"context"
	"log/slog"
	"runtime"
	"time"
)

// EventType names a kind of security event; it is the record's
// security_event_type label.
type EventType string

// Security event types.
const (
	AuthnSuccess           EventType = "authn_success"
	AuthnFailure           EventType = "authn_failure"
	Logout                 EventType = "logout"
	MFAChallenge           EventType = "mfa_challenge"
	MFASuccess             EventType = "mfa_success"
	MFAFailure             EventType = "mfa_failure"
	AuthzDenied            EventType = "authz_denied"
	RoleGranted            EventType = "role_granted"
	RoleRevoked            EventType = "role_revoked"
	PermissionGranted      EventType = "permission_granted"
	PermissionRevoked      EventType = "permission_revoked"
	PolicyViolation        EventType = "policy_violation"
	InputValidationFailure EventType = "input_validation_failure"
	RateLimitExceeded      EventType = "rate_limit_exceeded"
	ConfigChange           EventType = "config_change"
	SecretAccess           EventType = "secret_access"
	DataExport             EventType = "data_export"
	TamperingDetected      EventType = "tampering_detected"
	// The event types the security audit of the Python module asks for.
	SessionCreated         EventType = "session_created"
	SessionExpired         EventType = "session_expired"
	TokenValidationFailure EventType = "token_validation_failure"
	AuthzGranted           EventType = "authz_granted"
	PrivilegeEscalation    EventType = "privilege_escalation"
	DataAccessViolation    EventType = "data_access_violation"
	SecurityControlBypass  EventType = "security_control_bypass"
	SuspiciousActivity     EventType = "suspicious_activity"
	// SecretExposure is raised by the package itself, the first time a
	// value registered with Mask (or taken from the environment) is masked
	// in a record: the program logs its own credential.
	SecretExposure EventType = "secret_exposure"
)

// EventTypes returns every built-in event type, in a new slice.
func EventTypes() []EventType {
	return []EventType{
		AuthnSuccess, AuthnFailure, Logout, MFAChallenge, MFASuccess, MFAFailure, AuthzDenied,
		RoleGranted, RoleRevoked, PermissionGranted, PermissionRevoked, PolicyViolation,
		InputValidationFailure, RateLimitExceeded, ConfigChange, SecretAccess, DataExport, TamperingDetected,
		SessionCreated, SessionExpired, TokenValidationFailure, AuthzGranted, PrivilegeEscalation,
		DataAccessViolation, SecurityControlBypass, SuspiciousActivity, SecretExposure,
	}
}

// Outcome is how the decision ended.
type Outcome string

// Outcomes.
const (
	OutcomeSuccess Outcome = "success"
	OutcomeFailure Outcome = "failure"
	OutcomeDenied  Outcome = "denied"
	OutcomeUnknown Outcome = "unknown"
)

// Severity sets the record's level: low is INFO, medium WARNING, high ERROR,
// critical CRITICAL. The zero value takes the event type's default.
type Severity string

// Severities.
const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// ThreatLevel is the program's estimate of the threat behind the event.
type ThreatLevel string

// Threat levels.
const (
	ThreatNone     ThreatLevel = "none"
	ThreatLow      ThreatLevel = "low"
	ThreatMedium   ThreatLevel = "medium"
	ThreatHigh     ThreatLevel = "high"
	ThreatCritical ThreatLevel = "critical"
)

// Event is one security-relevant decision, logged by [SecurityEvent].
type Event struct {
	Type        EventType
	UserID      string
	IP          string
	UserAgent   string
	Resource    string
	Action      string
	Outcome     Outcome
	Severity    Severity
	ThreatLevel ThreatLevel
	Reason      string
	// Attrs are further attributes, after the labels.
	Attrs []slog.Attr

	// resourceRedacted: Resource is Middleware's path, redacted part by
	// part (see preRedacted).
	resourceRedacted bool
}

// defaultSeverity is the severity of an event type when Event.Severity is empty.
func defaultSeverity(t EventType) Severity {
	switch t {
	case AuthnSuccess, Logout, MFAChallenge, MFASuccess, ConfigChange, SecretAccess, DataExport,
		SessionCreated, SessionExpired, AuthzGranted:
		return SeverityLow
	case TamperingDetected, PrivilegeEscalation, SecurityControlBypass:
		return SeverityCritical
	case PolicyViolation, SecretExposure, DataAccessViolation, SuspiciousActivity:
		return SeverityHigh
	}
	return SeverityMedium
}

func (s Severity) level() slog.Level {
	switch s {
	case SeverityLow:
		return slog.LevelInfo
	case SeverityHigh:
		return slog.LevelError
	case SeverityCritical:
		return LevelCritical
	}
	return slog.LevelWarn
}

// securityLabels are the names of the labels a security event carries, which
// alert rules and queries select by. They always keep their names on an
// event: process attrs may not take them (Setup refuses), and an attr of
// the same name from elsewhere (With, the context, Event.Attrs) is written
// as name#2.
var securityLabels = [...]string{"security_event_type", "user_id", "ip_address", "user_agent",
	"resource", "action", "outcome", "severity", "threat_level", "reason"}

// eventRecord is the record of the event e, of severity sev, logged at pc:
// the fixed labels (security_event_type, outcome, severity and
// threat_level always; user_id, ip_address, user_agent, resource and
// action when the event has them), then the reason and e.Attrs.
func eventRecord(e Event, sev Severity, pc uintptr) slog.Record {
	outcome, threat := e.Outcome, e.ThreatLevel
	if outcome == "" {
		outcome = OutcomeUnknown
	}
	if threat == "" {
		threat = ThreatNone
	}
	r := slog.NewRecord(time.Now(), sev.level(), "security event: "+string(e.Type), pc)
	r.AddAttrs(slog.String("security_event_type", string(e.Type)))
	resource := slog.String("resource", e.Resource)
	if e.resourceRedacted {
		resource = slog.Any("resource", preRedacted(e.Resource))
	}
	for _, a := range [...]slog.Attr{ // the labels the event has: an empty one is left out
		slog.String("user_id", e.UserID), slog.String("ip_address", e.IP), slog.String("user_agent", e.UserAgent),
		resource, slog.String("action", e.Action),
	} {
		if a.Value.String() != "" {
			r.AddAttrs(a)
		}
	}
	r.AddAttrs(
		slog.String("outcome", string(outcome)),
		slog.String("severity", string(sev)),
		slog.String("threat_level", string(threat)),
	)
	if e.Reason != "" {
		r.AddAttrs(slog.String("reason", e.Reason))
	}
	r.AddAttrs(e.Attrs...)
	return r
}

// securityLogger is the logger of security events: it is never rate limited
// and, unless WithSecurityLevel says otherwise, lets WARNING and above through
// whatever CODOMYRMEX_LOG_LEVEL says.
var securityLogger = slog.New(&namedHandler{name: "security", security: true})

// SecurityLogger returns the logger that SecurityEvent uses, named "security".
func SecurityLogger() *slog.Logger { return securityLogger }

// SecurityEvent logs e under the logger "security" with the labels
// security_event_type, user_id, ip_address, user_agent, resource, action,
// outcome, severity and threat_level, then reason, e.Attrs and the context
// ids. Its level follows the severity. The values pass the same redactor and
// sanitizer as every record; security events are never rate limited, and if
// CODOMYRMEX_LOG_SECURITY_FILE is set they are also written to that file.
func SecurityEvent(ctx context.Context, e Event) {
	var pcs [1]uintptr
	runtime.Callers(2, pcs[:])
	securityEvent(ctx, e, pcs[0])
}

// securityEvent is SecurityEvent with the record's source given: the
// caller's, or 0 for the package's own events (Middleware's), which have no
// source in the application.
func securityEvent(ctx context.Context, e Event, pc uintptr) {
	if ctx == nil {
		ctx = context.Background()
	}
	sev := e.Severity
	if sev == "" {
		sev = defaultSeverity(e.Type)
	}
	level := sev.level()
	h := securityLogger.Handler()
	if !h.Enabled(ctx, level) {
		return
	}
	if e.UserID == "" {
		e.UserID = ContextValue(ctx, KeyUserID)
	}
	r := eventRecord(e, sev, pc)
	_ = h.Handle(withoutRepeats(ctx, func(k, v string) bool { // a label says it already
		return (k == KeyUserID && v == e.UserID) || (k == "ip_address" && v == e.IP)
	}), r)
}
