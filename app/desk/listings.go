package desk

import (
	"context"

	"github.com/fxbus/fxbus/topics"
)

// listing checks that the caller in ctx is an operator, and returns the
// page pg asks for.
func (s *Service) listing(ctx context.Context, pg Page) (after int64, limit int, err error) {
	if _, err := s.requireOperator(ctx); err != nil {
		return 0, 0, err
	}
	return pg.check(s.limits)
}

// Visitors returns a page of the visitors, by ID, and the cursor of the
// next page ("" for none), for an operator.
func (s *Service) Visitors(ctx context.Context, pg Page) ([]topics.Visitor, string, error) {
	after, limit, err := s.listing(ctx, pg)
	if err != nil {
		return nil, "", err
	}
	vs, next := s.store.Visitors(topics.VisitorID(after), limit)
	return vs, cursor(int64(next)), nil
}

// Threads returns a page of the threads, by ID, and the cursor of the
// next page, for an operator.
func (s *Service) Threads(ctx context.Context, pg Page) ([]topics.Thread, string, error) {
	after, limit, err := s.listing(ctx, pg)
	if err != nil {
		return nil, "", err
	}
	ts, next := s.store.Threads(topics.ThreadID(after), limit)
	return ts, cursor(int64(next)), nil
}

// Operators returns a page of the operators, by ID, which of them are
// online, and the cursor of the next page, for an operator.
func (s *Service) Operators(ctx context.Context, pg Page) ([]topics.Operator, map[topics.OperatorID]bool, string, error) {
	after, limit, err := s.listing(ctx, pg)
	if err != nil {
		return nil, nil, "", err
	}
	ops, online, next := s.store.Operators(topics.OperatorID(after), limit)
	return ops, online, cursor(int64(next)), nil
}

// Bans returns a page of the bans, oldest first, and the cursor of the
// next page, for an operator.
func (s *Service) Bans(ctx context.Context, pg Page) ([]BanRecord, string, error) {
	after, limit, err := s.listing(ctx, pg)
	if err != nil {
		return nil, "", err
	}
	bs, next := s.store.Bans(topics.BanID(after), limit)
	return bs, cursor(int64(next)), nil
}
