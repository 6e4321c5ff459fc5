package desk

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/fxbus/fxbus/topics"
)

// Store is the desk's data, in memory: visitors, threads and their
// messages, operators, bans, tickets, documents, user accounts, sessions
// and the messages published to channels. It is safe for use by any
// number of goroutines. It hands out copies: changing what it returned
// never changes what it holds.
type Store struct {
	limits Limits

	mu sync.RWMutex

	bytes     int64            // content held: message bodies, documents, channel messages
	lastID    map[string]int64 // by kind of record
	visitors  map[topics.UserID]*topics.Visitor
	byVisitor []*topics.Visitor // by ID
	threads   map[topics.ThreadID]*topics.Thread
	messages  map[topics.ThreadID][]topics.Message
	operators map[topics.OperatorID]*topics.Operator
	online    map[topics.OperatorID]bool
	bans      []storedBan
	tickets   map[int64]topics.Ticket
	documents map[int64]*topics.Document
	accounts  map[string]*account // by login
	sessions  map[string]Session  // by token
	channels  map[topics.Channel][]string
}

// storedBan is a ban and the visitor it was asked for.
type storedBan struct {
	ban    topics.Ban
	userID topics.UserID
}

// account is a registered user and the hash of their password.
type account struct {
	topics.Account
	salt, hash []byte
}

// Session is a logged-in caller: a user, or an operator signed in through
// single sign-on. Its token is the bearer token of their requests.
type Session struct {
	// UserID identifies the caller; "operator:<login>" for an operator.
	UserID string
	// Roles are the caller's roles, such as "user" or "operator".
	Roles []string
	// Operator is the operator signed in; zero for anyone else.
	Operator topics.OperatorID
	// Visitor is the visitor whose session it is; "" for anyone else.
	Visitor topics.UserID
}

// NewStore returns an empty store within cfg.Limits.
func NewStore(cfg Config) *Store {
	return &Store{
		limits:    cfg.Limits.withDefaults(),
		lastID:    map[string]int64{},
		visitors:  map[topics.UserID]*topics.Visitor{},
		threads:   map[topics.ThreadID]*topics.Thread{},
		messages:  map[topics.ThreadID][]topics.Message{},
		operators: map[topics.OperatorID]*topics.Operator{},
		online:    map[topics.OperatorID]bool{},
		tickets:   map[int64]topics.Ticket{},
		documents: map[int64]*topics.Document{},
		accounts:  map[string]*account{},
		sessions:  map[string]Session{},
		channels:  map[topics.Channel][]string{},
	}
}

// Limits returns the store's limits.
func (s *Store) Limits() Limits { return s.limits }

// nextID returns a new id for a record of a kind, such as "thread":
// 1, 2, 3... The caller holds mu.
func (s *Store) nextID(kind string) int64 {
	s.lastID[kind]++
	return s.lastID[kind]
}

// room returns an [ErrFull] error if a record of kind, of which the
// store holds n, and of size bytes of content, would take the store
// beyond its limits. The caller holds mu.
func (s *Store) room(kind string, n int, size int) error {
	if n >= s.limits.MaxRecords {
		return fmt.Errorf("%w: it holds %d %ss, its limit", ErrFull, n, kind)
	}
	if s.bytes+int64(size) > s.limits.MaxStoreBytes {
		return fmt.Errorf("%w: a %s of %d bytes would take it beyond its %d bytes", ErrFull, kind, size, s.limits.MaxStoreBytes)
	}
	return nil
}

// page returns the records with ids after after, at most limit of them,
// in order, from get of the ids 1 to last (the ids of a kind, which the
// store never deletes), and the id of the last one when there may be
// more.
func page[T any](last, after int64, limit int, get func(int64) (T, bool)) ([]T, int64) {
	out := make([]T, 0, min(int64(limit), max(last-after, 0)))
	id := after
	for id < last && len(out) < limit {
		id++
		if v, ok := get(id); ok {
			out = append(out, v)
		}
	}
	if id < last {
		return out, id
	}
	return out, 0
}

// TrackVisitor records that the visitor v.UserID was seen at now: a new
// visitor is stored with a new ID; a known one gets v's name, agent and
// address, when given, and its last time. It returns the visitor as stored
// and whether it is new.
func (s *Store) TrackVisitor(v topics.Visitor, now time.Time) (topics.Visitor, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.visitors[v.UserID]; ok {
		old.UserName = cmp.Or(v.UserName, old.UserName)
		old.UserAgent = cmp.Or(v.UserAgent, old.UserAgent)
		if v.UserIP.IsValid() {
			old.UserIP = v.UserIP
		}
		old.Remote = cmp.Or(v.Remote, old.Remote)
		old.LastTime = now
		return *old, false, nil
	}
	if err := s.room("visitor", len(s.visitors), 0); err != nil {
		return topics.Visitor{}, false, err
	}
	v.ID = topics.VisitorID(s.nextID("visitor"))
	v.FirstTime, v.LastTime = now, now
	v.Invitation = nil
	s.visitors[v.UserID] = &v
	s.byVisitor = append(s.byVisitor, &v)
	return v, true, nil
}

