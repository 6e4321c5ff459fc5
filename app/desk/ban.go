package desk

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/topics"
)

// BanListenerRank is the rank of the desk's own listener on
// [topics.ModerationBanRequested]: late, so that any listener before it
// can refuse the ban by returning an error.
const BanListenerRank = 1000

// NewBanListener returns the desk's own listener on
// [topics.ModerationBanRequested]: it stores the ban, for the visitor and
// their address (the visitor's last known one when the request has none),
// for cfg.BanDuration; sets [topics.BanRequest.Ban]; and publishes
// [topics.BanCreated] on bs. The failures of BanCreated's listeners
// are logged: the ban is stored.
func NewBanListener(store *Store, bs *bus.Bus, cfg Config, log *slog.Logger) func(context.Context, *topics.BanRequest) error {
	return func(ctx context.Context, req *topics.BanRequest) error {
		if req.UserID == "" && req.Address == "" {
			return errors.New("desk: the ban request names neither a visitor nor an address")
		}
		var addr netip.Addr
		if req.Address != "" {
			a, err := netip.ParseAddr(req.Address)
			if err != nil {
				return fmt.Errorf("desk: ban request: %w", err)
			}
			addr = a
		} else if v, ok := store.Visitor(req.UserID); ok {
			addr = v.UserIP
		}
		now := time.Now()
		comment := cmp.Or(req.Reason, "no reason given")
		if req.By != "" {
			comment += " (" + req.By + ")"
		}
		b, err := store.AddBan(topics.Ban{Address: addr, Comment: comment, Created: now, Until: now.Add(cfg.BanDuration)}, req.UserID)
		if err != nil {
			return err
		}
		req.Ban = &b
		e := b
		if err := topics.BanCreated.Publish(ctx, bs, &topics.BanEvent{Ban: &e}); err != nil {
			log.WarnContext(ctx, "desk: listeners failed", "err", err)
		}
		return nil
	}
}
