package httpapi

import (
	"cmp"
	"net/netip"
	"time"

	"github.com/fxbus/fxbus/topics"
)

// The JSON forms of the domain's types in the HTTP API. Tickets and
// documents are records (see [TicketRecord], [DocumentRecord]).

// VisitorJSON is a visitor in the HTTP API.
type VisitorJSON struct {
	ID        int64     `json:"id"`
	UserID    string    `json:"user_id"`
	Name      string    `json:"name"`
	UserAgent string    `json:"user_agent,omitempty"`
	IP        string    `json:"ip,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Chats     int       `json:"chats"`
	New       bool      `json:"new,omitempty"`
	// Token, in the answer to a new visitor, is the bearer token of its
	// next requests: keep it.
	Token string `json:"token,omitempty"`
}

func visitorJSON(v topics.Visitor) VisitorJSON {
	return VisitorJSON{
		ID: int64(v.ID), UserID: string(v.UserID), Name: v.UserName, UserAgent: v.UserAgent,
		IP: addrString(v.UserIP), FirstSeen: v.FirstTime, LastSeen: v.LastTime, Chats: v.Chats,
	}
}

// ThreadJSON is a thread in the HTTP API.
type ThreadJSON struct {
	ID          int64      `json:"id"`
	State       string     `json:"state"`
	UserID      string     `json:"user_id"`
	UserName    string     `json:"user_name"`
	Remote      string     `json:"remote,omitempty"`
	Locale      string     `json:"locale"`
	GroupID     int64      `json:"group_id,omitempty"`
	AgentID     int64      `json:"agent_id,omitempty"`
	AgentName   string     `json:"agent_name,omitempty"`
	Created     time.Time  `json:"created"`
	Modified    time.Time  `json:"modified"`
	ChatStarted *time.Time `json:"chat_started,omitempty"`
	// UserReady, in the answer to a new chat, says whether an operator was
	// online to take it.
	UserReady *bool `json:"user_ready,omitempty"`
}

func threadJSON(t topics.Thread) ThreadJSON {
	j := ThreadJSON{
		ID: int64(t.ID), State: t.State.String(), UserID: string(t.UserID), UserName: t.UserName, Remote: t.Remote,
		Locale: t.Locale, GroupID: int64(t.GroupID), AgentID: int64(t.AgentID), AgentName: t.AgentName,
		Created: t.Created, Modified: t.Modified,
	}
	if !t.ChatStarted.IsZero() {
		j.ChatStarted = &t.ChatStarted
	}
	return j
}

// MessageJSON is a message in the HTTP API.
type MessageJSON struct {
	ID         int64          `json:"id"`
	ThreadID   int64          `json:"thread_id"`
	Kind       string         `json:"kind"`
	From       string         `json:"from,omitempty"`
	OperatorID int64          `json:"operator_id,omitempty"`
	Body       string         `json:"body"`
	Created    time.Time      `json:"created"`
	Plugin     string         `json:"plugin,omitempty"`
	Data       map[string]any `json:"data,omitempty"`
}

func messageJSON(m topics.Message) MessageJSON {
	return MessageJSON{
		ID: int64(m.ID), ThreadID: int64(m.ThreadID), Kind: m.Kind.String(), From: m.From,
		OperatorID: int64(m.OperatorID), Body: m.Body, Created: m.Created, Plugin: m.Plugin, Data: m.Data,
	}
}

// OperatorJSON is an operator in the HTTP API.
type OperatorJSON struct {
	ID     int64  `json:"id"`
	Login  string `json:"login"`
	Name   string `json:"name"`
	Email  string `json:"email,omitempty"`
	Online bool   `json:"online"`
}

func operatorJSON(op topics.Operator, online bool) OperatorJSON {
	return OperatorJSON{ID: int64(op.ID), Login: op.Login, Name: operatorName(op), Email: op.Email, Online: online}
}

// BanJSON is a ban in the HTTP API.
type BanJSON struct {
	ID      int64     `json:"id"`
	UserID  string    `json:"user_id,omitempty"`
	Address string    `json:"address,omitempty"`
	Comment string    `json:"comment"`
	Created time.Time `json:"created"`
	Until   time.Time `json:"until"`
}

func banJSON(b topics.Ban, userID topics.UserID) BanJSON {
	return BanJSON{
		ID: int64(b.ID), UserID: string(userID), Address: addrString(b.Address), Comment: b.Comment,
		Created: b.Created, Until: b.Until,
	}
}

// AssetJSON is a page asset in the HTTP API.
type AssetJSON struct {
	Kind    string `json:"kind"`
	Content string `json:"content"`
	Weight  int    `json:"weight"`
}

func assetsJSON(as []topics.Asset) []AssetJSON {
	out := make([]AssetJSON, len(as))
	for i, a := range as {
		kind := "relative_url"
		switch a.Kind {
		case topics.AssetKindAbsoluteURL:
			kind = "absolute_url"
		case topics.AssetKindInline:
			kind = "inline"
		}
		out[i] = AssetJSON{Kind: kind, Content: a.Content, Weight: a.Weight}
	}
	return out
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func operatorName(op topics.Operator) string { return cmp.Or(op.CommonName, op.LocalName, op.Login) }