// Visitor returns the visitor userID.
func (s *Store) Visitor(userID topics.UserID) (topics.Visitor, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.visitors[userID]
	if !ok {
		return topics.Visitor{}, false
	}
	return *v, true
}

// Visitors returns a page of the visitors, by ID: those after the ID
// after, at most limit, and the ID after which the next page starts; 0
// for none.
func (s *Store) Visitors(after topics.VisitorID, limit int) ([]topics.Visitor, topics.VisitorID) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out, next := page(int64(len(s.byVisitor)), int64(after), limit, func(id int64) (topics.Visitor, bool) {
		return *s.byVisitor[id-1], true
	})
	return out, topics.VisitorID(next)
}

// VisitorCount returns how many visitors the store holds.
func (s *Store) VisitorCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.visitors)
}

// CreateThread stores t with a new ID and counts a chat for its visitor.
func (s *Store) CreateThread(t topics.Thread) (topics.Thread, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.room("thread", len(s.threads), 0); err != nil {
		return topics.Thread{}, err
	}
	t.ID = topics.ThreadID(s.nextID("thread"))
	s.threads[t.ID] = &t
	if v, ok := s.visitors[t.UserID]; ok {
		v.Chats++
	}
	return t, nil
}

// Thread returns the thread id.
func (s *Store) Thread(id topics.ThreadID) (topics.Thread, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.threads[id]
	if !ok {
		return topics.Thread{}, false
	}
	return *t, true
}

// Threads returns a page of the threads, by ID, as [Store.Visitors] does.
func (s *Store) Threads(after topics.ThreadID, limit int) ([]topics.Thread, topics.ThreadID) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out, next := page(s.lastID["thread"], int64(after), limit, func(id int64) (topics.Thread, bool) {
		t, ok := s.threads[topics.ThreadID(id)]
		if !ok {
			return topics.Thread{}, false
		}
		return *t, true
	})
	return out, topics.ThreadID(next)
}

// UpdateThread changes the thread id with change, under the store's lock,
// and returns the thread before and after. A change that returns an error
// changes nothing. It returns false when there is no such thread.
func (s *Store) UpdateThread(id topics.ThreadID, change func(*topics.Thread) error) (before, after topics.Thread, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.threads[id]
	if !ok {
		return topics.Thread{}, topics.Thread{}, false, nil
	}
	before, after = *t, *t
	if err := change(&after); err != nil {
		return before, before, true, err
	}
	after.ID = id
	*t = after
	return before, after, true, nil
}

// AddMessage stores m with a new ID at the end of its thread, or returns
// an [ErrFull] error.
func (s *Store) AddMessage(m topics.Message) (topics.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.messages[m.ThreadID]); n >= s.limits.MaxMessagesPerThread {
		return topics.Message{}, fmt.Errorf("%w: thread %d has %d messages, its limit", ErrFull, m.ThreadID, n)
	}
	if err := s.room("message", 0, len(m.Body)); err != nil {
		return topics.Message{}, err
	}
	s.bytes += int64(len(m.Body))
	m.ID = topics.MessageID(s.nextID("message"))
	m.Data = maps.Clone(m.Data)
	s.messages[m.ThreadID] = append(s.messages[m.ThreadID], m)
	m.Data = maps.Clone(m.Data)
	return m, nil
}

// Messages returns a page of the messages of thread id, oldest first:
// those after the message after, at most limit, and the message after
// which the next page starts; 0 for none. It copies only the page.
func (s *Store) Messages(id topics.ThreadID, after topics.MessageID, limit int) ([]topics.Message, topics.MessageID) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ms := s.messages[id]
	i, _ := slices.BinarySearchFunc(ms, after, func(m topics.Message, id topics.MessageID) int { return cmp.Compare(m.ID, id) })
	if i < len(ms) && ms[i].ID == after {
		i++
	}
	end := min(i+limit, len(ms))
	out := slices.Clone(ms[i:end])
	for i := range out {
		out[i].Data = maps.Clone(out[i].Data)
	}
	if end < len(ms) && len(out) > 0 {
		return out, out[len(out)-1].ID
	}
	return out, 0
}

