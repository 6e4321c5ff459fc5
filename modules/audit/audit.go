package audit

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/topics"
)

// Rank is the rank of the module's listeners: lower than any other
// module's, so that the trail records an event before the others run.
const Rank = -100

// Module provides the [*Log] and records in it the events of the desk's
// create, update and delete topics, at [Rank]: bans, groups and their
// members, operators (and their logins and logouts), threads, visitors,
// invitations made, objects, and moderators' ban requests. It takes a
// [Config] from the container if there is one.
var Module = fx.Module("audit",
	fx.Provide(NewLog),

	hear(topics.BanCreated, func(e *topics.BanEvent) string { return "created " + ban(e.Ban) }),
	hear(topics.BanUpdated, func(e *topics.BanUpdate) string { return "updated " + ban(e.Ban) }),
	hear(topics.BanDeleted, func(e *topics.BanDeletion) string { return fmt.Sprintf("deleted ban %d", e.ID) }),

	hear(topics.GroupCreated, func(e *topics.GroupEvent) string { return "created " + group(e.Group) }),
	hear(topics.GroupUpdated, func(e *topics.GroupUpdate) string { return "updated " + group(e.Group) }),
	hear(topics.GroupDeleted, func(e *topics.GroupDeletion) string { return fmt.Sprintf("deleted group %d", e.ID) }),
	hear(topics.GroupOperatorsUpdated, func(e *topics.GroupOperatorsUpdate) string {
		return fmt.Sprintf("operators of %s: %v -> %v", group(e.Group), e.Original, e.Operators)
	}),

	hear(topics.OperatorCreated, func(e *topics.OperatorEvent) string { return "created " + operator(e.Operator) }),
	hear(topics.OperatorUpdated, func(e *topics.OperatorUpdate) string { return "updated " + operator(e.Operator) }),
	hear(topics.OperatorDeleted, func(e *topics.OperatorDeletion) string {
		return fmt.Sprintf("deleted operator %d", e.ID)
	}),
	hear(topics.OperatorLoggedIn, func(e *topics.OperatorLogin) string { return "logged in " + operator(e.Operator) }),
	hear(topics.OperatorLoggedOut, func(e *topics.OperatorLogout) string { return "logged out " + operator(e.Operator) }),

	hear(topics.ThreadCreated, func(e *topics.ThreadEvent) string { return "created " + thread(e.Thread) }),
	hear(topics.ThreadUpdated, func(e *topics.ThreadUpdate) string { return "updated " + thread(e.Thread) }),
	hear(topics.ThreadDeleted, func(e *topics.ThreadDeletion) string { return fmt.Sprintf("deleted thread %d", e.ID) }),
	hear(topics.ThreadClosed, func(e *topics.ThreadEvent) string { return "closed " + thread(e.Thread) }),

	hear(topics.VisitorCreated, func(e *topics.VisitorEvent) string { return "created " + visitor(e.Visitor) }),
	hear(topics.VisitorOldDeleted, func(e *topics.OldVisitorsDeletion) string {
		return fmt.Sprintf("deleted %d old visitor(s) %v", len(e.IDs), e.IDs)
	}),

	hear(topics.InvitationCreated, func(e *topics.InvitationEvent) string {
		if e.Invitation == nil {
			return "created invitation"
		}
		return fmt.Sprintf("operator %d invited visitor %d", e.Invitation.OperatorID, e.Invitation.VisitorID)
	}),

	hear(topics.ObjectCreated, func(e *topics.ObjectEvent) string { return "created " + object(e.Object) }),
	hear(topics.ObjectUpdated, func(e *topics.ObjectUpdate) string {
		return fmt.Sprintf("updated %s: %s", object(e.Object), strings.Join(slices.Sorted(maps.Keys(e.Changes)), ", "))
	}),
	hear(topics.ObjectDeleted, func(e *topics.ObjectEvent) string { return "deleted " + object(e.Object) }),

	hear(topics.ModerationBanRequested, func(e *topics.BanRequest) string {
		return fmt.Sprintf("%s asks to ban visitor %q: %s", e.By, e.UserID, e.Reason)
	}),
)

// hear contributes the listener that records the events of t, summed up
// by summary, at [Rank]. Its listeners are all named "audit.record".
func hear[T any](t *bus.Topic[T], summary func(*T) string) fx.Option {
	return bus.Listen(t, func(l *Log) func(context.Context, *T) error {
		name := t.Name()
		return func(ctx context.Context, e *T) error {
			l.Add(ctx, name, summary(e))
			return nil
		}
	}, bus.Rank(Rank), bus.Name("audit.record"))
}

func ban(b *topics.Ban) string {
	if b == nil {
		return "ban"
	}
	s := fmt.Sprintf("ban %d of %s", b.ID, b.Address)
	if !b.Until.IsZero() {
		s += " until " + b.Until.UTC().Format(time.RFC3339)
	}
	if b.Comment != "" {
		s += ": " + b.Comment
	}
	return s
}

func group(g *topics.Group) string {
	if g == nil {
		return "group"
	}
	return fmt.Sprintf("group %d %q", g.ID, g.Name)
}

func operator(o *topics.Operator) string {
	if o == nil {
		return "operator"
	}
	return fmt.Sprintf("operator %d %q", o.ID, o.Login)
}

func thread(t *topics.Thread) string {
	if t == nil {
		return "thread"
	}
	return fmt.Sprintf("thread %d (%s) of visitor %q", t.ID, t.State, t.UserID)
}

func visitor(v *topics.Visitor) string {
	if v == nil {
		return "visitor"
	}
	return fmt.Sprintf("visitor %d %q", v.ID, v.UserID)
}

func object(o topics.Object) string {
	if o == nil {
		return "object"
	}
	return fmt.Sprintf("%s %d", o.Class(), o.ObjectID())
}
