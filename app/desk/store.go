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
	mu sync.RWMutex

	lastID    map[string]int64 // by kind of record
	visitors  map[topics.UserID]*topics.Visitor
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
	// Operator is the operator signed in; zero for a user.
	Operator topics.OperatorID
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{
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

// nextID returns a new id for a record of a kind, such as "thread":
// 1, 2, 3... The caller holds mu.
func (s *Store) nextID(kind string) int64 {
	s.lastID[kind]++
	return s.lastID[kind]
}

// TrackVisitor records that the visitor v.UserID was seen at now: a new
// visitor is stored with a new ID; a known one gets v's name, agent and
// address, when given, and its last time. It returns the visitor as stored
// and whether it is new.
func (s *Store) TrackVisitor(v topics.Visitor, now time.Time) (topics.Visitor, bool) {
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
		return *old, false
	}
	v.ID = topics.VisitorID(s.nextID("visitor"))
	v.FirstTime, v.LastTime = now, now
	v.Invitation = nil
	s.visitors[v.UserID] = &v
	return v, true
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

// Visitors returns every visitor, by ID.
func (s *Store) Visitors() []topics.Visitor {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]topics.Visitor, 0, len(s.visitors))
	for _, v := range s.visitors {
		out = append(out, *v)
	}
	slices.SortFunc(out, func(a, b topics.Visitor) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// CreateThread stores t with a new ID and counts a chat for its visitor.
func (s *Store) CreateThread(t topics.Thread) topics.Thread {
	s.mu.Lock()
	defer s.mu.Unlock()
	t.ID = topics.ThreadID(s.nextID("thread"))
	s.threads[t.ID] = &t
	if v, ok := s.visitors[t.UserID]; ok {
		v.Chats++
	}
	return t
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

// Threads returns every thread, by ID.
func (s *Store) Threads() []topics.Thread {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]topics.Thread, 0, len(s.threads))
	for _, t := range s.threads {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b topics.Thread) int { return cmp.Compare(a.ID, b.ID) })
	return out
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

// AddMessage stores m with a new ID at the end of its thread.
func (s *Store) AddMessage(m topics.Message) topics.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	m.ID = topics.MessageID(s.nextID("message"))
	m.Data = maps.Clone(m.Data)
	s.messages[m.ThreadID] = append(s.messages[m.ThreadID], m)
	m.Data = maps.Clone(m.Data)
	return m
}

// Messages returns the messages of thread id, oldest first.
func (s *Store) Messages(id topics.ThreadID) []topics.Message {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := slices.Clone(s.messages[id])
	for i := range out {
		out[i].Data = maps.Clone(out[i].Data)
	}
	return out
}

// SignInOperator stores op, a new ID when its login is new, and marks it
// online. It returns the operator as stored.
func (s *Store) SignInOperator(op topics.Operator, now time.Time) topics.Operator {
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
		op.ID = topics.OperatorID(s.nextID("operator"))
	}
	s.operators[op.ID] = &op
	s.online[op.ID] = true
	return cloneOperator(op)
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

// Operators returns every operator, by ID, and which are online.
func (s *Store) Operators() ([]topics.Operator, map[topics.OperatorID]bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]topics.Operator, 0, len(s.operators))
	for _, op := range s.operators {
		out = append(out, cloneOperator(*op))
	}
	slices.SortFunc(out, func(a, b topics.Operator) int { return cmp.Compare(a.ID, b.ID) })
	return out, maps.Clone(s.online)
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
func (s *Store) AddBan(b topics.Ban, userID topics.UserID) topics.Ban {
	s.mu.Lock()
	defer s.mu.Unlock()
	b.ID = topics.BanID(s.nextID("ban"))
	s.bans = append(s.bans, storedBan{ban: b, userID: userID})
	return b
}

// BanRecord is a stored ban and the visitor it was asked for.
type BanRecord struct {
	topics.Ban
	// UserID is the visitor the ban was asked for; "" for an address only.
	UserID topics.UserID
}

// Bans returns every ban, oldest first, expired or not.
func (s *Store) Bans() []BanRecord {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]BanRecord, len(s.bans))
	for i, b := range s.bans {
		out[i] = BanRecord{Ban: b.ban, UserID: b.userID}
	}
	return out
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
func (s *Store) CreateTicket(t topics.Ticket) topics.Ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	t = cloneTicket(t)
	info := t.Ticket()
	info.ID = s.nextID("ticket")
	if info.Ref == "" {
		info.Ref = fmt.Sprintf("%s-%06d", refPrefix(t), info.ID)
	}
	s.tickets[info.ID] = t
	return cloneTicket(t)
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

// Tickets returns every ticket, by ID.
func (s *Store) Tickets() []topics.Ticket {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]topics.Ticket, 0, len(s.tickets))
	for _, t := range s.tickets {
		out = append(out, cloneTicket(t))
	}
	slices.SortFunc(out, func(a, b topics.Ticket) int { return cmp.Compare(a.Ticket().ID, b.Ticket().ID) })
	return out
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
func (s *Store) AddDocument(d topics.Document) topics.Document {
	s.mu.Lock()
	defer s.mu.Unlock()
	d.ID = s.nextID("document")
	d.File.Data = slices.Clone(d.File.Data)
	s.documents[d.ID] = &d
	return cloneDocument(d)
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
func (s *Store) AddAccount(a topics.Account, salt, hash []byte) (topics.Account, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.accounts[a.Login]; ok {
		return topics.Account{}, false
	}
	a.UserID = "u" + strconv.FormatInt(s.nextID("user"), 10)
	stored := a
	stored.Roles = slices.Clone(a.Roles)
	s.accounts[a.Login] = &account{Account: stored, salt: slices.Clone(salt), hash: slices.Clone(hash)}
	return a, true
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
func (s *Store) AddSession(token string, sess Session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess.Roles = slices.Clone(sess.Roles)
	s.sessions[token] = sess
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
func (s *Store) Publish(c topics.Channel, msg string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels[c] = append(s.channels[c], msg)
	return string(c) + "-" + strconv.Itoa(len(s.channels[c]))
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
		"visitors": len(s.visitors), "threads": len(s.threads), "messages": n,
		"operators_online": len(s.online), "bans": len(s.bans),
		"tickets": len(s.tickets), "documents": len(s.documents),
	}
}