// SignInOperator stores op, a new ID when its login is new, and marks it
// online. It returns the operator as stored.
func (s *Store) SignInOperator(op topics.Operator, now time.Time) (topics.Operator, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	op.Groups = slices.Clone(op.Groups)
	op.LastVisited = now
	op.ID = 0
	for id, o := range s.operators {
		if o.Login == op.Login {
			op.ID = id
		}
	}
	if op.ID == 0 {
		if err := s.room("operator", len(s.operators), 0); err != nil {
			return topics.Operator{}, err
		}
		op.ID = topics.OperatorID(s.nextID("operator"))
	}
	s.operators[op.ID] = &op
	s.online[op.ID] = true
	return cloneOperator(op), nil
}

// Operator returns the operator id.
func (s *Store) Operator(id topics.OperatorID) (topics.Operator, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	op, ok := s.operators[id]
	if !ok {
		return topics.Operator{}, false
	}
	return cloneOperator(*op), true
}

// Operators returns a page of the operators, by ID, as [Store.Visitors]
// does, and which of them are online.
func (s *Store) Operators(after topics.OperatorID, limit int) ([]topics.Operator, map[topics.OperatorID]bool, topics.OperatorID) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	online := map[topics.OperatorID]bool{}
	out, next := page(s.lastID["operator"], int64(after), limit, func(id int64) (topics.Operator, bool) {
		op, ok := s.operators[topics.OperatorID(id)]
		if !ok {
			return topics.Operator{}, false
		}
		online[op.ID] = s.online[op.ID]
		return cloneOperator(*op), true
	})
	return out, online, topics.OperatorID(next)
}

// OperatorsOnline counts the operators online.
func (s *Store) OperatorsOnline() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.online)
}

func cloneOperator(op topics.Operator) topics.Operator {
	op.Groups = slices.Clone(op.Groups)
	return op
}

// AddBan stores b with a new ID, for the visitor userID, and returns it.
func (s *Store) AddBan(b topics.Ban, userID topics.UserID) (topics.Ban, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.room("ban", len(s.bans), 0); err != nil {
		return topics.Ban{}, err
	}
	b.ID = topics.BanID(s.nextID("ban"))
	s.bans = append(s.bans, storedBan{ban: b, userID: userID})
	return b, nil
}

// BanRecord is a stored ban and the visitor it was asked for.
type BanRecord struct {
	topics.Ban
	// UserID is the visitor the ban was asked for; "" for an address only.
	UserID topics.UserID
}

// Bans returns a page of the bans, oldest first, expired or not, as
// [Store.Visitors] does.
func (s *Store) Bans(after topics.BanID, limit int) ([]BanRecord, topics.BanID) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out, next := page(int64(len(s.bans)), int64(after), limit, func(id int64) (BanRecord, bool) {
		b := s.bans[id-1]
		return BanRecord{Ban: b.ban, UserID: b.userID}, true
	})
	return out, topics.BanID(next)
}

// ActiveBan returns a ban in force at now for the visitor userID or the
// address addr, if there is one.
func (s *Store) ActiveBan(userID topics.UserID, addr netip.Addr, now time.Time) (BanRecord, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, b := range s.bans {
		if !now.Before(b.ban.Until) {
			continue
		}
		if (userID != "" && b.userID == userID) || (addr.IsValid() && b.ban.Address == addr) {
			return BanRecord{Ban: b.ban, UserID: b.userID}, true
		}
	}
	return BanRecord{}, false
}

// CreateTicket stores t with a new ID and, unless it has one, a reference
// such as "R-000012" for a request or "I-000013" for an incident. It
// returns a copy.
func (s *Store) CreateTicket(t topics.Ticket) (topics.Ticket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.room("ticket", len(s.tickets), 0); err != nil {
		return nil, err
	}
	t = cloneTicket(t)
	info := t.Ticket()
	info.ID = s.nextID("ticket")
	if info.Ref == "" {
		info.Ref = fmt.Sprintf("%s-%06d", refPrefix(t), info.ID)
	}
	s.tickets[info.ID] = t
	return cloneTicket(t), nil
}

// Ticket returns the ticket id.
func (s *Store) Ticket(id int64) (topics.Ticket, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tickets[id]
	if !ok {
		return nil, false
	}
	return cloneTicket(t), true
}

// Tickets returns a page of the tickets, by ID, as [Store.Visitors] does.
func (s *Store) Tickets(after int64, limit int) ([]topics.Ticket, int64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return page(s.lastID["ticket"], after, limit, func(id int64) (topics.Ticket, bool) {
		t, ok := s.tickets[id]
		if !ok {
			return nil, false
		}
		return cloneTicket(t), true
	})
}

