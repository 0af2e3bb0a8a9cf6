package eventstore

import (
	"context"

	"github.com/kuozheng/kuozheng/domain"
)

// WithNoticeNumber calls issue with the next notice number of prefix (domain.NoticePrefix): one
// above the highest this store has folded, from 0001. Calls for one prefix run one at a time, so
// a notice issue records (appending it before it returns) takes the number for good and the next
// call gets the following one: numbers are unique and contiguous per prefix among the writes of
// this store. Another replica's notices count once its follower has folded them; two replicas
// issuing notices of one prefix at the same moment could give one number twice.
func (s *Store) WithNoticeNumber(ctx context.Context, prefix string, issue func(number string) error) error {
	return s.WithNoticeNumbers(ctx, prefix, func(next int) error { return issue(domain.NoticeNumber(prefix, next)) })
}

// WithNoticeNumbers is WithNoticeNumber for several notices: issue gets the next number of
// prefix and may record notices numbered on from it, in order, before it returns.
func (s *Store) WithNoticeNumbers(ctx context.Context, prefix string, issue func(next int) error) error {
	unlock := s.locks.lock("notice:" + prefix)
	defer unlock()
	if err := s.CatchUp(ctx); err != nil {
		return err
	}
	s.mu.RLock()
	n := s.notices[prefix] + 1
	s.mu.RUnlock()
	return issue(n)
}