// UpdateTicket changes the ticket id with change, under the store's lock,
// and returns it after. A change that returns an error changes nothing. It
// returns false when there is no such ticket.
func (s *Store) UpdateTicket(id int64, change func(topics.Ticket) error) (topics.Ticket, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tickets[id]
	if !ok {
		return nil, false, nil
	}
	next := cloneTicket(t)
	if err := change(next); err != nil {
		return cloneTicket(t), true, err
	}
	next.Ticket().ID = id
	s.tickets[id] = next
	return cloneTicket(next), true, nil
}

// refPrefix is the prefix of the references of t's class.
func refPrefix(t topics.Ticket) string {
	switch t.(type) {
	case *topics.UserRequest:
		return "R"
	case *topics.Incident:
		return "I"
	}
	return "T"
}

// cloneTicket copies the ticket types of package topics; any other Ticket
// is returned as it is.
func cloneTicket(t topics.Ticket) topics.Ticket {
	switch t := t.(type) {
	case *topics.UserRequest:
		c := *t
		return &c
	case *topics.Incident:
		c := *t
		return &c
	}
	return t
}

// AddDocument stores d with a new ID and returns it.
func (s *Store) AddDocument(d topics.Document) (topics.Document, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.room("document", len(s.documents), len(d.File.Data)); err != nil {
		return topics.Document{}, err
	}
	s.bytes += int64(len(d.File.Data))
	d.ID = s.nextID("document")
	d.File.Data = slices.Clone(d.File.Data)
	s.documents[d.ID] = &d
	return cloneDocument(d), nil
}

// Document returns the document id.
func (s *Store) Document(id int64) (topics.Document, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.documents[id]
	if !ok {
		return topics.Document{}, false
	}
	return cloneDocument(*d), true
}

func cloneDocument(d topics.Document) topics.Document {
	d.File.Data = slices.Clone(d.File.Data)
	return d
}

// AddAccount stores a new user account, with a new UserID, and the salt
// and hash of its password. It returns false, storing nothing, when the
// login is taken.
func (s *Store) AddAccount(a topics.Account, salt, hash []byte) (topics.Account, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.accounts[a.Login]; ok {
		return topics.Account{}, false, nil
	}
	if err := s.room("account", len(s.accounts), 0); err != nil {
		return topics.Account{}, false, err
	}
	a.UserID = "u" + strconv.FormatInt(s.nextID("user"), 10)
	stored := a
	stored.Roles = slices.Clone(a.Roles)
	s.accounts[a.Login] = &account{Account: stored, salt: slices.Clone(salt), hash: slices.Clone(hash)}
	return a, true, nil
}

// Account returns the account of login, and the salt and hash of its
// password.
func (s *Store) Account(login string) (a topics.Account, salt, hash []byte, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	acc, ok := s.accounts[login]
	if !ok {
		return topics.Account{}, nil, nil, false
	}
	a = acc.Account
	a.Roles = slices.Clone(a.Roles)
	return a, slices.Clone(acc.salt), slices.Clone(acc.hash), true
}

// AddSession stores the session of a bearer token.
func (s *Store) AddSession(token string, sess Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.room("session", len(s.sessions), 0); err != nil {
		return err
	}
	sess.Roles = slices.Clone(sess.Roles)
	s.sessions[token] = sess
	return nil
}

// Session returns the session of a bearer token.
func (s *Store) Session(token string) (Session, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sess, ok := s.sessions[token]
	sess.Roles = slices.Clone(sess.Roles)
	return sess, ok
}

// Publish appends msg to channel c and returns its id.
func (s *Store) Publish(c topics.Channel, msg string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.room("channel message", len(s.channels[c]), len(msg)); err != nil {
		return "", err
	}
	s.bytes += int64(len(msg))
	s.channels[c] = append(s.channels[c], msg)
	return string(c) + "-" + strconv.Itoa(len(s.channels[c])), nil
}

// ChannelMessages returns the messages published to channel c, oldest
// first.
func (s *Store) ChannelMessages(c topics.Channel) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.channels[c])
}

// Counts returns how many visitors, threads, messages, operators online,
// bans, tickets and documents the store holds, by name.
func (s *Store) Counts() map[string]int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, ms := range s.messages {
		n += len(ms)
	}
	return map[string]int{
		"bytes":    int(s.bytes),
		"visitors": len(s.visitors), "threads": len(s.threads), "messages": n,
		"operators_online": len(s.online), "bans": len(s.bans),
		"tickets": len(s.tickets), "documents": len(s.documents),
	}
}
